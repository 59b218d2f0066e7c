# lint: --engine buildah@1.28
FROM alpine:3.20
WORKDIR /src
RUN --mount=type=cache,target=cache echo hi > cache/x
