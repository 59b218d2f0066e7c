FROM alpine
WORKDIR /work
RUN --mount=type=cache,target=/cache \
    cd /cache && echo rel > rel.txt && cat rel.txt && rm rel.txt
