FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -f /root/.cache/pip/.warmed ]; then \
        echo warm; \
    else \
        touch /root/.cache/pip/.warmed; \
    fi && pip install requests
