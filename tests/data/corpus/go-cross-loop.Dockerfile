FROM golang:1.22
ENV PLATFORMS="linux/amd64 linux/arm64 darwin/arm64"
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    bash -xc 'for p in $PLATFORMS; do GOOS=${p%/*} GOARCH=${p##*/} go build -o /out/tool-${p%/*}-${p##*/} . ; done'
