# SoccerPredictAI Airflow (scheduler/webserver/worker share this image). Build context: the
# project root.
#   docker build -f docker/airflow.Dockerfile -t soccerpredict-airflow .
# Based on the official Airflow image (its own ARG, AIRFLOW_IMAGE, so a BASE_IMAGE build argument
# meant for the python services does not replace it). The official image supports any uid with
# gid 0, so the service runs as 10001:0. An optional private package index is read from the
# BuildKit secret pip_index_url, never stored in a layer.
# The image provides Airflow itself; requirements-airflow.txt (pdm export of the airflow group)
# adds only what the DAG needs, the ML stack. apache-airflow is pinned in the same pip install
# (the way the Airflow image's documentation extends it), so pip can never up- or downgrade it
# while installing the requirements. AIRFLOW_VERSION must equal the version in the AIRFLOW_IMAGE
# tag (tests/test_packaging.py checks the defaults); the official image sets the same variable
# to its own version.
# Reproducible builds: ARG SOURCE_DATE_EPOCH (the commit time, passed by the pipeline) is the
# environment of every RUN below, so pip writes hash-based .pyc files.
ARG AIRFLOW_IMAGE=apache/airflow:2.10.4-python3.11
FROM ${AIRFLOW_IMAGE}
ARG AIRFLOW_VERSION=2.10.4
ARG SOURCE_DATE_EPOCH

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/opt/soccerpredict/src \
    SOCCERPREDICT_HOME=/opt/soccerpredict

COPY requirements-airflow.txt /opt/soccerpredict/requirements-airflow.txt

# The official image installs Python packages as its "airflow" user.
USER airflow
RUN --mount=type=secret,id=pip_index_url,required=false,uid=50000 \
    if [ -s /run/secrets/pip_index_url ]; then \
        PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)" && export PIP_INDEX_URL; \
    fi \
    && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/soccerpredict/requirements-airflow.txt

USER root
RUN mkdir -p /opt/soccerpredict/metrics /opt/soccerpredict/runs /opt/soccerpredict/registry \
    && chown -R 10001:0 /opt/soccerpredict/runs /opt/soccerpredict/registry \
    && chmod -R g+rwX /opt/soccerpredict/runs /opt/soccerpredict/registry

COPY src/ /opt/soccerpredict/src/
COPY metrics/champion.json /opt/soccerpredict/metrics/champion.json
COPY dags/ /opt/airflow/dags/

USER 10001:0
