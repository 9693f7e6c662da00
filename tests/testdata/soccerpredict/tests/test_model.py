from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soccerpredict.model import (
    BASELINE_VERSION,
    BaselineModel,
    ModelLoadError,
    SklearnModel,
    baseline_probabilities,
    load_model,
    load_predictor,
    normalize,
    save_model,
)

any_float = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def assert_distribution(probs: tuple[float, float, float]) -> None:
    assert len(probs) == 3
    for p in probs:
        assert 0.0 <= p <= 1.0
    assert math.isclose(sum(probs), 1.0, abs_tol=1e-9)


@given(any_float, any_float, any_float)
def test_normalize_always_returns_a_distribution(a: float, b: float, c: float) -> None:
    assert_distribution(normalize([a, b, c]))


@given(finite, finite, finite)
def test_baseline_probabilities_are_a_distribution(elo_diff: float, hf: float, af: float) -> None:
    assert_distribution(baseline_probabilities(elo_diff, hf, af))


@given(
    st.floats(min_value=-2500, max_value=2500),
    st.floats(min_value=1, max_value=500),
    st.floats(min_value=-10, max_value=10),
)
def test_stronger_home_side_wins_more_often(elo_diff: float, gap: float, form: float) -> None:
    weaker = baseline_probabilities(elo_diff, form, form)
    stronger = baseline_probabilities(elo_diff + gap, form, form)
    assert stronger[0] >= weaker[0] - 1e-12
    assert stronger[2] <= weaker[2] + 1e-12


def test_baseline_is_symmetric_without_home_advantage() -> None:
    home, draw, away = baseline_probabilities(-60.0, 0.0, 0.0)
    assert math.isclose(home, away, rel_tol=1e-12)
    assert draw > 0.25


def test_baseline_model_rejects_wrong_width() -> None:
    with pytest.raises(ValueError, match="expected 3 features"):
        BaselineModel().predict_proba([[1.0, 2.0]])


def _fitted_model() -> SklearnModel:
    from sklearn.linear_model import LogisticRegression

    x = [[-200.0, -1.0, 1.0], [0.0, 0.0, 0.0], [250.0, 1.5, -1.0], [10.0, 0.2, 0.1]] * 5
    y = [2, 1, 0, 1] * 5
    return SklearnModel(estimator=LogisticRegression(max_iter=500).fit(x, y), version="t-1")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = _fitted_model()
    path = tmp_path / "nested" / "model.pkl"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.version == "t-1"
    rows = [[100.0, 0.5, -0.5], [-400.0, -2.0, 2.0]]
    assert loaded.predict_proba(rows) == model.predict_proba(rows)
    for probs in loaded.predict_proba(rows):
        assert_distribution(probs)


def test_missing_classes_get_zero_probability() -> None:
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression().fit([[-100.0, 0, 0], [100.0, 0, 0]] * 3, [2, 0] * 3)
    probs = SklearnModel(estimator=estimator, version="v").predict_proba([[0.0, 0.0, 0.0]])[0]
    assert probs[1] == 0.0
    assert_distribution(probs)


def test_load_predictor_falls_back_to_the_baseline(tmp_path: Path) -> None:
    predictor = load_predictor(tmp_path / "nope.pkl")
    assert predictor.source == "baseline"
    assert predictor.version == BASELINE_VERSION


def test_model_version_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.pkl"
    save_model(_fitted_model(), path)
    monkeypatch.setenv("MODEL_PATH", str(path))
    monkeypatch.setenv("MODEL_VERSION", "2024.08.1")
    predictor = load_predictor()
    assert predictor.source == "file"
    assert predictor.version == "2024.08.1"


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x04K\x01."])
def test_unusable_model_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError):
        load_predictor(path)
