# syntax=docker/dockerfile:1.7
FROM rust:1.81-slim AS deps
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target <<EOF
set -e
mkdir -p src
echo 'fn main() {}' > src/main.rs
cargo fetch --locked
cargo build --release --locked
test -d /src/target/release
EOF
