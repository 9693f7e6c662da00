"""The DVC files are consistent with the repository (hashes are real, stages are wired)."""

from __future__ import annotations

import hashlib
import re

import pytest
from conftest import PROJECT_ROOT

yaml = pytest.importorskip("yaml")


def _load(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / name).read_text(encoding="utf-8"))


def _hash(rel: str) -> tuple[str, int]:
    data = (PROJECT_ROOT / rel).read_bytes()
    return hashlib.md5(data).hexdigest(), len(data)


def _lookup(params: dict, dotted: str) -> object:
    for part in dotted.split("."):
        params = params[part]
    return params


def test_config_works_without_git() -> None:
    config = (PROJECT_ROOT / ".dvc" / "config").read_text()
    assert re.search(r"^\[core\]\s*\n\s+no_scm = true", config, re.M)


def test_raw_data_pointer_matches_the_file() -> None:
    pointer = _load("data/raw/matches.csv.dvc")
    (out,) = pointer["outs"]
    assert out["hash"] == "md5"
    assert (out["md5"], out["size"]) == _hash("data/raw/" + out["path"])


def test_pipeline_stages_are_chained() -> None:
    stages = _load("dvc.yaml")["stages"]
    assert list(stages) == ["prepare", "featurize", "train", "evaluate"]
    produced = {"data/raw/matches.csv"}
    params = _load("params.yaml")
    for name, stage in stages.items():
        for dep in stage["deps"]:
            assert dep in produced or (PROJECT_ROOT / dep).is_file(), f"{name}: {dep}"
        for key in stage.get("params", []):
            _lookup(params, key)
            assert "${" + key + "}" in stage["cmd"], f"{name} ignores {key}"
        produced.update(stage.get("outs", []))
        produced.update(next(iter(m)) for m in stage.get("metrics", []))
    assert "metrics/candidate.json" in produced


def test_lock_hashes_are_real() -> None:
    lock = _load("dvc.lock")
    stages = _load("dvc.yaml")["stages"]
    params = _load("params.yaml")
    assert lock["schema"] == "2.0"
    assert set(lock["stages"]) <= set(stages)
    for name, locked in lock["stages"].items():
        cmd = re.sub(
            r"\$\{([^}]+)\}", lambda m: str(_lookup(params, m.group(1))), stages[name]["cmd"]
        )
        assert locked["cmd"] == cmd, f"{name}: run scripts/update_dvc_lock.py"
        for key, value in locked["params"]["params.yaml"].items():
            assert _lookup(params, key) == value
        for dep in locked["deps"]:
            path = PROJECT_ROOT / dep["path"]
            if path.exists():
                assert (dep["md5"], dep["size"]) == _hash(dep["path"]), (
                    f"{dep['path']} changed: run scripts/update_dvc_lock.py"
                )
        upstream_outs = {o["path"]: o["md5"] for s in lock["stages"].values() for o in s["outs"]}
        for dep in locked["deps"]:
            if dep["path"] in upstream_outs:
                assert dep["md5"] == upstream_outs[dep["path"]]
