# syntax = example/dockerfile-x
FROM python:3.11
ENV UV_CACHE_DIR=/var/cache/uv
WORKDIR /srv
COPY . .
RUN --mount=type=cache,target=/var/cache/uv \
  uv sync --extra runpod --frozen --no-editable
CMD ["uv", "run", "handler.py"]
