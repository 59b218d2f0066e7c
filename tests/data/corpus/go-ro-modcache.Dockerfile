FROM golang:1.22 AS test
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod,ro \
    --mount=type=cache,target=/root/.cache/go-build \
    go test ./...
