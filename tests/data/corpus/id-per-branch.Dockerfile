FROM node:20
ARG BRANCH=main
RUN --mount=type=cache,id=npm-$BRANCH,target=/root/.npm npm ci
