FROM rust:1.80 AS build
WORKDIR /app
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,id=cargo-reg \
    --mount=type=cache,target=/app/target,id=app-target \
    cargo build --release && \
    cp /app/target/release/app /usr/local/bin/app

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/app /usr/local/bin/app
