# lint: --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,id=outer,target=/cache echo one > /cache/a
RUN --mount=type=cache,id=inner,target=/cache/sub echo two > /cache/sub/b
