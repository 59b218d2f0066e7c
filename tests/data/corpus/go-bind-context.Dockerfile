FROM golang:1.22 AS build
WORKDIR /go/src/example.com/tool
RUN --mount=target=. --mount=target=/root/.cache,type=cache \
    go build -o /out/tool ./cmd/tool
