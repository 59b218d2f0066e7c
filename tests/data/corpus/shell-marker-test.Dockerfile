FROM alpine
RUN --mount=type=cache,target=/cache \
    test -f /cache/built || (echo building && echo done > /cache/built)
