FROM node:16
WORKDIR /app
COPY package.json yarn.lock ./
RUN --mount=type=cache,target=/usr/local/share/.cache/yarn \
    yarn install --frozen-lockfile --mutex file:/usr/local/share/.cache/yarn/.mutex
