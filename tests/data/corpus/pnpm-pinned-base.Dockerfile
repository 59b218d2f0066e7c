FROM node:18.20-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS builder
WORKDIR /usr/src/mono
ENV PNPM_HOME="/pnpm"
ENV PATH="$PNPM_HOME:$PATH"
RUN corepack enable
COPY ./ .
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile
