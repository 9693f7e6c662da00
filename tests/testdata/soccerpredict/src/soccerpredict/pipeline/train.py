"""Training pipeline: load matches, build features, fit, evaluate, write model and metrics.

    python -m soccerpredict.pipeline.train --smoke --out metrics/candidate.json \
        --model-out models/model.pkl

``--smoke`` trains on the bundled 200-match sample (data/sample/matches_small.csv) and finishes in
seconds. ``--full`` is the real run of the DVC pipeline (prepare -> featurize -> train -> evaluate)
with the parameters of params.yaml on data/raw/matches.csv; its metrics carry ``model_version``.
It is how the committed champion is written and how the model gate trains its candidate:

    python -m soccerpredict.pipeline.train --full --out metrics/champion.json \
        --model-out models/model.pkl

Otherwise ``--data`` (match CSV) or ``--features`` (featurized CSV) is required.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from soccerpredict.data import DataValidationError, load_matches, prepare_matches
from soccerpredict.features import DEFAULT_ELO_K, DEFAULT_WINDOW, MODEL_FEATURES, build_features
from soccerpredict.model import SklearnModel, save_model
from soccerpredict.pipeline.evaluate import (
    DEFAULT_LATENCY_CALLS,
    DEFAULT_TEST_SIZE,
    chronological_split,
    evaluate_predictor,
    feature_matrix,
    write_metrics,
)

SMOKE_DATA = "data/sample/matches_small.csv"
FULL_DATA = "data/raw/matches.csv"
PARAMS_FILE = "params.yaml"
SMOKE_LATENCY_CALLS = 200
MODEL_KINDS = ("logreg", "gboost", "forest")


@dataclass
class TrainConfig:
    """Everything a training run depends on."""

    out: str
    model_out: str
    data: str | None = None
    features: str | None = None
    model: str = "logreg"
    C: float = 1.0
    seed: int = 42
    test_size: float = DEFAULT_TEST_SIZE
    window: int = DEFAULT_WINDOW
    elo_k: float = DEFAULT_ELO_K
    latency_calls: int = DEFAULT_LATENCY_CALLS
    model_version: str | None = None
    smoke: bool = False
    min_season: int | None = None


def make_estimator(kind: str, C: float = 1.0, seed: int = 42) -> Any:
    """An unfitted scikit-learn classifier: ``logreg`` (scaled multinomial) or ``gboost``."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    if kind == "gboost":
        return GradientBoostingClassifier(
            n_estimators=150, max_depth=2, learning_rate=0.05, random_state=seed
        )
    if kind == "forest":
        from sklearn.ensemble import RandomForestClassifier

        # Many deep-ish trees: comparable quality, far slower single-row predictions.
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=20, random_state=seed)
    raise ValueError(f"unknown model kind {kind!r}: use one of {', '.join(MODEL_KINDS)}")


def load_training_table(config: TrainConfig) -> tuple[pd.DataFrame, str]:
    """The featurized table and the path it came from."""
    if config.features:
        table = load_matches(config.features)
        missing = [c for c in (*MODEL_FEATURES, "outcome") if c not in table.columns]
        if missing:
            raise DataValidationError([f"features file lacks columns: {', '.join(missing)}"])
        return table, config.features
    path = config.data or (SMOKE_DATA if config.smoke else None)
    if not path:
        raise ValueError("no training data: pass --data, --features, --smoke or --full")
    matches = load_matches(path)
    if config.min_season is not None:
        matches = prepare_matches(matches, config.min_season)
    return build_features(matches, window=config.window, elo_k=config.elo_k), path


