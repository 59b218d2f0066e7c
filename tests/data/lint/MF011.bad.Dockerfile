# lint: --engine buildah@1.39
FROM rust:1.83
RUN --mount=type=cache,id=reg,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=tgt,target=/src/target,sharing=locked \
    echo a > /src/target/a
RUN --mount=type=cache,id=tgt,target=/src/target,sharing=locked \
    --mount=type=cache,id=reg,target=/usr/local/cargo/registry,sharing=locked \
    echo b > /src/target/b
