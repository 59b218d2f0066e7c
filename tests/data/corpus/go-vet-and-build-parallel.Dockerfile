FROM golang:1.22 AS src
WORKDIR /src
COPY . .

FROM src AS lint
RUN --mount=type=cache,target=/root/.cache/go-build go vet ./...

FROM src AS bin
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app .

FROM scratch
COPY --from=lint /src/go.mod /lint.ok
COPY --from=bin /out/app /app