def file_digest(path: str | Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def default_version(config: TrainConfig, source: str) -> str:
    """``<model>-<10 hex>``: a digest of the training data and every parameter of the run."""
    digest = hashlib.md5(Path(source).read_bytes())
    skip = ("out", "model_out", "model_version", "latency_calls")  # not part of the model
    params = {k: v for k, v in asdict(config).items() if k not in skip}
    digest.update(json.dumps(params, sort_keys=True).encode())
    return f"{config.model}-{digest.hexdigest()[:10]}"


def full_config(
    out: str, model_out: str, params_file: str = PARAMS_FILE, **overrides: Any
) -> TrainConfig:
    """The DVC pipeline's run: params.yaml's prepare/features/train/evaluate on FULL_DATA."""
    import yaml

    params = yaml.safe_load(Path(params_file).read_text(encoding="utf-8"))
    try:
        values: dict[str, Any] = {
            "data": FULL_DATA,
            "min_season": int(params["prepare"]["min_season"]),
            "window": int(params["features"]["window"]),
            "elo_k": float(params["features"]["elo_k"]),
            "model": str(params["train"]["model"]),
            "C": float(params["train"]["C"]),
            "seed": int(params["train"]["seed"]),
            "test_size": float(params["train"]["test_size"]),
            "latency_calls": int(params["evaluate"]["latency_calls"]),
        }
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{params_file} lacks {exc}: it needs prepare, features, train, evaluate"
        ) from exc
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(out=out, model_out=model_out, **values)


def train(config: TrainConfig) -> dict[str, Any]:
    """Run the pipeline; write the model and the metrics JSON; return the metrics."""
    table, source = load_training_table(config)
    train_df, test_df = chronological_split(table, config.test_size)
    estimator = make_estimator(config.model, config.C, config.seed)
    estimator.fit(feature_matrix(train_df), train_df["outcome"].astype(int).tolist())
    version = (
        config.model_version or os.environ.get("MODEL_VERSION") or default_version(config, source)
    )
    model = SklearnModel(
        estimator=estimator,
        version=version,
        metadata={"source": source, "config": asdict(config), "n_train": len(train_df)},
    )
    values = evaluate_predictor(model, test_df, config.latency_calls)
    values["n_train"] = len(train_df)
    values["model_version"] = version
    save_model(model, config.model_out)
    write_metrics(values, config.out)
    return values


def parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    parser = argparse.ArgumentParser(description="Train the SoccerPredictAI outcome model.")
    parser.add_argument("--smoke", action="store_true", help=f"train on {SMOKE_DATA}, fast")
    parser.add_argument(
        "--full", action="store_true", help=f"the DVC pipeline's run: {PARAMS_FILE} on {FULL_DATA}"
    )
    parser.add_argument("--params", default=PARAMS_FILE, help="params file read by --full")
    parser.add_argument("--data", help="match CSV")
    parser.add_argument("--features", help="featurized CSV (from soccerpredict.features)")
    parser.add_argument("--out", default="metrics/candidate.json", help="metrics JSON to write")
    parser.add_argument("--model-out", default="models/model.pkl", help="model file to write")
    parser.add_argument("--model", choices=MODEL_KINDS, default=None, help="default: logreg")
    parser.add_argument("--C", type=float, default=None, help="inverse regularisation (logreg)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--test-size", type=float, default=DEFAULT_TEST_SIZE)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--elo-k", type=float, default=DEFAULT_ELO_K)
    parser.add_argument("--latency-calls", type=int, default=None)
    parser.add_argument("--model-version", default=None)
    args = parser.parse_args(argv)
    if args.data and args.features:
        parser.error("--data and --features are exclusive")
    if args.full and (args.smoke or args.features):
        parser.error("--full runs the DVC pipeline on its own data: drop --smoke/--features")
    if not (args.smoke or args.full or args.data or args.features):
        parser.error("pass --smoke, --full, --data or --features")
    if args.full:
        return full_config(
            args.out,
            args.model_out,
            args.params,
            data=args.data,
            model=args.model,
            C=args.C,
            seed=args.seed,
            latency_calls=args.latency_calls,
            model_version=args.model_version,
        )
    latency_calls = args.latency_calls or (
        SMOKE_LATENCY_CALLS if args.smoke else DEFAULT_LATENCY_CALLS
    )
    return TrainConfig(
        out=args.out,
        model_out=args.model_out,
        data=args.data,
        features=args.features,
        model=args.model or "logreg",
        C=1.0 if args.C is None else args.C,
        seed=42 if args.seed is None else args.seed,
        test_size=args.test_size,
        window=args.window,
        elo_k=args.elo_k,
        latency_calls=latency_calls,
        model_version=args.model_version,
        smoke=args.smoke,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        values = train(config)
    except (DataValidationError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(values, sort_keys=True))
    print(f"model -> {config.model_out}, metrics -> {config.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
