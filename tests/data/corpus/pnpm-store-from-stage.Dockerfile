FROM node:22-alpine AS login-pnpm
ENV PNPM_HOME=/pnpm
RUN corepack enable
WORKDIR /build

FROM login-pnpm AS login-dev-base
RUN --mount=type=cache,id=pnpm,target=/pnpm/store \
    pnpm install --frozen-lockfile --workspace-root --filter .
