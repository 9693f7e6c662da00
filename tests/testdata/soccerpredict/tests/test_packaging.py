"""pyproject.toml, pdm.lock, requirements-*.txt and the Dockerfiles agree with each other."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib

import pytest
from conftest import PROJECT_ROOT

SERVICES = ("api", "worker", "airflow", "data", "dev")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)$")


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line!r}"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def _requirements(service: str) -> dict[str, str]:
    path = PROJECT_ROOT / f"requirements-{service}.txt"
    return _pins(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("service", SERVICES)
def test_requirements_are_exact_pins(service: str) -> None:
    assert _requirements(service)


@pytest.mark.parametrize("service", SERVICES)
def test_pyproject_groups_match_requirements(service: str) -> None:
    project = _pyproject()
    if service == "dev":
        group = project["dependency-groups"]["dev"]
    else:
        group = project["project"]["optional-dependencies"][service]
    declared = _pins(group)
    required = _requirements(service)
    for name, version in declared.items():
        assert required.get(name) == version, f"{service}: {name}"
    if service in ("api", "worker"):
        default = _pins(project["project"]["dependencies"])
        for name, version in default.items():
            assert required.get(name) == version, f"{service}: {name}"


def test_lock_holds_every_locked_pin() -> None:
    lock = tomllib.loads((PROJECT_ROOT / "pdm.lock").read_text(encoding="utf-8"))
    assert lock["metadata"]["lock_version"].startswith("4.")
    assert set(lock["metadata"]["groups"]) == {"default", "api", "worker", "dev"}
    locked = {p["name"]: p["version"] for p in lock["package"]}
    for service in ("api", "worker", "dev"):
        for name, version in _requirements(service).items():
            assert locked.get(name) == version, f"{service}: {name}"


def test_lock_content_hash_matches_pyproject() -> None:
    """PDM's content_hash: sha256 of the dependency-relevant pyproject data, sorted JSON."""
    project = _pyproject()
    pdm = project.get("tool", {}).get("pdm", {})
    data = {
        "sources": pdm.get("source", []),
        "dependencies": project["project"].get("dependencies", []),
        "dev-dependencies": project.get("dependency-groups", {}),
        "optional-dependencies": project["project"].get("optional-dependencies", {}),
        "requires-python": project["project"].get("requires-python", ""),
        "resolution": pdm.get("resolution", {}),
    }
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    lock = tomllib.loads((PROJECT_ROOT / "pdm.lock").read_text(encoding="utf-8"))
    assert lock["metadata"]["content_hash"] == f"sha256:{digest}"


@pytest.mark.parametrize(
    ("service", "base_arg"),
    [("api", "BASE_IMAGE"), ("worker", "BASE_IMAGE"), ("airflow", "AIRFLOW_IMAGE")],
)
def test_dockerfiles(service: str, base_arg: str) -> None:
    text = (PROJECT_ROOT / "docker" / f"{service}.Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert instructions[0].startswith(f"ARG {base_arg}=")
    assert instructions[1] == f"FROM ${{{base_arg}}}"
    assert f"requirements-{service}.txt" in text
    assert re.findall(r"^USER (\S+)", text, re.M)[-1].startswith("10001")
    assert not any(i.startswith("HEALTHCHECK") for i in instructions)
    assert "--mount=type=secret,id=pip_index_url,required=false" in text
    assert not re.search(r"^(ENV|ARG) .*(TOKEN|PASSWORD|SECRET|INDEX_URL)", text, re.M | re.I)
    if service == "api":
        assert "EXPOSE 8000" in text
        assert instructions[-1] == (
            'CMD ["uvicorn", "soccerpredict.api.app:app", "--host", "0.0.0.0", "--port", "8000"]'
        )
