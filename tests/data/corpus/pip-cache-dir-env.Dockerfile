FROM python:3.12
ENV PIP_CACHE_DIR=/cache/pip
RUN --mount=type=cache,target=/cache/pip,sharing=locked \
    pip install --upgrade pip wheel && pip install numpy
