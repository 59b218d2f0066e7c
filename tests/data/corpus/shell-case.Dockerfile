FROM alpine
ARG MODE=fast
RUN --mount=type=cache,target=/cache \
    case "$MODE" in fast) echo f > /cache/mode ;; *) echo s > /cache/mode ;; esac
