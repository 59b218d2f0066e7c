# lint: --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,id=../../../etc,target=/c ls /c
