from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import RAW_CSV, SAMPLE_CSV

from soccerpredict.data import (
    REQUIRED_COLUMNS,
    DataValidationError,
    load_matches,
    main,
    prepare_matches,
    validate_matches,
)


def _sample() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_CSV)


def test_bundled_datasets_are_valid() -> None:
    raw = load_matches(RAW_CSV)
    sample = load_matches(SAMPLE_CSV)
    assert len(raw) == 2000
    assert len(sample) == 200
    assert raw["date"].is_monotonic_increasing
    assert set(sample["match_id"]) <= set(raw["match_id"])
    assert raw["home_goals"].dtype.kind == "i"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda df: df.drop(columns=["away_elo"]), "missing columns: away_elo"),
        (lambda df: df.assign(home_team=None), "home_team: 200 null"),
        (lambda df: df.assign(home_goals=-1), "negative goal"),
        (lambda df: df.assign(away_goals=1.5), "non-integer goal"),
        (lambda df: df.assign(home_elo="high"), "home_elo: 200 non-numeric"),
        (lambda df: df.assign(away_team=df["home_team"]), "home_team equals away_team"),
        (lambda df: df.assign(date="yesterday"), "date: 200 unparsable"),
    ],
)
def test_validation_catches_broken_tables(mutate, message: str) -> None:
    problems = validate_matches(mutate(_sample()))
    assert any(message in p for p in problems), problems


def test_valid_table_has_no_problems() -> None:
    assert validate_matches(_sample()) == []


def test_load_rejects_invalid_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    _sample().assign(home_goals=-2).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        load_matches(path)
    assert info.value.problems == ["home_goals: negative goal count(s)"]


def test_prepare_drops_duplicates_and_old_seasons() -> None:
    sample = load_matches(SAMPLE_CSV)
    doubled = pd.concat([sample, sample.iloc[:10]])
    prepared = prepare_matches(doubled)
    assert len(prepared) == len(sample)
    newest = int(sample["season"].max())
    assert set(prepare_matches(sample, min_season=newest)["season"]) == {newest}


def test_cli_prepares_a_file(tmp_path: Path) -> None:
    out = tmp_path / "prepared" / "matches.csv"
    assert main(["--in", str(SAMPLE_CSV), "--out", str(out), "--min-season", "2019"]) == 0
    prepared = pd.read_csv(out)
    assert len(prepared) == 200
    assert set(REQUIRED_COLUMNS) <= set(prepared.columns)


def test_cli_rejects_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    _sample().assign(away_team=None).to_csv(path, index=False)
    assert main(["--in", str(path), "--out", str(tmp_path / "o.csv")]) == 1
    assert not (tmp_path / "o.csv").exists()
