# lint: --engine buildkit --engine buildah@1.39
FROM python:3.12
RUN --mount=type=cache,id=pip,target=/root/.cache/pip pip install requests
USER 1000
RUN --mount=type=cache,id=pip,target=/home/app/.cache/pip,uid=1000 pip install --user flask
