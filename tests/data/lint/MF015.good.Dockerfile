# lint: --engine buildkit
FROM alpine:3.20
RUN --mount=type=cache,id=data,target=/data,sharing=locked echo v1 > /data/v
RUN --mount=type=cache,id=data,target=/data,sharing=locked cat /data/v
