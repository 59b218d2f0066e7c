FROM alpine
RUN --mount=type=cache,id=shared-lock,target=/a,sharing=locked \
    --mount=type=cache,id=shared-lock,target=/b,sharing=locked \
    touch /a/x /b/y
