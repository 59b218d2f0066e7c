FROM alpine
RUN --mount=type=cache,target=/cache \
    echo "build at $(date)" | tee -a /cache/history.log
