from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, SAMPLE_CSV, require_module

from soccerpredict.data import DataValidationError
from soccerpredict.model import load_model
from soccerpredict.pipeline import steps

DAG_FILE = PROJECT_ROOT / "dags" / "soccer_training.py"
TASKS = ["ingest", "validate", "train", "evaluate", "register"]


def test_steps_run_end_to_end(tmp_path: Path) -> None:
    path = steps.ingest(str(SAMPLE_CSV), str(tmp_path / "run"))
    summary = steps.validate(path)
    assert summary["rows"] == 200
    metrics_path = steps.train(
        path, str(tmp_path / "run" / "model.pkl"), str(tmp_path / "run" / "c.json"), seed=1
    )
    # A model of 150 training matches does not beat the bundled champion (the full run on 1500).
    with pytest.raises(steps.GateFailed, match="log_loss"):
        steps.evaluate(metrics_path, str(PROJECT_ROOT / "metrics" / "champion.json"))
    # Against a champion no better than itself it is promoted.
    decision = steps.evaluate(metrics_path, metrics_path)
    assert decision["promoted"] is True
    target = steps.register(
        str(tmp_path / "run" / "model.pkl"), metrics_path, str(tmp_path / "registry"), "20240811"
    )
    assert load_model(Path(target) / "model.pkl").version.startswith("logreg-")
    latest = json.loads((tmp_path / "registry" / "latest.json").read_text())
    assert latest["version"] == "20240811"


def test_ingest_names_the_fix_for_missing_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="SOCCERPREDICT_DATA"):
        steps.ingest(str(tmp_path / "none.csv"), str(tmp_path))


def test_validate_rejects_too_few_rows(tmp_path: Path) -> None:
    path = steps.ingest(str(SAMPLE_CSV), str(tmp_path))
    with pytest.raises(DataValidationError, match="need at least 500"):
        steps.validate(path, min_rows=500)


CHAMPION = {"accuracy": 0.5, "log_loss": 1.0, "brier": 0.6, "latency_ms_p95": 10.0}


@pytest.mark.parametrize(
    ("candidate", "regressed"),
    [
        ({}, []),
        ({"accuracy": 0.495}, []),
        ({"accuracy": 0.48}, ["accuracy"]),
        ({"log_loss": 1.02}, ["log_loss"]),
        ({"brier": 0.62, "log_loss": 0.9}, ["brier"]),
        ({"latency_ms_p95": 11.9}, []),
        ({"latency_ms_p95": 12.5}, ["latency_ms_p95"]),
    ],
)
def test_compare_to_champion(candidate: dict, regressed: list) -> None:
    found = steps.compare_to_champion({**CHAMPION, **candidate}, CHAMPION, tolerance=0.01)
    assert [r.split()[0] for r in found] == regressed


def test_evaluate_raises_on_regression(tmp_path: Path) -> None:
    candidate = tmp_path / "c.json"
    champion = tmp_path / "champion.json"
    candidate.write_text(json.dumps({**CHAMPION, "accuracy": 0.3}))
    champion.write_text(json.dumps(CHAMPION))
    with pytest.raises(steps.GateFailed, match="accuracy"):
        steps.evaluate(str(candidate), str(champion))
    assert steps.evaluate(str(candidate), str(tmp_path / "no-champion.json"))["promoted"]


@pytest.mark.parametrize("version", ["", "../x", ".hidden", "a/b"])
def test_register_rejects_unsafe_versions(tmp_path: Path, version: str) -> None:
    with pytest.raises(ValueError, match="invalid model version"):
        steps.register("m", "c", str(tmp_path), version)


def test_dag_file_declares_the_pipeline_without_airflow() -> None:
    tree = ast.parse(DAG_FILE.read_text())
    task_ids = [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "task_id"
    ]
    assert task_ids == TASKS
    chains = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp)
    ]
    assert len(chains) == 1
    assert ast.unparse(chains[0]) == " >> ".join(TASKS)
    top_level = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top_level <= {"__future__", "datetime", "airflow", "airflow.operators.python"}


def test_dag_loads_in_airflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_module("airflow", "DAG")
    from airflow.models import DagBag

    monkeypatch.setenv("SOCCERPREDICT_HOME", str(tmp_path))
    bag = DagBag(dag_folder=str(DAG_FILE), include_examples=False)
    assert bag.import_errors == {}
    dag = bag.get_dag("soccer_training")
    assert sorted(dag.task_ids) == sorted(TASKS)
    for upstream, downstream in zip(TASKS, TASKS[1:], strict=False):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    assert dag.catchup is False
