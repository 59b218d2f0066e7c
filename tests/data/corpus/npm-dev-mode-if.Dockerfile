FROM node:20-bookworm AS frontend
ARG DEV_MODE=false
WORKDIR /app/frontend
RUN --mount=type=bind,source=./frontend/package.json,target=./package.json \
    --mount=type=bind,source=./frontend/package-lock.json,target=./package-lock.json \
    --mount=type=cache,target=/root/.cache \
    --mount=type=cache,target=/root/.npm \
    if [ "$DEV_MODE" = "false" ]; then \
        PUPPETEER_SKIP_DOWNLOAD=true npm ci; \
    else \
        echo "Skipping 'npm ci' in dev mode"; \
    fi
