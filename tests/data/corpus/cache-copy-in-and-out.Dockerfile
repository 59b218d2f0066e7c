FROM ubuntu
COPY ./something.txt /root/something.txt
RUN --mount=type=cache,target=/some-cache/ \
  cp /some-cache/something.txt /root/last.txt && \
  cp /root/something.txt /some-cache/something.txt
CMD echo "New: $(cat /root/something.txt)" && echo "Old: $(cat /root/last.txt)"
