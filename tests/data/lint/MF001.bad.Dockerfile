# lint: --engine buildah@1.39 --engine buildah@1.28
FROM alpine:3.20
RUN --mount=type=cache,id=ccache,target=/root/.ccache,sharing=locked \
    --mount=type=cache,id=ccache,target=/ccache,sharing=locked \
    echo built > /root/.ccache/stamp
