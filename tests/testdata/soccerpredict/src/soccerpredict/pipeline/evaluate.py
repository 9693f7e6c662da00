"""Evaluate a predictor on the chronological hold-out set.

    python -m soccerpredict.pipeline.evaluate --model models/model.pkl \
        --features data/features/matches.csv --out metrics/candidate.json

The metrics file is flat JSON of numbers: accuracy (higher is better), log_loss, brier and
latency_ms_p95 (lower is better), n_train and n_test.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from soccerpredict import metrics
from soccerpredict.features import MODEL_FEATURES
from soccerpredict.model import Predictor, load_model

DEFAULT_TEST_SIZE = 0.25
DEFAULT_LATENCY_CALLS = 500
METRIC_KEYS = ("accuracy", "log_loss", "brier", "latency_ms_p95")


def chronological_split(df: pd.DataFrame, test_size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oldest ``1 - test_size`` of the (date-ordered) rows to train, the newest to test."""
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    n_test = max(1, round(len(df) * test_size))
    if n_test >= len(df):
        raise ValueError(f"{len(df)} rows are too few to hold out {test_size:.0%} for testing")
    return df.iloc[: len(df) - n_test], df.iloc[len(df) - n_test :]


def feature_matrix(df: pd.DataFrame) -> list[list[float]]:
    return df[list(MODEL_FEATURES)].astype(float).values.tolist()


def measure_latency_ms_p95(
    predictor: Predictor, rows: Sequence[Sequence[float]], calls: int
) -> float:
    """p95 wall time, in milliseconds, of ``calls`` single-row predictions (as the API makes)."""
    if calls < 1 or not rows:
        raise ValueError("latency needs at least one call and one row")
    timings: list[float] = []
    for i in range(calls):
        row = rows[i % len(rows)]
        start = time.perf_counter()
        predictor.predict_proba([row])
        timings.append((time.perf_counter() - start) * 1000.0)
    return metrics.p95(timings)


def evaluate_predictor(
    predictor: Predictor, test: pd.DataFrame, latency_calls: int = DEFAULT_LATENCY_CALLS
) -> dict[str, float]:
    """Accuracy, log loss, Brier score and p95 latency of ``predictor`` on ``test``."""
    rows = feature_matrix(test)
    y = test["outcome"].astype(int).tolist()
    proba = predictor.predict_proba(rows)
    return {
        "accuracy": round(metrics.accuracy(y, proba), 6),
        "log_loss": round(metrics.log_loss(y, proba), 6),
        "brier": round(metrics.brier(y, proba), 6),
        "latency_ms_p95": round(measure_latency_ms_p95(predictor, rows, latency_calls), 6),
        "n_test": len(test),
    }


def write_metrics(values: dict[str, float], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    from soccerpredict.data import load_matches
    from soccerpredict.features import build_features

    parser = argparse.ArgumentParser(description="Evaluate a trained model on the hold-out set.")
    parser.add_argument("--model", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--features", help="featurized CSV (from soccerpredict.features)")
    source.add_argument("--data", help="match CSV; features are built on the fly")
    parser.add_argument("--test-size", type=float, default=DEFAULT_TEST_SIZE)
    parser.add_argument("--latency-calls", type=int, default=DEFAULT_LATENCY_CALLS)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    table = load_matches(args.features or args.data)
    if args.data:
        table = build_features(table)
    train, test = chronological_split(table, args.test_size)
    values = evaluate_predictor(load_model(args.model), test, args.latency_calls)
    values["n_train"] = len(train)
    write_metrics(values, args.out)
    print(json.dumps(values, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
