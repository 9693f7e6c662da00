"""Data-drift report between a reference and a current match CSV.

    python monitoring/drift.py --reference data/raw/matches.csv \
        --current data/sample/matches_small.csv --out reports/drift.json

Writes JSON with ``drift_share`` (share of drifted columns, 0..1), ``dataset_drift`` (true when
that share reaches ``--threshold``), per-column details and the ``engine`` used. The engine is
Evidently (``evidently`` 0.4.x API, or its ``evidently.legacy`` copy in later releases) when
installed; ``--engine builtin`` (also the ``auto`` fallback) uses two-sample Kolmogorov-Smirnov
tests from scipy. Drift is a signal: the exit code is 0 whatever the drift, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

DEFAULT_COLUMNS = (
    "home_goals",
    "away_goals",
    "home_shots",
    "away_shots",
    "home_elo",
    "away_elo",
)
DEFAULT_THRESHOLD = 0.5
KS_ALPHA = 0.05


def _evidently_api() -> tuple[Any, Any, Any, Any]:
    """(Report, DatasetDriftMetric, DataDriftTable, ColumnMapping) from whichever API exists."""
    try:
        from evidently.metrics import DataDriftTable, DatasetDriftMetric
        from evidently.pipeline.column_mapping import ColumnMapping
        from evidently.report import Report
    except ImportError:
        from evidently.legacy.metrics import DataDriftTable, DatasetDriftMetric
        from evidently.legacy.pipeline.column_mapping import ColumnMapping
        from evidently.legacy.report import Report
    return Report, DatasetDriftMetric, DataDriftTable, ColumnMapping


def evidently_available() -> bool:
    try:
        _evidently_api()
    except ImportError:
        return False
    return True


def drift_evidently(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], threshold: float
) -> dict[str, Any]:
    report_cls, dataset_metric, table_metric, column_mapping = _evidently_api()
    report = report_cls(metrics=[dataset_metric(drift_share=threshold), table_metric()])
    report.run(
        reference_data=reference[list(columns)],
        current_data=current[list(columns)],
        column_mapping=column_mapping(numerical_features=list(columns), categorical_features=[]),
    )
    results = {m["metric"]: m["result"] for m in report.as_dict()["metrics"]}
    dataset = results["DatasetDriftMetric"]
    by_column = results["DataDriftTable"]["drift_by_columns"]
    return {
        "engine": "evidently",
        "drift_share": float(dataset["share_of_drifted_columns"]),
        "dataset_drift": bool(dataset["dataset_drift"]),
        "n_columns": int(dataset["number_of_columns"]),
        "n_drifted_columns": int(dataset["number_of_drifted_columns"]),
        "columns": {
            name: {
                "drifted": bool(col["drift_detected"]),
                "score": float(col["drift_score"]),
                "stattest": str(col["stattest_name"]),
            }
            for name, col in by_column.items()
        },
    }


def drift_builtin(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], threshold: float
) -> dict[str, Any]:
    from scipy.stats import ks_2samp

    details: dict[str, dict[str, Any]] = {}
    for name in columns:
        ref = pd.to_numeric(reference[name], errors="coerce").dropna()
        cur = pd.to_numeric(current[name], errors="coerce").dropna()
        if ref.empty or cur.empty:
            raise ValueError(f"column {name} has no numeric values to compare")
        p_value = float(ks_2samp(ref, cur).pvalue)
        details[name] = {"drifted": p_value < KS_ALPHA, "score": p_value, "stattest": "K-S p_value"}
    drifted = sum(1 for d in details.values() if d["drifted"])
    share = drifted / len(details)
    return {
        "engine": "builtin",
        "drift_share": share,
        "dataset_drift": share >= threshold,
        "n_columns": len(details),
        "n_drifted_columns": drifted,
        "columns": details,
    }


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "auto",
) -> dict[str, Any]:
    """Compare ``columns`` of two tables; see the module docstring for the result keys."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    missing = [c for c in columns if c not in reference.columns or c not in current.columns]
    if missing:
        raise ValueError(f"columns missing from reference or current data: {', '.join(missing)}")
    if engine == "auto":
        engine = "evidently" if evidently_available() else "builtin"
    if engine == "evidently":
        result = drift_evidently(reference, current, columns, threshold)
    elif engine == "builtin":
        result = drift_builtin(reference, current, columns, threshold)
    else:
        raise ValueError(f"unknown engine {engine!r}: use auto, evidently or builtin")
    result["drift_share_threshold"] = threshold
    result["reference_rows"] = len(reference)
    result["current_rows"] = len(current)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a data-drift report as JSON.")
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--columns", nargs="+", default=list(DEFAULT_COLUMNS))
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--engine", choices=("auto", "evidently", "builtin"), default="auto")
    args = parser.parse_args(argv)
    try:
        result = drift_report(
            pd.read_csv(args.reference),
            pd.read_csv(args.current),
            args.columns,
            args.threshold,
            args.engine,
        )
    except (OSError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"drift ({result['engine']}): {result['n_drifted_columns']}/{result['n_columns']} "
        f"columns, dataset_drift={result['dataset_drift']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
