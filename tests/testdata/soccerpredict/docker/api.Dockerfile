# SoccerPredictAI API. Build context: the project root.
#   docker build -f docker/api.Dockerfile -t soccerpredict-api .
# An optional private package index is read from a BuildKit secret, never stored in a layer:
#   docker build --secret id=pip_index_url,env=PIP_INDEX_URL -f docker/api.Dockerfile .
# Liveness/readiness are the Kubernetes probes on /livez and /healthz (no HEALTHCHECK here):
# /healthz is 503 until the baked model is loaded.
# setuptools and wheel, which the python:3.11 base image ships (setuptools 65.5.1 carries
# HIGH advisories), are removed after the install: nothing needs them at run time.
# The champion model is trained at build time by the project's own pipeline (`train --full`:
# params.yaml on data/raw/matches.csv, the run that wrote metrics/champion.json) in a build stage,
# with the same pinned scikit-learn the service runs, and baked in at /app/models/model.pkl. The
# service reports that model's own version (its model_version); the pipeline records the same
# version in the image label io.soccerpredict.model.version. The run's metrics file is not baked
# in: its latency_ms_p95 is a wall-clock measurement of the build machine, different in every
# build (the image digest would be too); the model's metrics are in metrics/champion.json.
# Reproducible builds: each stage declares ARG SOURCE_DATE_EPOCH (the pipeline passes the commit
# time); BuildKit hands it to every later RUN of the stage as an environment variable, so pip
# writes hash-based .pyc files (no source mtime in their header) and useradd/groupadd write the
# commit's day into /etc/shadow instead of today's. Without the argument nothing changes.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE} AS model
ARG SOURCE_DATE_EPOCH

ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements-api.txt /build/requirements-api.txt
# pyyaml (pinned as in requirements-dev.txt) only reads params.yaml here; it is not shipped.
RUN --mount=type=secret,id=pip_index_url,required=false \
    if [ -s /run/secrets/pip_index_url ]; then \
        PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)" && export PIP_INDEX_URL; \
    fi \
    && pip install --no-cache-dir -r /build/requirements-api.txt pyyaml==6.0.1
COPY params.yaml /build/params.yaml
COPY data/raw/matches.csv /build/data/raw/matches.csv
COPY src/ /build/src/
RUN PYTHONPATH=/build/src python -m soccerpredict.pipeline.train --full \
        --out /build/metrics/model.json --model-out /build/models/model.pkl

FROM ${BASE_IMAGE}
ARG SOURCE_DATE_EPOCH

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app/src \
    MODEL_PATH=/app/models/model.pkl

WORKDIR /app

COPY requirements-api.txt /app/requirements-api.txt
RUN --mount=type=secret,id=pip_index_url,required=false \
    if [ -s /run/secrets/pip_index_url ]; then \
        PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)" && export PIP_INDEX_URL; \
    fi \
    && pip install --no-cache-dir -r /app/requirements-api.txt \
    && pip uninstall --yes setuptools wheel

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/models \
    && chown 10001:10001 /app/models

# Code and model are owned by root and only readable by the service user.
COPY src/ /app/src/
COPY --from=model /build/models/model.pkl /app/models/model.pkl

USER 10001:10001
EXPOSE 8000
CMD ["uvicorn", "soccerpredict.api.app:app", "--host", "0.0.0.0", "--port", "8000"]
