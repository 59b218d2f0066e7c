FROM golang:1.23
WORKDIR /src
COPY go.* ./
RUN --mount=type=cache,target=/go/pkg/mod,sharing=locked \
    --mount=type=cache,target=/root/.cache/go-build \
    go mod download -x && go mod verify
