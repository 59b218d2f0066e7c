FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN --mount=type=cache,id=s/5d7e0c2a-project-/root/cache/pip,target=/root/.cache/pip \
    python -m venv --copies /opt/venv && . /opt/venv/bin/activate && pip install -r requirements.txt
