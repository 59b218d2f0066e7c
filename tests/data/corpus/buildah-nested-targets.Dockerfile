FROM alpine
RUN --mount=type=cache,target=/cache \
    --mount=type=cache,target=/cache/inner \
    echo outer > /cache/o && echo inner > /cache/inner/i && cat /cache/inner/i
