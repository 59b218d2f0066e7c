# lint: --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,id=etc-cache,target=/c ls /c
