FROM alpine
RUN --mount=type=cache,target=/cache \
    touch /cache/current && mv /cache/current /cache/previous && echo new > /cache/current
