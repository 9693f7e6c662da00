# SoccerPredictAI batch-prediction worker (Celery). Build context: the project root.
#   docker build -f docker/worker.Dockerfile -t soccerpredict-worker .
# Broker: CELERY_BROKER_URL at run time (a Kubernetes secret), never baked in. An optional private
# package index is read from the BuildKit secret pip_index_url.
# setuptools and wheel, which the python:3.11 base image ships (setuptools 65.5.1 carries
# HIGH advisories), are removed after the install: nothing needs them at run time.
# Reproducible builds: ARG SOURCE_DATE_EPOCH (the commit time, passed by the pipeline) is the
# environment of every RUN below: pip writes hash-based .pyc files and useradd/groupadd write the
# commit's day into /etc/shadow instead of today's.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
ARG SOURCE_DATE_EPOCH

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app/src \
    MODEL_PATH=/app/models/model.pkl

WORKDIR /app

COPY requirements-worker.txt /app/requirements-worker.txt
RUN --mount=type=secret,id=pip_index_url,required=false \
    if [ -s /run/secrets/pip_index_url ]; then \
        PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)" && export PIP_INDEX_URL; \
    fi \
    && pip install --no-cache-dir -r /app/requirements-worker.txt \
    && pip uninstall --yes setuptools wheel

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/models \
    && chown 10001:10001 /app/models

COPY src/ /app/src/

USER 10001:10001
CMD ["celery", "-A", "soccerpredict.worker.tasks:app", "worker", "--loglevel=INFO", "--queues=predictions"]
