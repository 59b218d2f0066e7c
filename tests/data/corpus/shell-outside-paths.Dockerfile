FROM debian
RUN --mount=type=cache,target=/var/cache/app \
    mkdir -p /opt/app && echo conf > /etc/app.conf && rm -rf /tmp/* && echo ok > /var/cache/app/ok
