FROM alpine:3.20
RUN --mount=type=cache,target=/var/cache/apk \
    ln -vsf /var/cache/apk /etc/apk/cache && \
    apk add --update git openssh
