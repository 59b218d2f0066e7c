FROM alpine
RUN --mount=type=cache,target=/cache \
    echo "version=1" > /cache/app.conf && sed -i 's/version=1/version=2/' /cache/app.conf && cat /cache/app.conf
