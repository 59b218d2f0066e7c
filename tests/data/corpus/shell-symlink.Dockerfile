FROM alpine
RUN --mount=type=cache,target=/cache \
    mkdir -p /cache/v1 && ln -sfn /cache/v1 /cache/latest && ls -la /cache
