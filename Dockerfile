# The image compose.yaml runs as both `api` and `worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/pivotal

# Dependencies first, in their own layer: a code change then rebuilds in seconds. The stub
# packages only let pip resolve the project; the real code is copied next.
COPY pyproject.toml README.md* ./
RUN mkdir -p app worker && touch app/__init__.py worker/__init__.py \
    && pip install . && pip uninstall --yes pivotal

COPY app ./app
COPY worker ./worker
COPY sql ./sql
# Editable, like `make install`: the SQL files are read from beside the code, not from a wheel.
RUN pip install --no-deps -e . \
    && useradd --system --no-create-home --uid 10001 pivotal

USER pivotal
EXPOSE 8000
CMD ["pivotal", "serve", "--host", "0.0.0.0", "--port", "8000"]
