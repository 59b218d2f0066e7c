FROM alpine
RUN --mount=type=cache,target=/cache \
    (cd /cache && echo sub > s) && { echo grp > /cache/g; cat /cache/s; }
