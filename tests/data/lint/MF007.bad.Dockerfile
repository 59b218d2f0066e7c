# lint: --engine buildkit
FROM alpine:3.20
RUN --mount=type=cache,target=/cache cat /cache/prebuilt.tar > /prebuilt.tar
