# lint: --engine buildkit
FROM node:22 AS base
FROM base AS web
RUN --mount=type=cache,target=/root/.npm npm ci
FROM base AS api
RUN --mount=type=cache,target=/root/.npm npm ci
FROM base
COPY --from=web /app /web
COPY --from=api /app /api
