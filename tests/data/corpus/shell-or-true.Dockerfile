FROM alpine
RUN --mount=type=cache,target=/cache cat /cache/maybe || true
