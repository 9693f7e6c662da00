"""Feature engineering on match rows.

The core functions are pure: they take plain sequences of match tuples
``(home_team, away_team, home_goals, away_goals)`` in kick-off order and return one value per
match, computed only from matches played *before* it (no look-ahead leakage).

    python -m soccerpredict.features --in data/prepared/matches.csv --out data/features/matches.csv
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

HOME_WIN, DRAW, AWAY_WIN = 0, 1, 2
OUTCOME_LABELS = ("home_win", "draw", "away_win")
MODEL_FEATURES = ("elo_diff", "home_form", "away_form")
DEFAULT_WINDOW = 5
DEFAULT_ELO_K = 20.0
DEFAULT_HOME_ADVANTAGE = 60.0
INITIAL_ELO = 1500.0

Match = tuple[str, str, int, int]


def outcome(home_goals: int, away_goals: int) -> int:
    """Class label of a result: 0 home win, 1 draw, 2 away win."""
    if home_goals > away_goals:
        return HOME_WIN
    if home_goals == away_goals:
        return DRAW
    return AWAY_WIN


def expected_score(rating: float, opponent: float, advantage: float = 0.0) -> float:
    """Elo expected score (win = 1, draw = 0.5) of a side rated ``rating`` (+ ``advantage``)."""
    exponent = max(-40.0, min(40.0, (opponent - rating - advantage) / 400.0))
    return 1.0 / (1.0 + math.pow(10.0, exponent))


def update_elo(
    home_rating: float,
    away_rating: float,
    home_goals: int,
    away_goals: int,
    k: float = DEFAULT_ELO_K,
    home_advantage: float = DEFAULT_HOME_ADVANTAGE,
) -> tuple[float, float]:
    """Ratings after a match. Zero-sum: the home gain is exactly the away loss."""
    expected = expected_score(home_rating, away_rating, home_advantage)
    score = 1.0 if home_goals > away_goals else (0.5 if home_goals == away_goals else 0.0)
    delta = k * (score - expected)
    return home_rating + delta, away_rating - delta


def elo_ratings(
    matches: Iterable[Match],
    k: float = DEFAULT_ELO_K,
    home_advantage: float = DEFAULT_HOME_ADVANTAGE,
    initial: float = INITIAL_ELO,
) -> list[tuple[float, float]]:
    """Pre-match (home, away) Elo-like ratings computed from the results before each match."""
    ratings: dict[str, float] = defaultdict(lambda: initial)
    out: list[tuple[float, float]] = []
    for home, away, hg, ag in matches:
        pre = (ratings[home], ratings[away])
        out.append(pre)
        ratings[home], ratings[away] = update_elo(pre[0], pre[1], hg, ag, k, home_advantage)
    return out


def rolling_form(
    matches: Iterable[Match], window: int = DEFAULT_WINDOW
) -> list[tuple[float, float]]:
    """Mean goal difference of each side over its previous ``window`` matches (0.0 if none)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    history: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=window))
    out: list[tuple[float, float]] = []
    for home, away, hg, ag in matches:
        out.append((_mean(history[home]), _mean(history[away])))
        history[home].append(hg - ag)
        history[away].append(ag - hg)
    return out


def rolling_goal_averages(
    matches: Iterable[Match], window: int = DEFAULT_WINDOW
) -> list[tuple[float, float, float, float]]:
    """Per match: home scored, home conceded, away scored, away conceded (previous ``window``)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    scored: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=window))
    conceded: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=window))
    out: list[tuple[float, float, float, float]] = []
    for home, away, hg, ag in matches:
        out.append(
            (
                _mean(scored[home]),
                _mean(conceded[home]),
                _mean(scored[away]),
                _mean(conceded[away]),
            )
        )
        scored[home].append(hg)
        conceded[home].append(ag)
        scored[away].append(ag)
        conceded[away].append(hg)
    return out


def features_from_request(
    home_elo: float, away_elo: float, home_form: float, away_form: float
) -> list[float]:
    """The model feature vector (in ``MODEL_FEATURES`` order) for one prediction request."""
    return [float(home_elo) - float(away_elo), float(home_form), float(away_form)]


def build_features(
    matches: pd.DataFrame,
    window: int = DEFAULT_WINDOW,
    elo_k: float = DEFAULT_ELO_K,
    home_advantage: float = DEFAULT_HOME_ADVANTAGE,
) -> pd.DataFrame:
    """Add feature columns and the ``outcome`` label to a date-ordered match table."""
    df = matches.reset_index(drop=True).copy()
    rows: list[Match] = list(
        zip(
            df["home_team"].astype(str),
            df["away_team"].astype(str),
            df["home_goals"].astype(int),
            df["away_goals"].astype(int),
            strict=True,
        )
    )
    calc = elo_ratings(rows, elo_k, home_advantage)
    form = rolling_form(rows, window)
    goals = rolling_goal_averages(rows, window)
    df["elo_diff"] = df["home_elo"].astype(float) - df["away_elo"].astype(float)
    df["calc_home_elo"] = [h for h, _ in calc]
    df["calc_away_elo"] = [a for _, a in calc]
    df["calc_elo_diff"] = df["calc_home_elo"] - df["calc_away_elo"]
    df["home_form"] = [h for h, _ in form]
    df["away_form"] = [a for _, a in form]
    for i, name in enumerate(
        ("home_scored_avg", "home_conceded_avg", "away_scored_avg", "away_conceded_avg")
    ):
        df[name] = [g[i] for g in goals]
    df["outcome"] = [outcome(hg, ag) for _, _, hg, ag in rows]
    return df


def _mean(values: Sequence[int] | deque[int]) -> float:
    return float(sum(values)) / len(values) if values else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    from soccerpredict.data import load_matches, write_matches

    parser = argparse.ArgumentParser(description="Build model features from prepared matches.")
    parser.add_argument("--in", dest="src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--elo-k", type=float, default=DEFAULT_ELO_K)
    args = parser.parse_args(argv)
    features = build_features(load_matches(args.src), window=args.window, elo_k=args.elo_k)
    write_matches(features, Path(args.out))
    print(f"featurized {len(features)} matches -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
