FROM python:3.11
ENV POETRY_CACHE_DIR=/root/.cache/pypoetry
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN --mount=type=cache,target=/root/.cache/pypoetry \
    pip install poetry && poetry install --no-root
