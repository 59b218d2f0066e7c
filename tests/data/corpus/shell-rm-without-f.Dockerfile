FROM alpine
RUN --mount=type=cache,target=/cache echo x > /cache/tmp
RUN --mount=type=cache,target=/cache rm /cache/tmp
