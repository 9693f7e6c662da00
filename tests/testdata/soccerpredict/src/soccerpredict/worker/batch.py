"""Batch prediction logic, independent of Celery (testable without a broker)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from soccerpredict.features import features_from_request
from soccerpredict.model import BaselineModel, Predictor
from soccerpredict.schemas import PredictRequest

MAX_BATCH = 10_000


def predict_batch_logic(
    rows: Sequence[Mapping[str, Any]], predictor: Predictor | None = None
) -> list[dict[str, Any]]:
    """Predict every row; an invalid row yields ``{"index", "error"}`` instead of failing all.

    Results keep the input order and carry the row ``index``.
    """
    if len(rows) > MAX_BATCH:
        raise ValueError(f"batch of {len(rows)} rows exceeds the limit of {MAX_BATCH}")
    predictor = predictor or BaselineModel()
    results: list[dict[str, Any]] = [{} for _ in rows]
    valid: list[tuple[int, PredictRequest]] = []
    for index, row in enumerate(rows):
        try:
            valid.append((index, PredictRequest(**dict(row))))
        except (ValidationError, TypeError, ValueError) as exc:
            results[index] = {"index": index, "error": _describe(exc)}
    features = [
        features_from_request(r.home_elo, r.away_elo, r.home_form, r.away_form) for _, r in valid
    ]
    for (index, request), (home, draw, away) in zip(
        valid, predictor.predict_proba(features), strict=True
    ):
        results[index] = {
            "index": index,
            "home_team": request.home_team,
            "away_team": request.away_team,
            "home_win": home,
            "draw": draw,
            "away_win": away,
            "model_version": predictor.version,
        }
    return results


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
    return str(exc)
