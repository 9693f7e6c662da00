"""The steps of the retraining DAG as plain functions (no Airflow import, testable alone).

Each step takes and returns small values (paths, dicts) so Airflow can pass them by XCom.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from soccerpredict.data import DataValidationError, load_matches, prepare_matches, write_matches
from soccerpredict.pipeline.train import TrainConfig
from soccerpredict.pipeline.train import train as run_training

HIGHER_IS_BETTER = ("accuracy",)
LOWER_IS_BETTER = ("log_loss", "brier")
LATENCY_KEY = "latency_ms_p95"


class GateFailed(RuntimeError):
    """The candidate model is worse than the champion beyond the tolerance."""

    def __init__(self, regressions: list[str]) -> None:
        self.regressions = regressions
        super().__init__("candidate regresses: " + "; ".join(regressions))


def ingest(source: str, workdir: str) -> str:
    """Copy the source match CSV into the run's work directory; return the copy's path."""
    src = Path(source)
    if not src.is_file():
        raise FileNotFoundError(f"no match data at {src}: set SOCCERPREDICT_DATA to a CSV file")
    dest = Path(workdir) / "matches.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".csv.tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)
    return str(dest)


def validate(path: str, min_rows: int = 100) -> dict[str, Any]:
    """Validate and prepare the ingested CSV in place; raise on any hard-rule violation."""
    matches = prepare_matches(load_matches(path))
    if len(matches) < min_rows:
        raise DataValidationError([f"only {len(matches)} matches, need at least {min_rows}"])
    write_matches(matches, path)
    return {
        "path": path,
        "rows": len(matches),
        "first_date": matches["date"].min().date().isoformat(),
        "last_date": matches["date"].max().date().isoformat(),
    }


def train(path: str, model_out: str, metrics_out: str, **params: Any) -> str:
    """Train on the validated CSV; return the metrics file path."""
    config = TrainConfig(out=metrics_out, model_out=model_out, data=path, **params)
    run_training(config)
    return metrics_out


def compare_to_champion(
    candidate: dict[str, float],
    champion: dict[str, float],
    tolerance: float = 0.01,
    latency_tolerance: float = 0.2,
) -> list[str]:
    """Regressions of ``candidate`` against ``champion`` (empty when it may be promoted).

    Quality metrics may be worse by at most ``tolerance`` (absolute); latency by at most
    ``latency_tolerance`` (relative).
    """
    regressions: list[str] = []
    for key in HIGHER_IS_BETTER:
        if key in champion and candidate[key] < champion[key] - tolerance:
            regressions.append(f"{key} {candidate[key]:.4f} < champion {champion[key]:.4f}")
    for key in LOWER_IS_BETTER:
        if key in champion and candidate[key] > champion[key] + tolerance:
            regressions.append(f"{key} {candidate[key]:.4f} > champion {champion[key]:.4f}")
    if LATENCY_KEY in champion:
        limit = champion[LATENCY_KEY] * (1.0 + latency_tolerance)
        if candidate[LATENCY_KEY] > limit:
            regressions.append(
                f"{LATENCY_KEY} {candidate[LATENCY_KEY]:.3f} > champion {champion[LATENCY_KEY]:.3f}"
            )
    return regressions


def evaluate(candidate_path: str, champion_path: str, tolerance: float = 0.01) -> dict[str, Any]:
    """Gate the candidate on the champion's metrics; raise GateFailed on a regression."""
    candidate = json.loads(Path(candidate_path).read_text(encoding="utf-8"))
    champion_file = Path(champion_path)
    champion = (
        json.loads(champion_file.read_text(encoding="utf-8")) if champion_file.exists() else {}
    )
    regressions = compare_to_champion(candidate, champion, tolerance)
    if regressions:
        raise GateFailed(regressions)
    return {"candidate": candidate, "champion": champion, "promoted": True}


def register(model_path: str, metrics_path: str, registry_dir: str, version: str) -> str:
    """Copy model and metrics to ``registry_dir/<version>/`` and point ``latest.json`` at it."""
    if not version or "/" in version or version.startswith("."):
        raise ValueError(f"invalid model version {version!r}: use a plain name like 2024-08-11")
    target = Path(registry_dir) / version
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, target / "model.pkl")
    shutil.copyfile(metrics_path, target / "metrics.json")
    latest = Path(registry_dir) / "latest.json"
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"version": version, "path": str(target)}) + "\n", encoding="utf-8")
    tmp.replace(latest)
    return str(target)
