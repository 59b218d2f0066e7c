FROM alpine
RUN --mount=type=cache,target=/c <<-EOT
	echo tab > /c/t
	cat /c/t
	EOT
