from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import RAW_CSV, SAMPLE_CSV, load_script, require_module

drift = load_script("monitoring/drift.py")
KEYS = {"engine", "drift_share", "dataset_drift", "n_columns", "n_drifted_columns", "columns"}


def _shifted(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["home_elo"] += 250
    out["away_elo"] -= 250
    out["home_goals"] += 2
    out["home_shots"] *= 2
    return out


def test_builtin_no_drift_on_identical_data() -> None:
    df = pd.read_csv(RAW_CSV)
    result = drift.drift_report(df, df.copy(), engine="builtin")
    assert set(result) >= KEYS
    assert result["drift_share"] == 0.0
    assert result["dataset_drift"] is False


def test_builtin_detects_a_shift() -> None:
    ref = pd.read_csv(RAW_CSV)
    result = drift.drift_report(ref, _shifted(pd.read_csv(SAMPLE_CSV)), engine="builtin")
    assert result["n_drifted_columns"] >= 4
    assert result["drift_share"] >= 0.5
    assert result["dataset_drift"] is True
    assert result["columns"]["home_elo"]["drifted"] is True


def test_bad_arguments() -> None:
    df = pd.read_csv(SAMPLE_CSV)
    with pytest.raises(ValueError, match="missing"):
        drift.drift_report(df, df.drop(columns=["home_elo"]), engine="builtin")
    with pytest.raises(ValueError, match="threshold"):
        drift.drift_report(df, df, threshold=0.0, engine="builtin")
    with pytest.raises(ValueError, match="unknown engine"):
        drift.drift_report(df, df, engine="magic")


def test_cli_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "drift.json"
    code = drift.main(
        ["--reference", str(RAW_CSV), "--current", str(SAMPLE_CSV), "--out", str(out)]
        + ["--engine", "builtin"]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert 0.0 <= result["drift_share"] <= 1.0
    assert result["reference_rows"] == 2000
    assert result["current_rows"] == 200


def test_cli_exits_2_on_bad_input(tmp_path: Path) -> None:
    args = ["--reference", str(tmp_path / "none.csv"), "--current", str(SAMPLE_CSV)]
    assert drift.main([*args, "--out", str(tmp_path / "o.json")]) == 2


def test_evidently_engine() -> None:
    require_module("evidently", "__version__")
    if not drift.evidently_available():
        pytest.skip("no usable evidently report API")
    ref = pd.read_csv(RAW_CSV)
    same = drift.drift_report(ref, ref.copy(), engine="evidently")
    assert same["engine"] == "evidently"
    assert same["dataset_drift"] is False
    shifted = drift.drift_report(ref, _shifted(pd.read_csv(SAMPLE_CSV)), engine="evidently")
    assert shifted["dataset_drift"] is True
    assert shifted["drift_share"] >= 0.5
