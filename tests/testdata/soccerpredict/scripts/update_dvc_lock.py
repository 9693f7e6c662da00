"""Recompute the DVC hashes shipped with the project (no DVC needed, PyYAML is).

    python scripts/update_dvc_lock.py

* ``data/raw/matches.csv.dvc`` gets the raw file's md5 and size (DVC 3 ``hash: md5``).
* ``dvc.lock`` gets the deterministic stages (``prepare``, ``featurize``): each stage command is
  run exactly as dvc.yaml states it (parameters interpolated from params.yaml), then the md5 and
  size of every dependency and output are recorded. ``train`` and ``evaluate`` are left out on
  purpose: their outputs (a pickle, timing metrics) are not reproducible byte for byte, so
  ``dvc repro --dry`` lists them as never run.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCKED_STAGES = ("prepare", "featurize")
RAW = "data/raw/matches.csv"


def file_hash(rel: str) -> dict[str, Any]:
    data = (ROOT / rel).read_bytes()
    return {"md5": hashlib.md5(data).hexdigest(), "size": len(data)}


def lookup(params: dict[str, Any], dotted: str) -> Any:
    value: Any = params
    for part in dotted.split("."):
        value = value[part]
    return value


def interpolate(cmd: str, params: dict[str, Any]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: str(lookup(params, m.group(1).strip())), cmd)


def entry(rel: str) -> str:
    h = file_hash(rel)
    return f"    - path: {rel}\n      hash: md5\n      md5: {h['md5']}\n      size: {h['size']}\n"


def scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...").strip()


def main() -> None:
    raw = file_hash(RAW)
    (ROOT / f"{RAW}.dvc").write_text(
        "outs:\n"
        f"- md5: {raw['md5']}\n"
        f"  size: {raw['size']}\n"
        "  hash: md5\n"
        f"  path: {Path(RAW).name}\n",
        encoding="utf-8",
    )
    pipeline = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    lines = ["schema: '2.0'\n", "stages:\n"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for name in LOCKED_STAGES:
        stage = pipeline["stages"][name]
        cmd = interpolate(stage["cmd"], params)
        runnable = cmd.replace(" python -m ", f" {sys.executable} -m ", 1)
        subprocess.run(runnable, shell=True, cwd=ROOT, env=env, check=True)
        lines.append(f"  {name}:\n    cmd: {cmd}\n    deps:\n")
        lines.extend(entry(dep) for dep in stage["deps"])
        lines.append("    params:\n      params.yaml:\n")
        lines.extend(f"        {key}: {scalar(lookup(params, key))}\n" for key in stage["params"])
        lines.append("    outs:\n")
        lines.extend(entry(out) for out in stage["outs"])
    (ROOT / "dvc.lock").write_text("".join(lines), encoding="utf-8")
    print(f"updated {RAW}.dvc and dvc.lock ({', '.join(LOCKED_STAGES)})")


if __name__ == "__main__":
    main()
