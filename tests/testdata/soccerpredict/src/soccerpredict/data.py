"""Loading, validating and preparing match CSV files.

python -m soccerpredict.data --in data/raw/matches.csv --out data/prepared/matches.csv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS = (
    "date",
    "home_team",
    "away_team",
    "home_goals",
    "away_goals",
    "home_elo",
    "away_elo",
)
GOAL_COLUMNS = ("home_goals", "away_goals")
ELO_COLUMNS = ("home_elo", "away_elo")


class DataValidationError(ValueError):
    """Raised when a match table breaks a hard rule; ``problems`` lists every broken rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid match data: " + "; ".join(self.problems))


def validate_matches(df: pd.DataFrame) -> list[str]:
    """Return the hard-rule violations of a match table (an empty list when it is valid)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        return [f"missing columns: {', '.join(missing)}"]
    problems: list[str] = []
    for column in REQUIRED_COLUMNS:
        nulls = int(df[column].isna().sum())
        if nulls:
            problems.append(f"{column}: {nulls} null value(s)")
    for column in GOAL_COLUMNS + ELO_COLUMNS:
        numeric = pd.to_numeric(df[column], errors="coerce")
        bad = int((numeric.isna() & df[column].notna()).sum())
        if bad:
            problems.append(f"{column}: {bad} non-numeric value(s)")
    for column in GOAL_COLUMNS:
        numeric = pd.to_numeric(df[column], errors="coerce")
        if int((numeric < 0).sum()):
            problems.append(f"{column}: negative goal count(s)")
        if int(((numeric % 1) != 0).sum()):
            problems.append(f"{column}: non-integer goal count(s)")
    same = df["home_team"].notna() & (df["home_team"] == df["away_team"])
    if int(same.sum()):
        problems.append(f"home_team equals away_team in {int(same.sum())} row(s)")
    dates = pd.to_datetime(df["date"], errors="coerce")
    bad_dates = int((dates.isna() & df["date"].notna()).sum())
    if bad_dates:
        problems.append(f"date: {bad_dates} unparsable value(s)")
    return problems


def normalize_matches(df: pd.DataFrame) -> pd.DataFrame:
    """Typed copy of a valid table: parsed dates, integer goals, float ratings, date order."""
    out = df.copy()
    out["date"] = pd.to_datetime(out["date"])
    for column in GOAL_COLUMNS:
        out[column] = pd.to_numeric(out[column]).astype("int64")
    for column in ELO_COLUMNS:
        out[column] = pd.to_numeric(out[column]).astype("float64")
    out = out.sort_values("date", kind="mergesort").reset_index(drop=True)
    return out


def load_matches(path: str | Path) -> pd.DataFrame:
    """Read a match CSV, reject it when a hard rule is broken, and return it typed and sorted."""
    df = pd.read_csv(path)
    problems = validate_matches(df)
    if problems:
        raise DataValidationError(problems)
    return normalize_matches(df)


def prepare_matches(df: pd.DataFrame, min_season: int | None = None) -> pd.DataFrame:
    """Drop duplicate matches and (optionally) seasons before ``min_season``."""
    out = df
    if "match_id" in out.columns:
        out = out.drop_duplicates(subset="match_id", keep="last")
    if min_season is not None and "season" in out.columns:
        out = out[out["season"] >= min_season]
    return out.sort_values("date", kind="mergesort").reset_index(drop=True)


def write_matches(df: pd.DataFrame, path: str | Path) -> None:
    """Write a match table as CSV with ISO dates, creating the parent directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, date_format="%Y-%m-%d")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate and prepare a match CSV.")
    parser.add_argument("--in", dest="src", required=True, help="raw match CSV")
    parser.add_argument("--out", required=True, help="prepared match CSV to write")
    parser.add_argument("--min-season", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        matches = load_matches(args.src)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    prepared = prepare_matches(matches, args.min_season)
    write_matches(prepared, args.out)
    print(f"prepared {len(prepared)} of {len(matches)} matches -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
