FROM alpine
RUN --mount=type=cache,target=/cache,uid=1000,gid=1000,mode=0755 \
    touch /cache/owned && chown 1000:1000 /cache/owned
