"""Predictors: a trained scikit-learn model or a deterministic Elo baseline.

Both return, for each feature row ``(elo_diff, home_form, away_form)``, the probabilities
``(home_win, draw, away_win)``: each in [0, 1], summing to 1.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from soccerpredict.features import MODEL_FEATURES

MODEL_FORMAT = 1
BASELINE_VERSION = "baseline-elo-v1"
DEFAULT_MODEL_PATH = "models/model.pkl"
HOME_ADVANTAGE = 60.0
FORM_WEIGHT = 25.0
BASE_DRAW = 0.28

Probabilities = tuple[float, float, float]


class Predictor(Protocol):
    """Anything that turns feature rows into outcome probabilities."""

    version: str
    source: str

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> list[Probabilities]: ...


class ModelLoadError(RuntimeError):
    """The model file exists but cannot be used."""


def normalize(values: Sequence[float]) -> Probabilities:
    """Clip to [0, 1] (NaN counts as 0) and rescale to sum to 1; all-zero becomes uniform."""
    if len(values) != 3:
        raise ValueError(f"expected 3 probabilities, got {len(values)}")
    clipped = [min(1.0, max(0.0, v)) if math.isfinite(v) else 0.0 for v in values]
    total = sum(clipped)
    if total <= 0.0:
        return (1 / 3, 1 / 3, 1 / 3)
    home, draw = clipped[0] / total, clipped[1] / total
    return (home, draw, max(0.0, 1.0 - home - draw))


def baseline_probabilities(elo_diff: float, home_form: float, away_form: float) -> Probabilities:
    """Elo logistic win expectancy with a draw band that narrows as the gap grows."""
    strength = elo_diff + HOME_ADVANTAGE + FORM_WEIGHT * (home_form - away_form)
    if not math.isfinite(strength):
        strength = 0.0
    strength = max(-4000.0, min(4000.0, strength))
    home_no_draw = 1.0 / (1.0 + math.pow(10.0, -strength / 400.0))
    draw = BASE_DRAW * math.exp(-((strength / 400.0) ** 2))
    return normalize(((1 - draw) * home_no_draw, draw, (1 - draw) * (1 - home_no_draw)))


@dataclass
class BaselineModel:
    """Deterministic fallback used when no trained model file is available."""

    version: str = BASELINE_VERSION
    source: str = "baseline"

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> list[Probabilities]:
        return [baseline_probabilities(*_check_row(row)) for row in rows]


@dataclass
class SklearnModel:
    """A fitted scikit-learn classifier over ``features`` with labels 0/1/2."""

    estimator: Any
    version: str
    features: tuple[str, ...] = MODEL_FEATURES
    source: str = "file"
    metadata: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> list[Probabilities]:
        import numpy as np

        if len(rows) == 0:
            return []
        matrix = np.asarray([_check_row(row) for row in rows], dtype=float)
        raw = self.estimator.predict_proba(matrix)
        classes = [int(c) for c in self.estimator.classes_]
        out: list[Probabilities] = []
        for probs in raw:
            full = [0.0, 0.0, 0.0]
            for cls, p in zip(classes, probs, strict=True):
                full[cls] = float(p)
            out.append(normalize(full))
        return out


def _check_row(row: Sequence[float]) -> tuple[float, float, float]:
    if len(row) != len(MODEL_FEATURES):
        raise ValueError(
            f"expected {len(MODEL_FEATURES)} features {MODEL_FEATURES}, got {len(row)}"
        )
    return (float(row[0]), float(row[1]), float(row[2]))


def save_model(model: SklearnModel, path: str | Path) -> None:
    """Pickle a trained model with its version and feature list."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": MODEL_FORMAT,
        "estimator": model.estimator,
        "version": model.version,
        "features": list(model.features),
        "metadata": model.metadata,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as handle:
        pickle.dump(payload, handle, protocol=4)
    tmp.replace(path)


def load_model(path: str | Path) -> SklearnModel:
    """Load a model written by :func:`save_model` (a trusted artifact of our own pipeline)."""
    try:
        with Path(path).open("rb") as handle:
            payload = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise ModelLoadError(f"cannot read model file {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelLoadError(f"{path} is not a soccerpredict model (format {MODEL_FORMAT})")
    features = tuple(payload.get("features", ()))
    if features != MODEL_FEATURES:
        raise ModelLoadError(
            f"{path} expects features {features}, this code provides {MODEL_FEATURES}"
        )
    return SklearnModel(
        estimator=payload["estimator"],
        version=str(payload.get("version", "unknown")),
        features=features,
        metadata=dict(payload.get("metadata", {})),
    )


def load_predictor(path: str | Path | None = None, version: str | None = None) -> Predictor:
    """The model at ``path`` (default ``$MODEL_PATH`` or models/model.pkl) or the baseline.

    A missing file gives the baseline; a present but unusable file raises ModelLoadError.
    ``version`` (default ``$MODEL_VERSION``) overrides the reported model version.
    """
    path = Path(path or os.environ.get("MODEL_PATH") or DEFAULT_MODEL_PATH)
    version = version or os.environ.get("MODEL_VERSION") or None
    if not path.exists():
        return BaselineModel(version=version or BASELINE_VERSION)
    model = load_model(path)
    if version:
        model.version = version
    return model
