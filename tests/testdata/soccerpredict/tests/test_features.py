from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import SAMPLE_CSV
from hypothesis import given
from hypothesis import strategies as st

from soccerpredict.data import load_matches
from soccerpredict.features import (
    AWAY_WIN,
    DRAW,
    HOME_WIN,
    MODEL_FEATURES,
    build_features,
    elo_ratings,
    expected_score,
    features_from_request,
    outcome,
    rolling_form,
    rolling_goal_averages,
    update_elo,
)

TEAMS = ["Ashford", "Briarwood", "Coldharbour", "Eastfield", "Kingsport"]
ratings = st.floats(min_value=0, max_value=4000, allow_nan=False)
goals = st.integers(min_value=0, max_value=12)


@st.composite
def match_lists(draw: st.DrawFn, max_size: int = 40) -> list[tuple[str, str, int, int]]:
    n = draw(st.integers(min_value=0, max_value=max_size))
    out = []
    for _ in range(n):
        home, away = draw(st.lists(st.sampled_from(TEAMS), min_size=2, max_size=2, unique=True))
        out.append((home, away, draw(goals), draw(goals)))
    return out


@pytest.mark.parametrize(
    ("home", "away", "want"), [(2, 1, HOME_WIN), (1, 1, DRAW), (0, 0, DRAW), (0, 3, AWAY_WIN)]
)
def test_outcome(home: int, away: int, want: int) -> None:
    assert outcome(home, away) == want


@given(ratings, ratings, goals, goals, st.floats(min_value=1, max_value=60))
def test_update_elo_is_zero_sum_and_rewards_the_winner(
    home: float, away: float, hg: int, ag: int, k: float
) -> None:
    new_home, new_away = update_elo(home, away, hg, ag, k=k)
    assert math.isclose(new_home + new_away, home + away, rel_tol=1e-12, abs_tol=1e-9)
    assert abs(new_home - home) <= k
    if hg > ag:
        assert new_home >= home
    if hg < ag:
        assert new_home <= home


@given(ratings, ratings)
def test_expected_scores_are_complementary(a: float, b: float) -> None:
    ea, eb = expected_score(a, b), expected_score(b, a)
    assert 0.0 <= ea <= 1.0
    assert math.isclose(ea + eb, 1.0, abs_tol=1e-12)
    if a > b:
        assert ea >= 0.5


@given(match_lists(), st.integers(min_value=1, max_value=8))
def test_form_is_bounded_and_starts_at_zero(matches: list, window: int) -> None:
    form = rolling_form(matches, window)
    assert len(form) == len(matches)
    max_gd = max((abs(h - a) for _, _, h, a in matches), default=0)
    seen: set[str] = set()
    for (home, away, _, _), (home_form, away_form) in zip(matches, form, strict=True):
        assert -max_gd <= home_form <= max_gd
        assert -max_gd <= away_form <= max_gd
        if home not in seen:
            assert home_form == 0.0
        if away not in seen:
            assert away_form == 0.0
        seen.update((home, away))


@given(match_lists(max_size=30), goals, goals)
def test_features_never_look_ahead(matches: list, new_hg: int, new_ag: int) -> None:
    """Changing the last result changes no feature of any match, including the last one."""
    if not matches:
        return
    changed = [*matches[:-1], (*matches[-1][:2], new_hg, new_ag)]
    assert rolling_form(matches) == rolling_form(changed)
    assert rolling_goal_averages(matches) == rolling_goal_averages(changed)
    assert elo_ratings(matches) == elo_ratings(changed)


@given(match_lists())
def test_elo_ratings_stay_in_a_sane_range(matches: list) -> None:
    pre = elo_ratings(matches, initial=1500.0)
    assert len(pre) == len(matches)
    for home, away in pre:
        assert 0 < home < 3000
        assert 0 < away < 3000


def test_rolling_form_matches_a_hand_computed_example() -> None:
    matches = [("A", "B", 3, 0), ("B", "A", 1, 1), ("A", "C", 0, 2), ("C", "B", 0, 0)]
    form = rolling_form(matches, window=2)
    assert form == [(0.0, 0.0), (-3.0, 3.0), (1.5, 0.0), (2.0, -1.5)]


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_form([], window=0)


def test_build_features_on_the_sample() -> None:
    table = build_features(load_matches(SAMPLE_CSV))
    for column in (*MODEL_FEATURES, "outcome", "calc_elo_diff", "home_scored_avg"):
        assert column in table.columns
    assert not table[list(MODEL_FEATURES)].isna().any().any()
    pd.testing.assert_series_equal(
        table["elo_diff"], table["home_elo"] - table["away_elo"], check_names=False
    )
    expected = table["result"].map({"H": HOME_WIN, "D": DRAW, "A": AWAY_WIN})
    assert (table["outcome"] == expected).all()


def test_features_from_request_order() -> None:
    assert features_from_request(1600, 1500, 1.5, -0.5) == [100.0, 1.5, -0.5]
    assert len(MODEL_FEATURES) == 3
