FROM alpine
RUN --mount=type=cache,target=/cache \
    echo big > /cache/blob && truncate -s 0 /cache/blob && stat /cache/blob
