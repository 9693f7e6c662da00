from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, SAMPLE_CSV

from soccerpredict.model import load_model
from soccerpredict.pipeline import evaluate as evaluate_cli
from soccerpredict.pipeline.evaluate import METRIC_KEYS, chronological_split
from soccerpredict.pipeline.steps import compare_to_champion
from soccerpredict.pipeline.train import TrainConfig, main, make_estimator, parse_args, train


def _smoke(tmp_path: Path, **overrides: object) -> dict:
    config = TrainConfig(
        out=str(tmp_path / "metrics" / "candidate.json"),
        model_out=str(tmp_path / "models" / "model.pkl"),
        data=str(SAMPLE_CSV),
        smoke=True,
        latency_calls=50,
        **overrides,
    )
    return train(config)


def test_smoke_training_writes_model_and_metrics(tmp_path: Path) -> None:
    values = _smoke(tmp_path)
    written = json.loads((tmp_path / "metrics" / "candidate.json").read_text())
    assert written == values
    for key in METRIC_KEYS:
        assert isinstance(written[key], float)
    assert 0.0 <= written["accuracy"] <= 1.0
    assert 0.0 < written["log_loss"] < 5.0
    assert 0.0 <= written["brier"] <= 2.0
    assert written["latency_ms_p95"] > 0.0
    assert (written["n_train"], written["n_test"]) == (150, 50)
    model = load_model(tmp_path / "models" / "model.pkl")
    assert model.version.startswith("logreg-")
    assert model.metadata["n_train"] == 150


def test_smoke_training_is_deterministic(tmp_path: Path) -> None:
    first = _smoke(tmp_path / "a")
    second = _smoke(tmp_path / "b")
    for key in ("accuracy", "log_loss", "brier"):
        assert first[key] == second[key]


def _full(tmp_path: Path, *extra: str) -> dict:
    """The documented full run, as a subprocess from the project root (as the pipeline runs it)."""
    out, model = tmp_path / "candidate.json", tmp_path / "model.pkl"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MODEL_VERSION", None)
    cmd = [sys.executable, "-m", "soccerpredict.pipeline.train", "--full", *extra]
    cmd += ["--out", str(out), "--model-out", str(model), "--latency-calls", "50"]
    result = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


def test_champion_is_the_full_run_of_this_project(tmp_path: Path) -> None:
    """metrics/champion.json is what `train --full` writes for params.yaml and data/raw."""
    champion = json.loads((PROJECT_ROOT / "metrics" / "champion.json").read_text())
    assert set(champion) == {*METRIC_KEYS, "model_version", "n_train", "n_test"}
    candidate = _full(tmp_path)
    for key in ("accuracy", "log_loss", "brier", "n_train", "n_test", "model_version"):
        assert candidate[key] == champion[key], key
    assert load_model(tmp_path / "model.pkl").version == champion["model_version"]
    # Not a no-skill baseline: better than always predicting the most frequent outcome,
    # and than the uniform guess's log-loss (ln 3).
    assert champion["log_loss"] < math.log(3) - 0.05
    # Quality only: latency is a measurement of this machine at this moment (the model gate
    # judges it, as a signal), not a property of the committed champion.
    quality = {k: v for k, v in champion.items() if k != "latency_ms_p95"}
    assert compare_to_champion(candidate, quality, tolerance=0.0) == []


def test_a_badly_regularised_candidate_fails_the_champion_gate(tmp_path: Path) -> None:
    champion = json.loads((PROJECT_ROOT / "metrics" / "champion.json").read_text())
    candidate = _full(tmp_path, "--C", "0.00001")
    assert candidate["model_version"] != champion["model_version"]
    regressions = compare_to_champion(candidate, champion, tolerance=0.0, latency_tolerance=10.0)
    assert any(r.startswith("accuracy") for r in regressions)
    assert any(r.startswith("log_loss") for r in regressions)


def test_full_cli_refuses_smoke_and_features() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--full", "--smoke"])
    with pytest.raises(SystemExit):
        parse_args(["--full", "--features", "f.csv"])


def test_version_depends_on_parameters(tmp_path: Path) -> None:
    from soccerpredict.pipeline.train import default_version, full_config

    base = full_config("o", "m", str(PROJECT_ROOT / "params.yaml"))
    other = full_config("o", "m", str(PROJECT_ROOT / "params.yaml"), C=0.5)
    data = str(PROJECT_ROOT / "data" / "raw" / "matches.csv")
    assert default_version(base, data) != default_version(other, data)
    assert default_version(base, data) == default_version(base, data)


def test_gradient_boosting_variant(tmp_path: Path) -> None:
    values = _smoke(tmp_path, model="gboost")
    assert 0.0 <= values["accuracy"] <= 1.0


def test_unknown_model_kind() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        make_estimator("svm")


def test_cli_requires_a_data_source() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--out", "x.json"])
    with pytest.raises(SystemExit):
        parse_args(["--data", "a.csv", "--features", "b.csv"])


def test_cli_reports_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,home_team\n2024-01-01,A\n")
    code = main(["--data", str(bad), "--out", str(tmp_path / "m.json")])
    assert code == 1
    assert "missing columns" in capsys.readouterr().err


def test_smoke_cli_end_to_end(tmp_path: Path) -> None:
    """The exact command the pipeline runs, as a subprocess from the project root."""
    out, model = tmp_path / "candidate.json", tmp_path / "model.pkl"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "soccerpredict.pipeline.train", "--smoke"]
    cmd += ["--out", str(out), "--model-out", str(model)]
    result = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert set(METRIC_KEYS) <= set(json.loads(out.read_text()))
    assert model.stat().st_size > 0


def test_evaluate_cli_matches_training_metrics(tmp_path: Path) -> None:
    values = _smoke(tmp_path)
    out = tmp_path / "eval.json"
    code = evaluate_cli.main(
        [
            "--model",
            str(tmp_path / "models" / "model.pkl"),
            "--data",
            str(SAMPLE_CSV),
            "--latency-calls",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    evaluated = json.loads(out.read_text())
    for key in ("accuracy", "log_loss", "brier", "n_test", "n_train"):
        assert evaluated[key] == values[key]


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1])
def test_split_rejects_bad_sizes(test_size: float) -> None:
    import pandas as pd

    with pytest.raises(ValueError):
        chronological_split(pd.DataFrame({"a": range(10)}), test_size)


def test_split_is_chronological() -> None:
    import pandas as pd

    df = pd.DataFrame({"a": range(8)})
    train_df, test_df = chronological_split(df, 0.25)
    assert list(train_df["a"]) == [0, 1, 2, 3, 4, 5]
    assert list(test_df["a"]) == [6, 7]
