FROM rust:1 AS base
WORKDIR /ws
COPY . .

FROM base AS api
RUN --mount=type=cache,target=/ws/target,id=ws-target \
    cargo build -p api --release

FROM base AS worker
RUN --mount=type=cache,target=/ws/target,id=ws-target \
    cargo build -p worker --release

FROM debian:bookworm-slim
COPY --from=api /ws/Cargo.toml /api.toml
COPY --from=worker /ws/Cargo.toml /worker.toml
