ARG MIRROR=example.registry
FROM ${MIRROR}/toolchain:builder AS builder
ADD . /src/
WORKDIR /src
RUN --mount=type=cache,target=/root/.cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release
RUN ls target/release

FROM ${MIRROR}/runtime:base
COPY --from=builder /src/target/release/server /app/
