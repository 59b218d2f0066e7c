FROM rust:1.77-bookworm
RUN cargo install sccache
ENV RUSTC_WRAPPER=/usr/local/cargo/bin/sccache SCCACHE_DIR=/sccache
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
RUN --mount=type=cache,target=/sccache \
    --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release && sccache --show-stats
