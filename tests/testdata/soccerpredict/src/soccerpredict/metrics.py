"""Evaluation metrics for three-way (home / draw / away) probability forecasts.

Implemented with plain numpy so the numbers do not depend on the scikit-learn version.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

N_CLASSES = 3
LOG_LOSS_EPS = 1e-15


def _as_arrays(
    y_true: Sequence[int], proba: Sequence[Sequence[float]]
) -> tuple[np.ndarray, np.ndarray]:
    if len(y_true) == 0:
        raise ValueError("cannot score an empty set of predictions")
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[1] != N_CLASSES:
        raise ValueError(f"probabilities must have shape (n, {N_CLASSES}), got {p.shape}")
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"{y.shape[0]} labels but {p.shape[0]} probability rows")
    if np.any((y < 0) | (y >= N_CLASSES)):
        raise ValueError(f"labels must be in 0..{N_CLASSES - 1}")
    return y, p


def accuracy(y_true: Sequence[int], proba: Sequence[Sequence[float]]) -> float:
    """Share of matches whose most probable outcome happened."""
    y, p = _as_arrays(y_true, proba)
    return float(np.mean(np.argmax(p, axis=1) == y))


def log_loss(y_true: Sequence[int], proba: Sequence[Sequence[float]]) -> float:
    """Mean negative log-likelihood of the observed outcomes (rows renormalised, clipped)."""
    y, p = _as_arrays(y_true, proba)
    p = np.clip(p, LOG_LOSS_EPS, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def brier(y_true: Sequence[int], proba: Sequence[Sequence[float]]) -> float:
    """Multi-class Brier score: mean over matches of sum_k (p_k - 1[y = k])^2, in [0, 2]."""
    y, p = _as_arrays(y_true, proba)
    onehot = np.eye(N_CLASSES)[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def p95(values: Sequence[float]) -> float:
    """95th percentile (linear interpolation, as numpy's default)."""
    if len(values) == 0:
        raise ValueError("cannot take a percentile of no values")
    return float(np.percentile(np.asarray(values, dtype=float), 95))
