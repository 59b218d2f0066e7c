FROM alpine
RUN --mount=type=cache,id=mixed,target=/c,sharing=locked echo l > /c/f
RUN --mount=type=cache,id=mixed,target=/c,sharing=shared cat /c/f
