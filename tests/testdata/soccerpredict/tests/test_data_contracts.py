from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT_ROOT, RAW_CSV, SAMPLE_CSV, load_script, require_module

SUITE = PROJECT_ROOT / "great_expectations" / "expectations" / "matches_suite.json"
checkpoint = load_script("data_contracts/run_checkpoint.py")


def test_suite_file_is_valid_and_severities_are_set() -> None:
    suite = checkpoint.load_suite(SUITE)
    severities = [e["meta"]["severity"] for e in suite["expectations"]]
    assert set(severities) == {"critical", "advisory"}
    types = {e["type"] for e in suite["expectations"]}
    assert "expect_select_column_values_to_be_unique_within_record" in types
    assert "expect_table_row_count_to_be_between" in types


@pytest.mark.parametrize(
    ("expectation_type", "name"),
    [
        ("expect_column_values_to_not_be_null", "ExpectColumnValuesToNotBeNull"),
        ("expect_table_row_count_to_be_between", "ExpectTableRowCountToBeBetween"),
        (
            "expect_select_column_values_to_be_unique_within_record",
            "ExpectSelectColumnValuesToBeUniqueWithinRecord",
        ),
    ],
)
def test_class_names(expectation_type: str, name: str) -> None:
    assert checkpoint.class_name(expectation_type) == name


@pytest.mark.parametrize(
    ("suite", "message"),
    [
        ("not json", "cannot read suite"),
        ({"expectations": []}, "needs a 'name'"),
        ({"name": "s", "expectations": []}, "non-empty"),
        ({"name": "s", "expectations": [{"type": "x"}]}, "type"),
        (
            {"name": "s", "expectations": [{"type": "expect_x", "meta": {"severity": "high"}}]},
            "critical, advisory",
        ),
        ({"name": "s", "expectations": [{"type": "expect_x"}]}, "meta.severity None"),
    ],
)
def test_bad_suites_are_rejected(tmp_path: Path, suite: object, message: str) -> None:
    path = tmp_path / "suite.json"
    path.write_text(suite if isinstance(suite, str) else json.dumps(suite))
    with pytest.raises(checkpoint.ContractError, match=re.escape(message)):
        checkpoint.load_suite(path)


@pytest.mark.parametrize("csv", [RAW_CSV, SAMPLE_CSV])
def test_bundled_data_meets_the_suite(csv: Path) -> None:
    """A pandas re-statement of the suite, so the shipped data is known to pass without GX."""
    df = pd.read_csv(csv)
    suite = checkpoint.load_suite(SUITE)
    for exp in suite["expectations"]:
        kwargs = exp["kwargs"]
        kind = exp["type"]
        if kind == "expect_column_values_to_not_be_null":
            assert df[kwargs["column"]].notna().all()
        elif kind == "expect_column_values_to_be_between":
            values = df[kwargs["column"]]
            assert (values >= kwargs.get("min_value", float("-inf"))).all()
            assert (values <= kwargs.get("max_value", float("inf"))).all()
        elif kind == "expect_column_values_to_be_in_set":
            assert df[kwargs["column"]].isin(kwargs["value_set"]).all()
        elif kind == "expect_select_column_values_to_be_unique_within_record":
            cols = kwargs["column_list"]
            assert (df[cols].nunique(axis=1) == len(cols)).all()
        elif kind == "expect_table_row_count_to_be_between":
            assert kwargs["min_value"] <= len(df) <= kwargs["max_value"]
        elif kind == "expect_table_columns_to_match_set":
            assert set(kwargs["column_set"]) <= set(df.columns)
        else:
            pytest.fail(f"no pandas re-statement for {kind}")


def test_summarize_counts_failures_by_severity() -> None:
    result = {
        "results": [
            {"success": True, "expectation_config": {"meta": {"severity": "critical"}}},
            {"success": False, "expectation_config": {"meta": {"severity": "critical"}}},
            {"success": False, "expectation_config": {"meta": {"severity": "advisory"}}},
            {"success": False, "expectation_config": {"meta": {}}},
        ]
    }
    assert checkpoint.summarize(result) == {
        "failed_critical": 2,
        "failed_advisory": 1,
        "evaluated": 4,
    }


def test_missing_data_file_exits_2(tmp_path: Path) -> None:
    code = checkpoint.main(["--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")])
    assert code == 2


def test_checkpoint_on_good_data(tmp_path: Path) -> None:
    require_module("great_expectations", "get_context")
    out = tmp_path / "ge-results.json"
    code = checkpoint.main(["--data", str(SAMPLE_CSV), "--suite", str(SUITE), "--out", str(out)])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["success"] is True
    assert len(result["results"]) == len(checkpoint.load_suite(SUITE)["expectations"])
    for item in result["results"]:
        assert item["expectation_config"]["meta"]["severity"] in ("critical", "advisory")


def test_checkpoint_on_bad_data_still_exits_0(tmp_path: Path) -> None:
    require_module("great_expectations", "get_context")
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(SAMPLE_CSV)
    df.loc[0, "home_goals"] = -1
    df.loc[1, "home_elo"] = 4000
    df.to_csv(bad, index=False)
    out = tmp_path / "ge-results.json"
    assert checkpoint.main(["--data", str(bad), "--suite", str(SUITE), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["success"] is False
    counts = checkpoint.summarize(result)
    assert counts["failed_critical"] == 1
    assert counts["failed_advisory"] == 1
