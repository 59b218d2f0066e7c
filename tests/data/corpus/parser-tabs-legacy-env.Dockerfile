FROM	ubuntu:14.04
LABEL	maintainer	Someone <someone@example.com>

# packaged dependencies, with the apt cache kept
RUN	--mount=type=cache,target=/var/cache/apt,sharing=locked \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -yq \
	build-essential \
	curl \
	git \
	--no-install-recommends
ENV	PATH	/usr/local/go/bin:$PATH
ENV	GOPATH	/go
ENV	CROSS	\
	linux/386 linux/arm \
	darwin/amd64
RUN	--mount=type=cache,target=/root/.cache/go-build \
	bash -xc 'for platform in $CROSS; do GOOS=${platform%/*} GOARCH=${platform##*/} go build ./... 2>&1; done'
WORKDIR	/go/src/example
COPY	.	/go/src/example
