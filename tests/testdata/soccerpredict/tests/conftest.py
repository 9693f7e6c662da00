from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = PROJECT_ROOT / "data" / "sample" / "matches_small.csv"
RAW_CSV = PROJECT_ROOT / "data" / "raw" / "matches.csv"

# Deterministic, database-free Hypothesis runs: CI never flakes. (Hypothesis still caches its
# unicode table in .hypothesis/ when imported; set HYPOTHESIS_STORAGE_DIRECTORY to move it.)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load_script(relative: str) -> ModuleType:
    """Import a script that lives outside the package (monitoring/, data_contracts/)."""
    path = PROJECT_ROOT / relative
    name = "script_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def require_module(name: str, attribute: str) -> ModuleType:
    """``pytest.importorskip`` that also rejects look-alike folders (e.g. great_expectations/)."""
    module = pytest.importorskip(name)
    if not hasattr(module, attribute):
        pytest.skip(f"{name} is not installed")
    return module


@pytest.fixture(autouse=True)
def _no_model_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up a real models/model.pkl or MODEL_VERSION from the environment."""
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "absent-model.pkl"))
    monkeypatch.delenv("MODEL_VERSION", raising=False)
