FROM rust:1
ENV CARGO_HOME=/opt/cargo
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=$CARGO_HOME/registry \
    --mount=type=cache,target=${CARGO_HOME}/git \
    cargo install --path . --root /usr/local
