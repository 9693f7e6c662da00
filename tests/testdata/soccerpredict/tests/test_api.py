from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from soccerpredict.api.app import create_app
from soccerpredict.model import BASELINE_VERSION, BaselineModel
from soccerpredict.schemas import ELO_MAX, ELO_MIN, FORM_MAX, FORM_MIN

RESPONSE_KEYS = {"home_win", "draw", "away_win", "model_version"}
CLIENT = TestClient(create_app(BaselineModel()))


def fixture(name: str) -> dict:
    return json.loads((PROJECT_ROOT / "contracts" / name).read_text(encoding="utf-8"))


def assert_prediction(body: dict) -> None:
    assert set(body) == RESPONSE_KEYS
    probs = [body["home_win"], body["draw"], body["away_win"]]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert math.isclose(sum(probs), 1.0, abs_tol=1e-9)
    assert isinstance(body["model_version"], str) and body["model_version"]


def test_liveness_and_readiness() -> None:
    assert CLIENT.get("/livez").json() == {"status": "alive"}
    ready = CLIENT.get("/healthz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "model_version": BASELINE_VERSION,
        "model_source": "baseline",
    }


def test_contract_valid_request_gets_200() -> None:
    response = CLIENT.post("/predict", json=fixture("predict_valid.json"))
    assert response.status_code == 200, response.text
    assert_prediction(response.json())


def test_contract_invalid_request_gets_422() -> None:
    response = CLIENT.post("/predict", json=fixture("predict_invalid.json"))
    assert response.status_code == 422
    fields = {tuple(err["loc"])[-1] for err in response.json()["detail"]}
    assert {"away_team", "home_elo", "away_form"} <= fields


@pytest.mark.parametrize(
    "change",
    [
        {"home_elo": ELO_MIN - 1},
        {"away_elo": ELO_MAX + 1},
        {"home_form": FORM_MAX + 0.5},
        {"away_form": FORM_MIN - 0.5},
        {"home_team": ""},
        {"home_team": "   "},
        {"away_team": "x" * 65},
        {"away_team": "NORTHBRIDGE fc"},
        {"home_elo": "strong"},
        {"unexpected": 1},
    ],
)
def test_out_of_contract_fields_get_422(change: dict) -> None:
    response = CLIENT.post("/predict", json={**fixture("predict_valid.json"), **change})
    assert response.status_code == 422, change


def test_missing_body_gets_422() -> None:
    assert CLIENT.post("/predict").status_code == 422


def test_stronger_home_team_is_favoured() -> None:
    body = {**fixture("predict_valid.json"), "home_elo": 1900.0, "away_elo": 1300.0}
    prediction = CLIENT.post("/predict", json=body).json()
    assert prediction["home_win"] > prediction["away_win"]


team_names = st.text(min_size=1, max_size=64).filter(lambda s: s.strip())
valid_requests = st.fixed_dictionaries(
    {
        "home_team": team_names,
        "away_team": team_names,
        "home_elo": st.floats(min_value=ELO_MIN, max_value=ELO_MAX),
        "away_elo": st.floats(min_value=ELO_MIN, max_value=ELO_MAX),
        "home_form": st.floats(min_value=FORM_MIN, max_value=FORM_MAX),
        "away_form": st.floats(min_value=FORM_MIN, max_value=FORM_MAX),
    }
).filter(lambda r: r["home_team"].strip().casefold() != r["away_team"].strip().casefold())


@given(valid_requests)
def test_any_valid_request_gets_a_distribution(payload: dict) -> None:
    response = CLIENT.post("/predict", json=payload)
    assert response.status_code == 200, response.text
    assert_prediction(response.json())


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.lists(st.integers(), max_size=3),
)
fuzzed = st.dictionaries(
    st.sampled_from(
        ["home_team", "away_team", "home_elo", "away_elo", "home_form", "away_form", "extra"]
    ),
    json_values,
)


@given(fuzzed)
def test_fuzzed_requests_never_crash_the_server(payload: dict) -> None:
    response = CLIENT.post("/predict", json=payload)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert_prediction(response.json())


def _loaded(app) -> None:
    app.state.model_loader.join(timeout=60)
    assert not app.state.model_loader.is_alive()


def test_unusable_model_file_makes_the_service_unready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "model.pkl"
    broken.write_bytes(b"garbage")
    monkeypatch.setenv("MODEL_PATH", str(broken))
    app = create_app()
    _loaded(app)
    client = TestClient(app)
    assert client.get("/livez").status_code == 200
    ready = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    assert str(broken) in ready.json()["reason"]
    response = client.post("/predict", json=fixture("predict_valid.json"))
    assert response.status_code == 503


def test_no_model_file_is_unready_not_a_baseline() -> None:
    """Without its model the service must not take traffic (no silent fallback)."""
    app = create_app()
    _loaded(app)
    client = TestClient(app)
    ready = client.get("/healthz")
    assert ready.status_code == 503
    assert "absent-model.pkl" in ready.json()["reason"]
    assert client.post("/predict", json=fixture("predict_valid.json")).status_code == 503


def test_unready_until_the_model_is_loaded() -> None:
    import threading

    release = threading.Event()

    def slow_loader() -> BaselineModel:
        assert release.wait(timeout=30)
        return BaselineModel(version="slow-1")

    app = create_app(loader=slow_loader)
    client = TestClient(app)
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz").json() == {"status": "loading"}
    assert client.post("/predict", json=fixture("predict_valid.json")).status_code == 503
    assert client.get("/livez").status_code == 200, "alive while loading: no restart loop"
    release.set()
    _loaded(app)
    ready = client.get("/healthz")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == "slow-1"


def test_serves_the_trained_model_and_the_version_it_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real model written by training: /healthz and /predict report that model's version,
    and an environment variable cannot claim another."""
    from conftest import SAMPLE_CSV

    from soccerpredict.model import load_model
    from soccerpredict.pipeline.train import TrainConfig, train

    model_path = tmp_path / "model.pkl"
    train(
        TrainConfig(
            out=str(tmp_path / "m.json"),
            model_out=str(model_path),
            data=str(SAMPLE_CSV),
            smoke=True,
            latency_calls=5,
        )
    )
    trained = load_model(model_path).version
    monkeypatch.setenv("MODEL_PATH", str(model_path))
    monkeypatch.setenv("MODEL_VERSION", "not-what-is-served")
    app = create_app()
    _loaded(app)
    client = TestClient(app)
    ready = client.get("/healthz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "model_version": trained, "model_source": "file"}
    body = client.post("/predict", json=fixture("predict_valid.json")).json()
    assert_prediction(body)
    assert body["model_version"] == trained
