FROM debian
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN --mount=type=cache,target=/cache \
    sh -c 'echo nested > /cache/n; cat /cache/n | wc -c'
