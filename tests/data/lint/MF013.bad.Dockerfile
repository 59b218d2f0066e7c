# lint: --engine buildkit
FROM alpine:3.20
RUN --mount=type=cache,target=/cache echo data > /cache/file && cat /cache/file && rm /cache/file
