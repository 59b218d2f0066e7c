FROM alpine
RUN --network=none --mount=type=cache,target=/c echo offline > /c/n
RUN --security=insecure --mount=type=cache,target=/c cat /c/n
