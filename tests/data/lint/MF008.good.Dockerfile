# lint: --engine buildkit
FROM node:22 AS base
FROM base AS web
RUN --mount=type=cache,target=/root/.npm-web npm ci --cache /root/.npm-web
FROM base AS api
RUN --mount=type=cache,target=/root/.npm-api npm ci --cache /root/.npm-api
FROM base
COPY --from=web /app /web
COPY --from=api /app /api
