FROM --platform=$BUILDPLATFORM debian:bookworm
ARG TARGETARCH=amd64
RUN --mount=type=cache,id=apt-cache-$TARGETARCH,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=apt-lib-$TARGETARCH,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y gcc-x86-64-linux-gnu
