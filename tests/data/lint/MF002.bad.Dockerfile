# lint: --engine buildkit
FROM ubuntu:24.04
RUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt/lists \
    apt-get update && apt-get install -y curl
