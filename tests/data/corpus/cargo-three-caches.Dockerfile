FROM rust:1-bookworm
WORKDIR /work
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/work/target \
    cargo build --release --target-dir /work/out --locked
CMD ["/work/out/release/stats"]
