from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soccerpredict import metrics

distribution = (
    st.tuples(
        st.floats(min_value=0, max_value=1),
        st.floats(min_value=0, max_value=1),
        st.floats(min_value=0, max_value=1),
    )
    .filter(lambda t: sum(t) > 1e-6)
    .map(lambda t: tuple(v / sum(t) for v in t))
)
cases = st.lists(st.tuples(st.integers(min_value=0, max_value=2), distribution), min_size=1)


def test_known_values() -> None:
    y = [0, 1, 2]
    perfect = [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    uniform = [(1 / 3, 1 / 3, 1 / 3)] * 3
    assert metrics.accuracy(y, perfect) == 1.0
    assert metrics.brier(y, perfect) == 0.0
    assert metrics.log_loss(y, perfect) < 1e-12
    assert math.isclose(metrics.log_loss(y, uniform), math.log(3), rel_tol=1e-12)
    assert math.isclose(metrics.brier(y, uniform), 2 / 3, rel_tol=1e-12)
    assert metrics.accuracy([2], [(0.2, 0.3, 0.5)]) == 1.0
    assert metrics.brier([0], [(0.0, 0.0, 1.0)]) == 2.0


@given(cases)
def test_metric_ranges(pairs: list) -> None:
    y = [label for label, _ in pairs]
    proba = [p for _, p in pairs]
    assert 0.0 <= metrics.accuracy(y, proba) <= 1.0
    assert 0.0 <= metrics.brier(y, proba) <= 2.0 + 1e-9
    assert 0.0 <= metrics.log_loss(y, proba) <= -math.log(metrics.LOG_LOSS_EPS) + 1e-6


@given(cases)
def test_log_loss_agrees_with_scikit_learn(pairs: list) -> None:
    from sklearn.metrics import log_loss

    y = [label for label, _ in pairs]
    proba = [p for _, p in pairs]
    if min(p[label] for label, p in pairs) < 1e-6:
        return  # clipping conventions differ between libraries at the extremes
    assert math.isclose(
        metrics.log_loss(y, proba), log_loss(y, proba, labels=[0, 1, 2]), rel_tol=1e-6, abs_tol=1e-9
    )


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        ([], [], "empty"),
        ([0], [(0.5, 0.5)], "shape"),
        ([0, 1], [(1.0, 0.0, 0.0)], "labels but"),
        ([3], [(1.0, 0.0, 0.0)], "labels must be"),
    ],
)
def test_bad_input(y: list, proba: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.brier(y, proba)


def test_p95() -> None:
    assert metrics.p95(list(range(1, 101))) == pytest.approx(95.05)
    with pytest.raises(ValueError):
        metrics.p95([])
