FROM debian
ADD check.sh main.sh /app/
CMD /app/main.sh
HEALTHCHECK --interval=5s --timeout=3s --retries=3 \
  CMD /app/check.sh --quiet
HEALTHCHECK NONE
STOPSIGNAL SIGTERM
EXPOSE 8080/tcp
VOLUME ["/data"]
USER nobody
RUN --mount=type=cache,target=/tmp/c,uid=65534 echo health > /tmp/c/h
