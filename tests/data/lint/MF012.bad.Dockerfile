# lint: --engine buildkit
FROM alpine:3.20 AS base
FROM base AS docs
RUN --mount=type=cache,id=index,target=/index touch /index/n && cat /index/n && echo docs > /index/n
FROM base AS app
RUN --mount=type=cache,id=index,target=/idx echo app > /idx/n
FROM base
COPY --from=docs / /docs
COPY --from=app / /app
