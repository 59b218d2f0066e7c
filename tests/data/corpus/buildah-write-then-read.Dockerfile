FROM alpine
RUN --mount=type=cache,target=/test echo hello > /test/world
RUN --mount=type=cache,target=/test cat /test/world
