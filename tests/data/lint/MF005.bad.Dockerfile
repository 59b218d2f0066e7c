# lint: --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,target=/cache echo one > /cache/a
RUN --mount=type=cache,target=/cache/sub echo two > /cache/sub/b
