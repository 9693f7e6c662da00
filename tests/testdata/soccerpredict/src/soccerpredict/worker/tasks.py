"""Celery application and tasks.

    celery -A soccerpredict.worker.tasks:app worker --loglevel=INFO --queues=predictions

Broker: ``$CELERY_BROKER_URL`` (default redis://localhost:6379/0). Results are stored only when
``$CELERY_RESULT_BACKEND`` is set. The model comes from ``$MODEL_PATH`` as in the API.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from celery import Celery

from soccerpredict.model import Predictor, load_predictor
from soccerpredict.worker.batch import predict_batch_logic

DEFAULT_BROKER_URL = "redis://localhost:6379/0"
QUEUE = "predictions"


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL


def result_backend() -> str | None:
    return os.environ.get("CELERY_RESULT_BACKEND") or None


app = Celery("soccerpredict", broker=broker_url(), backend=result_backend())
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_default_queue=QUEUE,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@functools.lru_cache(maxsize=1)
def get_predictor() -> Predictor:
    """The worker's model, loaded once per process."""
    return load_predictor()


@app.task(name="soccerpredict.predict_batch")
def predict_batch(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Predict a batch of fixtures (see :func:`predict_batch_logic`)."""
    return predict_batch_logic(rows, get_predictor())
