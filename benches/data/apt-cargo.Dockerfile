# syntax=docker/dockerfile:1
# A Rust service image as many CI pipelines build it: apt under locked caches (the documented
# cure for apt's own lock), then cargo with a shared registry and a locked target dir.
FROM docker.io/library/rust:1.80-bookworm AS build
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean && \
    apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release && cp target/release/service /service
FROM docker.io/library/debian:bookworm-slim
COPY --from=build /service /usr/local/bin/service
