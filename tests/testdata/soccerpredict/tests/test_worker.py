from __future__ import annotations

import importlib
import json
import math

import pytest
from conftest import PROJECT_ROOT

from soccerpredict.model import BaselineModel
from soccerpredict.worker.batch import MAX_BATCH, predict_batch_logic

VALID = json.loads((PROJECT_ROOT / "contracts" / "predict_valid.json").read_text())
INVALID = json.loads((PROJECT_ROOT / "contracts" / "predict_invalid.json").read_text())


def test_batch_keeps_order_and_isolates_bad_rows() -> None:
    swapped = {**VALID, "home_team": VALID["away_team"], "away_team": VALID["home_team"]}
    results = predict_batch_logic([VALID, INVALID, swapped, "not a mapping"])
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert "error" in results[1] and "away_team" in results[1]["error"]
    assert "error" in results[3]
    for good in (results[0], results[2]):
        assert math.isclose(good["home_win"] + good["draw"] + good["away_win"], 1.0)
        assert good["model_version"] == BaselineModel().version
    assert results[2]["home_team"] == VALID["away_team"]


def test_batch_matches_single_predictions() -> None:
    from soccerpredict.features import features_from_request

    result = predict_batch_logic([VALID])[0]
    row = features_from_request(
        VALID["home_elo"], VALID["away_elo"], VALID["home_form"], VALID["away_form"]
    )
    home, draw, away = BaselineModel().predict_proba([row])[0]
    assert (result["home_win"], result["draw"], result["away_win"]) == (home, draw, away)


def test_empty_and_oversized_batches() -> None:
    assert predict_batch_logic([]) == []
    with pytest.raises(ValueError, match="exceeds"):
        predict_batch_logic([VALID] * (MAX_BATCH + 1))


def test_celery_task_runs_without_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("celery")
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    tasks = importlib.reload(importlib.import_module("soccerpredict.worker.tasks"))
    tasks.get_predictor.cache_clear()
    assert tasks.app.conf.broker_url == "memory://"
    assert "soccerpredict.predict_batch" in tasks.app.tasks
    results = tasks.predict_batch.apply(args=[[VALID, INVALID]]).get()
    assert results[0]["model_version"] == BaselineModel().version
    assert "error" in results[1]
    tasks.get_predictor.cache_clear()


def test_broker_url_default(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("celery")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    tasks = importlib.import_module("soccerpredict.worker.tasks")
    assert tasks.broker_url() == tasks.DEFAULT_BROKER_URL
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://broker:6379/1")
    assert tasks.broker_url() == "redis://broker:6379/1"
