FROM alpine
RUN --mount=type=cache,target=/cache \
    find /cache -type f -mtime +7 -delete; echo pruned > /cache/.pruned
