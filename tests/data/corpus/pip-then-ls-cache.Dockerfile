FROM python:3.12
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install httpx && du -sh /root/.cache/pip && ls /root/.cache/pip
