# syntax=docker/dockerfile:1
# A typical multi-stage service image: apt, cargo, go, npm and pip caches, 12 RUNs.
FROM debian:bookworm-slim AS base
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends ca-certificates curl git

FROM rust:1.83 AS rust
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    cargo fetch --locked
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked && cp target/release/server /usr/local/bin/server

FROM golang:1.23 AS go
WORKDIR /go/src/tool
COPY tool/ .
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -o /out/tool ./cmd/tool

FROM node:22 AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY web/ .
RUN --mount=type=cache,target=/root/.npm npm run build

FROM python:3.12-slim AS py
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip pip wheel -w /wheels -r requirements.txt

FROM base
COPY --from=rust /usr/local/bin/server /usr/local/bin/server
COPY --from=go /out/tool /usr/local/bin/tool
COPY --from=web /web/dist /srv/www
COPY --from=py /wheels /wheels
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends python3-pip
RUN useradd -m app
USER app
CMD ["server"]
