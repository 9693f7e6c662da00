"""pyproject.toml, pdm.lock, requirements-*.txt, .trivyignore and the Dockerfiles agree with each
other, and the pins stay clear of the known advisories that have a fixed release."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import tomllib

import pytest
from conftest import PROJECT_ROOT

SERVICES = ("api", "worker", "airflow", "data", "dev")
# An exact pin, optionally with the environment marker `pdm export` copies from the lock entry.
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)(?:; (\S.*))?$")
# A model pickled in one image must unpickle in the others: these versions are equal everywhere.
MODEL_STACK = ("numpy", "pandas", "scikit-learn", "scipy", "joblib", "threadpoolctl")
MODEL_SERVICES = ("api", "worker", "airflow")
# Groups pdm.lock covers; the data group runs in its own environment and is not locked.
LOCKED_GROUPS = ("default", "api", "worker", "airflow", "dev")
# package -> (first release without the advisory, advisory). The image scan blocks on HIGH and
# CRITICAL findings; a pin below one of these floors brings the finding back.
SECURITY_FLOORS = {
    "starlette": ("0.49.1", "CVE-2025-62727, CVE-2024-47874"),
    "fastapi": ("0.109.1", "CVE-2024-24762"),
    "h11": ("0.16.0", "CVE-2025-43859"),
    "scikit-learn": ("1.5.0", "CVE-2024-5206"),
    "joblib": ("1.2.0", "CVE-2022-21797"),
    "idna": ("3.7", "CVE-2024-3651"),
    "pydantic": ("1.10.13", "CVE-2024-3772"),
    "certifi": ("2024.7.4", "CVE-2024-39689"),
    "redis": ("4.5.4", "CVE-2023-28859"),
    "celery": ("5.2.2", "CVE-2021-23727"),
    "uvicorn": ("0.11.7", "CVE-2020-7694"),
    "httpx": ("0.23.0", "CVE-2021-41945"),
    "numpy": ("1.22.2", "CVE-2021-41495"),
    "pyyaml": ("5.4", "CVE-2020-14343"),
}
VERSION = re.compile(r"^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?$")
CLAUSE = re.compile(r"^(==|!=|<=|>=|<|>)\s*(\S+)$")
REQUIREMENT = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*([^;]*?)\s*(?:;\s*(.+))?$"
)
MARKER_ATOM = re.compile(r'^(\w+)\s*(==|!=|<=|>=|<|>)\s*"([^"]*)"$')
# pdm.lock targets CPython ==3.11.* on every platform.
LOCK_ENVIRONMENTS = [
    {
        "python_version": "3.11",
        "python_full_version": f"3.11.{patch}",
        "platform_system": system,
        "sys_platform": platform,
    }
    for patch in range(30)
    for system, platform in (("Linux", "linux"), ("Darwin", "darwin"), ("Windows", "win32"))
]
IGNORE_ID = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[2-9cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+)$")


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pins(lines: list[str]) -> dict[str, str]:
    return {name: version for name, (version, _) in _pins_with_markers(lines).items()}


def _pins_with_markers(lines: list[str]) -> dict[str, tuple[str, str | None]]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"not an exact pin: {line!r}"
        name = match.group(1).lower()
        assert name not in pins, f"{name} pinned twice"
        pins[name] = (match.group(2), match.group(3))
    return pins


def _requirements(service: str) -> dict[str, str]:
    path = PROJECT_ROOT / f"requirements-{service}.txt"
    return _pins(path.read_text(encoding="utf-8").splitlines())


def _group_roots(group: str) -> list[str]:
    """The pins pyproject.toml declares for a group (dev is a PEP 735 dependency group)."""
    project = _pyproject()
    if group == "default":
        return project["project"]["dependencies"]
    if group == "dev":
        return project["dependency-groups"]["dev"]
    return project["project"]["optional-dependencies"][group]


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_packages() -> dict[tuple[str, tuple[str, ...]], dict]:
    lock = tomllib.loads((PROJECT_ROOT / "pdm.lock").read_text(encoding="utf-8"))
    return {(_normalize(p["name"]), tuple(sorted(p.get("extras", [])))): p for p in lock["package"]}


def _version_key(text: str) -> tuple:
    """Ordering key of a plain release, pre-release or post-release version (PEP 440 subset)."""
    match = VERSION.match(text)
    assert match, f"unsupported version {text!r}"
    release = tuple(int(part) for part in match.group(1).split("."))
    release += (0,) * (8 - len(release))
    pre = (3, 0)  # a final release sorts after its pre-releases
    if match.group(2):
        pre = ({"a": 0, "b": 1, "rc": 2}[match.group(2)], int(match.group(3)))
    return (release, pre, int(match.group(4) or 0))


def _compare(left: object, op: str, right: object) -> bool:
    return {
        "==": left == right,
        "!=": left != right,
        "<=": left <= right,
        ">=": left >= right,
        "<": left < right,
        ">": left > right,
    }[op]


def _satisfies(version: str, specifier: str) -> bool:
    """Whether ``version`` meets every comma-separated clause of ``specifier``."""
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        match = CLAUSE.match(clause)
        assert match, f"unsupported specifier clause {clause!r}"
        op, target = match.groups()
        if target.endswith(".*"):
            assert op in ("==", "!="), clause
            prefix = target[:-2].split(".")
            same = version.split(".")[: len(prefix)] == prefix
            if same != (op == "=="):
                return False
        elif not _compare(_version_key(version), op, _version_key(target)):
            return False
    return True


def _marker_holds(marker: str, environment: dict[str, str]) -> bool:
    """Evaluate an environment marker made of ``and``/``or`` atoms (no parentheses)."""
    assert "(" not in marker, f"unsupported marker {marker!r}"
    for alternative in marker.split(" or "):
        atoms = [MARKER_ATOM.match(atom.strip()) for atom in alternative.split(" and ")]
        assert all(atoms), f"unsupported marker {marker!r}"
        if all(_atom_holds(*atom.groups(), environment) for atom in atoms):
            return True
    return False


def _atom_holds(variable: str, op: str, value: str, environment: dict[str, str]) -> bool:
    actual = environment[variable]
    if variable in ("python_version", "python_full_version"):
        return _compare(_version_key(actual), op, _version_key(value))
    assert op in ("==", "!="), f"{variable} {op} {value}"
    return _compare(actual, op, value)


def _locked_dependencies(package: dict) -> list[tuple[tuple[str, tuple[str, ...]], str, str]]:
    """(lock key, specifier, original line) of each dependency that applies to a lock target."""
    out = []
    for line in package.get("dependencies", []):
        match = REQUIREMENT.match(line)
        assert match, f"{package['name']}: unparsable dependency {line!r}"
        name, extras, specifier, marker = match.groups()
        if marker and not any(_marker_holds(marker, env) for env in LOCK_ENVIRONMENTS):
            continue
        extra_key = tuple(sorted(_normalize(e.strip()) for e in (extras or "").split(",") if e))
        out.append(((_normalize(name), extra_key), specifier, line))
    return out


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
    if service in MODEL_SERVICES:
        # `pdm export --prod -G <service>` includes the default dependencies.
        default = _pins(project["project"]["dependencies"])
        for name, version in default.items():
            assert required.get(name) == version, f"{service}: {name}"


def test_airflow_group_is_what_the_dag_adds_to_the_image() -> None:
    """Airflow comes with its image (pinned in the Dockerfile); the group is the ML stack only."""
    declared = _pins(_group_roots("airflow"))
    assert "apache-airflow" not in declared
    assert "apache-airflow" not in _requirements("airflow")
    assert set(declared) == set(MODEL_STACK)


def test_lock_holds_every_locked_pin() -> None:
    lock = tomllib.loads((PROJECT_ROOT / "pdm.lock").read_text(encoding="utf-8"))
    assert lock["metadata"]["lock_version"].startswith("4.")
    assert "inherit_metadata" in lock["metadata"]["strategy"], "pdm export needs it"
    assert set(lock["metadata"]["groups"]) == set(LOCKED_GROUPS)
    locked = {p["name"]: (p["version"], p.get("marker")) for p in lock["package"]}
    for service in ("api", "worker", "airflow", "dev"):
        path = PROJECT_ROOT / f"requirements-{service}.txt"
        pins = _pins_with_markers(path.read_text(encoding="utf-8").splitlines())
        for name, (version, marker) in pins.items():
            assert name in locked, f"{service}: {name} is not locked"
            assert locked[name][0] == version, f"{service}: {name}"
            if service != "dev" or marker is not None:
                # Exported files copy the lock entry's marker; hand-pinned dev may leave it out.
                assert marker == locked[name][1], f"{service}: {name} marker"


def test_lock_dependencies_are_locked_at_satisfying_versions() -> None:
    """Every dependency a locked package declares is locked, in range, in the same groups."""
    packages = _lock_packages()
    problems = []
    for package in packages.values():
        for dep_key, specifier, line in _locked_dependencies(package):
            locked = packages.get(dep_key)
            if locked is None:
                problems.append(f"{package['name']} needs {line!r}, which is not locked")
            elif not _satisfies(locked["version"], specifier):
                problems.append(f"{package['name']} needs {line!r}, locked {locked['version']}")
            elif not set(package["groups"]) <= set(locked["groups"]):
                problems.append(
                    f"{dep_key[0]} groups {locked['groups']} lack {package['name']}'s "
                    f"{package['groups']}"
                )
    assert not problems, "\n".join(problems)


def _closure(
    roots: list[str], packages: dict[tuple[str, tuple[str, ...]], dict]
) -> set[tuple[str, tuple[str, ...]]]:
    """Lock keys of ``roots`` and everything they need on a lock target, transitively."""
    todo = []
    for line in roots:
        match = REQUIREMENT.match(line)
        assert match, f"unparsable requirement {line!r}"
        extras = tuple(
            sorted(_normalize(e.strip()) for e in (match.group(2) or "").split(",") if e)
        )
        todo.append((_normalize(match.group(1)), extras))
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        assert key in packages, f"{key[0]} is required but not locked"
        todo += [dep_key for dep_key, _, _ in _locked_dependencies(packages[key])]
    return seen


def test_every_locked_package_is_needed() -> None:
    """The lock holds exactly the closure of pyproject's default, api, worker, airflow and dev
    pins."""
    packages = _lock_packages()
    roots = [line for group in LOCKED_GROUPS for line in _group_roots(group)]
    seen = _closure(roots, packages)
    assert set(packages) == seen, f"locked but never required: {sorted(set(packages) - seen)}"


@pytest.mark.parametrize("group", LOCKED_GROUPS)
def test_lock_groups_are_each_groups_closure(group: str) -> None:
    """A package's `groups` name exactly the groups whose pins need it: `pdm export -G <group>`
    selects packages by this field, so a missing group drops a package from an image and an
    extra one adds a package it does not need."""
    packages = _lock_packages()
    needed = _closure(_group_roots(group), packages)
    tagged = {key for key, package in packages.items() if group in package["groups"]}
    assert tagged == needed, (
        f"{group}: tagged but not needed {sorted(tagged - needed)}, "
        f"needed but not tagged {sorted(needed - tagged)}"
    )


def test_helpers_reject_what_they_should() -> None:
    """The little PEP 440 / marker evaluator above can say no (the lock tests depend on it)."""
    assert _satisfies("0.16.0", ">=0.16")
    assert not _satisfies("0.14.0", "<0.15,>=0.16")
    assert _satisfies("1.0.9", "==1.*")
    assert not _satisfies("2.0.0", "==1.*")
    assert not _satisfies("1.8.1", "!=1.8,!=1.8.1")
    assert _satisfies("1.10.22", "!=1.8,!=1.8.1,<3.0.0,>=1.7.4")
    linux = LOCK_ENVIRONMENTS[0]
    assert not _marker_holds('python_full_version <= "3.11.0a6"', linux)
    assert _marker_holds('python_full_version <= "3.11.2"', linux)
    assert not _marker_holds('platform_system == "Windows" or sys_platform == "win32"', linux)
    assert _marker_holds('python_version < "3.13"', linux)
    assert not _marker_holds('python_version >= "3.12"', linux)


@pytest.mark.parametrize("package", MODEL_STACK)
def test_model_stack_is_identical_in_every_image(package: str) -> None:
    versions = {service: _requirements(service).get(package) for service in MODEL_SERVICES}
    assert None not in versions.values(), f"{package} unpinned somewhere: {versions}"
    assert len(set(versions.values())) == 1, f"{package} differs between images: {versions}"


def test_pins_clear_known_advisories() -> None:
    pinned = [(f"requirements-{s}.txt", _requirements(s)) for s in SERVICES]
    pinned.append(("pdm.lock", {key[0]: p["version"] for key, p in _lock_packages().items()}))
    problems = []
    for source, pins in pinned:
        for name, version in pins.items():
            floor, advisory = SECURITY_FLOORS.get(_normalize(name), ("0", ""))
            if _version_key(version) < _version_key(floor):
                problems.append(f"{source}: {name}=={version} is below {floor} ({advisory})")
    assert not problems, "\n".join(problems)


def test_trivyignore_entries_name_an_advisory_with_a_reason_and_an_expiry() -> None:
    lines = (PROJECT_ROOT / ".trivyignore").read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].startswith("#"), "start .trivyignore with its header comment"
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split()
        assert IGNORE_ID.match(fields[0]), f"line {number}: {fields[0]!r} is no advisory ID"
        assert fields[0] not in seen, f"line {number}: {fields[0]} listed twice"
        seen.add(fields[0])
        assert len(fields) == 2 and fields[1].startswith("exp:"), f"line {number}: add exp:DATE"
        datetime.date.fromisoformat(fields[1][len("exp:") :])
        previous = number - 2
        while previous >= 0 and IGNORE_ID.match(lines[previous].split(" ")[0]):
            previous -= 1
        assert previous >= 0 and lines[previous].startswith("#"), (
            f"line {number}: explain {fields[0]} in a comment right above it"
        )


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
    froms = [i for i in instructions if i.startswith("FROM ")]
    assert instructions[1] == froms[0]
    assert froms[-1] == f"FROM ${{{base_arg}}}", "the shipped stage is the base image"
    if service == "api":
        # The champion model is trained by the project's own full pipeline in a build stage
        # and baked in where the service loads it (MODEL_PATH); readiness waits for it.
        assert froms == [f"FROM ${{{base_arg}}} AS model", f"FROM ${{{base_arg}}}"]
        assert "python -m soccerpredict.pipeline.train --full" in text
        assert "COPY --from=model /build/models/model.pkl /app/models/model.pkl" in text
        assert "MODEL_PATH=/app/models/model.pkl" in text
    else:
        assert len(froms) == 1
    assert f"requirements-{service}.txt" in text
    assert re.findall(r"^USER (\S+)", text, re.M)[-1].startswith("10001")
    assert not any(i.startswith("HEALTHCHECK") for i in instructions)
    assert "--mount=type=secret,id=pip_index_url,required=false" in text
    assert not re.search(r"^(ENV|ARG) .*(TOKEN|PASSWORD|SECRET|INDEX_URL)", text, re.M | re.I)
    if service in ("api", "worker"):
        # The python base image's setuptools 65.5.1 carries HIGH advisories; nothing needs it.
        assert "pip uninstall --yes setuptools wheel" in text
    if service == "airflow":
        # The image provides Airflow; the install pins it to the image's version so pip cannot
        # move it while installing requirements-airflow.txt.
        tag = re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:(\S+?)-python3\.11$", text, re.M)
        version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", text, re.M)
        assert tag and version and tag.group(1) == version.group(1), "image tag != AIRFLOW_VERSION"
        assert instructions.index(f"ARG AIRFLOW_VERSION={version.group(1)}") == 2, "after FROM"
        assert re.search(
            r'pip install --no-cache-dir "apache-airflow==\$\{AIRFLOW_VERSION\}" '
            r"-r /opt/soccerpredict/requirements-airflow.txt$",
            text,
            re.M,
        )
    if service == "api":
        assert "EXPOSE 8000" in text
        assert instructions[-1] == (
            'CMD ["uvicorn", "soccerpredict.api.app:app", "--host", "0.0.0.0", "--port", "8000"]'
        )
