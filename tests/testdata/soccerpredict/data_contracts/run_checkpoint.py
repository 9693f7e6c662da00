"""Run the Great Expectations (1.x) data contract against a match CSV.

    python data_contracts/run_checkpoint.py --data data/raw/matches.csv \
        --suite great_expectations/expectations/matches_suite.json --out reports/ge-results.json

Builds an ephemeral context with a pandas data source, a dataframe asset and a whole-dataframe
batch definition, adds the suite, then runs a ``Checkpoint`` over one ``ValidationDefinition``.
The native validation result (``ExpectationSuiteValidationResult.to_json_dict()``) is written to
``--out``; every result's ``expectation_config.meta.severity`` is the suite's ``critical`` or
``advisory``.

Exit code: 0 whenever validation ran, whether or not expectations passed (the pipeline decides
from the severities); 2 when it could not run (bad arguments, unreadable files, invalid suite,
Great Expectations missing or failing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SEVERITIES = ("critical", "advisory")
NAME = "soccerpredict_matches"


class ContractError(Exception):
    """The suite file or the inputs are unusable."""


def load_suite(path: str | Path) -> dict[str, Any]:
    """Read and check a suite file: a name and expectations each with a known meta.severity."""
    try:
        suite = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ContractError(f"cannot read suite {path}: {exc}") from exc
    if not isinstance(suite, dict) or not suite.get("name"):
        raise ContractError(f"suite {path} needs a 'name'")
    expectations = suite.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise ContractError(f"suite {path} needs a non-empty 'expectations' list")
    for i, exp in enumerate(expectations):
        if not isinstance(exp, dict) or not str(exp.get("type", "")).startswith("expect_"):
            raise ContractError(f"expectation #{i} needs a 'type' like expect_column_...")
        severity = (exp.get("meta") or {}).get("severity")
        if severity not in SEVERITIES:
            raise ContractError(
                f"expectation #{i} ({exp['type']}) has meta.severity {severity!r}: "
                f"set it to one of {', '.join(SEVERITIES)}"
            )
        if not isinstance(exp.get("kwargs", {}), dict):
            raise ContractError(f"expectation #{i} ({exp['type']}) kwargs must be an object")
    return suite


def class_name(expectation_type: str) -> str:
    """``expect_column_values_to_not_be_null`` -> ``ExpectColumnValuesToNotBeNull``."""
    return "".join(part.capitalize() for part in expectation_type.split("_"))


def build_expectations(suite: dict[str, Any]) -> list[Any]:
    """Great Expectations expectation objects for the suite, meta (severity) included."""
    import great_expectations.expectations as gxe

    built = []
    for exp in suite["expectations"]:
        cls = getattr(gxe, class_name(exp["type"]), None)
        if cls is None:
            raise ContractError(f"great_expectations has no expectation {exp['type']}")
        built.append(cls(**exp.get("kwargs", {}), meta=dict(exp["meta"])))
    return built


def run_checkpoint(csv_path: str | Path, suite: dict[str, Any]) -> dict[str, Any]:
    """Validate the CSV against the suite; return the native validation result as a dict."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import pandas as pd

    if not hasattr(gx, "get_context"):  # e.g. the project's great_expectations/ folder
        raise ImportError("the great_expectations package is not installed")

    df = pd.read_csv(csv_path)
    context = gx.get_context(mode="ephemeral")
    data_source = context.data_sources.add_pandas(name=NAME)
    asset = data_source.add_dataframe_asset(name=f"{NAME}_frame")
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{NAME}_batch")

    expectation_suite = context.suites.add(
        gx.ExpectationSuite(name=suite["name"], meta=dict(suite.get("meta") or {}))
    )
    for expectation in build_expectations(suite):
        expectation_suite.add_expectation(expectation)

    validation = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=f"{NAME}_validation", data=batch_definition, suite=expectation_suite
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{NAME}_checkpoint",
            validation_definitions=[validation],
            actions=[],
            result_format={"result_format": "SUMMARY"},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": df})
    runs = list(result.run_results.values())
    if len(runs) != 1:
        raise ContractError(f"expected one validation result, got {len(runs)}")
    return runs[0].to_json_dict()


def summarize(result: dict[str, Any]) -> dict[str, int]:
    """Failed expectation counts by severity."""
    counts = {f"failed_{s}": 0 for s in SEVERITIES}
    counts["evaluated"] = 0
    for item in result.get("results", []):
        counts["evaluated"] += 1
        if not item.get("success"):
            severity = ((item.get("expectation_config") or {}).get("meta") or {}).get("severity")
            key = f"failed_{severity}" if severity in SEVERITIES else "failed_critical"
            counts[key] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the match data contract (GX 1.x).")
    parser.add_argument("--data", required=True, help="CSV file to validate")
    parser.add_argument(
        "--suite",
        default="great_expectations/expectations/matches_suite.json",
        help="expectation suite JSON",
    )
    parser.add_argument("--out", required=True, help="where to write the validation result JSON")
    args = parser.parse_args(argv)
    try:
        if not Path(args.data).is_file():
            raise ContractError(f"no data file at {args.data}")
        result = run_checkpoint(args.data, load_suite(args.suite))
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except ContractError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"error: great_expectations 1.x is required ({exc})", file=sys.stderr)
        return 2
    except Exception as exc:  # a crash of the validation itself, not a failed expectation
        print(f"error: validation crashed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    counts = summarize(result)
    print(
        f"data contract: success={result.get('success')} evaluated={counts['evaluated']} "
        f"failed_critical={counts['failed_critical']} failed_advisory={counts['failed_advisory']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
