"""Weekly retraining of the SoccerPredictAI outcome model.

ingest -> validate -> train -> evaluate (gate against the champion) -> register

Only stable Airflow 2 APIs are used (``DAG`` context manager, ``PythonOperator``, templated
``op_kwargs``). The steps live in :mod:`soccerpredict.pipeline.steps` and are imported inside the
callables so parsing this file stays cheap.

Environment: ``SOCCERPREDICT_HOME`` (default /opt/soccerpredict) holds ``data/raw/matches.csv``,
``metrics/champion.json`` and the ``registry/`` directory; ``SOCCERPREDICT_DATA`` overrides the
source CSV.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

HOME = os.environ.get("SOCCERPREDICT_HOME", "/opt/soccerpredict")
SOURCE = os.environ.get("SOCCERPREDICT_DATA", f"{HOME}/data/raw/matches.csv")
RUN_DIR = HOME + "/runs/{{ ds_nodash }}"
CHAMPION = f"{HOME}/metrics/champion.json"
REGISTRY = f"{HOME}/registry"


def _ingest(source: str, workdir: str) -> str:
    from soccerpredict.pipeline import steps

    return steps.ingest(source, workdir)


def _validate(path: str) -> dict:
    from soccerpredict.pipeline import steps

    return steps.validate(path)


def _train(path: str, model_out: str, metrics_out: str) -> str:
    from soccerpredict.pipeline import steps

    return steps.train(path, model_out, metrics_out, model="logreg", C=1.0, seed=42)


def _evaluate(candidate_path: str, champion_path: str) -> dict:
    from soccerpredict.pipeline import steps

    return steps.evaluate(candidate_path, champion_path, tolerance=0.01)


def _register(model_path: str, metrics_path: str, registry_dir: str, version: str) -> str:
    from soccerpredict.pipeline import steps

    return steps.register(model_path, metrics_path, registry_dir, version)


with DAG(
    dag_id="soccer_training",
    description="Retrain, gate and register the match-outcome model",
    schedule="@weekly",
    start_date=datetime(2024, 8, 1),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "ml-platform",
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
    },
    tags=["soccerpredict", "training"],
) as dag:
    ingest = PythonOperator(
        task_id="ingest",
        python_callable=_ingest,
        op_kwargs={"source": SOURCE, "workdir": RUN_DIR},
    )
    validate = PythonOperator(
        task_id="validate",
        python_callable=_validate,
        op_kwargs={"path": "{{ ti.xcom_pull(task_ids='ingest') }}"},
    )
    train = PythonOperator(
        task_id="train",
        python_callable=_train,
        op_kwargs={
            "path": "{{ ti.xcom_pull(task_ids='ingest') }}",
            "model_out": RUN_DIR + "/model.pkl",
            "metrics_out": RUN_DIR + "/candidate.json",
        },
    )
    evaluate = PythonOperator(
        task_id="evaluate",
        python_callable=_evaluate,
        op_kwargs={
            "candidate_path": "{{ ti.xcom_pull(task_ids='train') }}",
            "champion_path": CHAMPION,
        },
    )
    register = PythonOperator(
        task_id="register",
        python_callable=_register,
        op_kwargs={
            "model_path": RUN_DIR + "/model.pkl",
            "metrics_path": "{{ ti.xcom_pull(task_ids='train') }}",
            "registry_dir": REGISTRY,
            "version": "{{ ds_nodash }}",
        },
    )

    ingest >> validate >> train >> evaluate >> register
