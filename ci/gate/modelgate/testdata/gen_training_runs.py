"""Regenerates training_runs.json: real runs of small training commands with Debian's python3.

    /usr/bin/python3 ci/gate/modelgate/testdata/gen_training_runs.py > ci/gate/modelgate/testdata/training_runs.json

Each run is a command a project could be called with, its exit code and its combined output,
exactly as the interpreter, argparse, click or env printed them (python3-click for the click
case). The expected verdict of each run is stated by the Go test, not here.
"""

import json
import os
import stat
import subprocess
import sys
import tempfile
import textwrap

# A training script reshaped like a real project's: it trains on the full data by default and
# has only --smoke, --out and --model-out (no --full).
RESHAPED_TRAIN = textwrap.dedent('''
    import argparse, json

    parser = argparse.ArgumentParser(description="Train the model (full data unless --smoke).")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", required=True)
    parser.add_argument("--model-out", default="models/model.pkl")
    args = parser.parse_args()
    json.dump({"accuracy": 0.5}, open(args.out, "w"))
''')

CLICK_TRAIN = textwrap.dedent('''
    import click

    @click.command()
    @click.option("--smoke", is_flag=True)
    @click.option("--out", required=True)
    def main(smoke, out):
        open(out, "w").write("{}")

    main()
''')

# Runs that get as far as the project's own code and fail there.
DATA_ERROR = textwrap.dedent('''
    import argparse, sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    print("error: data/raw/matches.csv: missing columns: home_goals", file=sys.stderr)
    sys.exit(1)
''')
TRACEBACK = textwrap.dedent('''
    def fit(rows):
        raise ValueError("Input contains NaN")
    fit([])
''')
MISSING_DEPENDENCY = "import lightgbm_not_installed\n"
# A project that exits 2 for its own reasons, without a usage message.
EXIT_TWO = "import sys\nprint('error: not enough matches to train on (12 < 100)', file=sys.stderr)\nsys.exit(2)\n"


def main() -> None:
    work = tempfile.mkdtemp()
    pkg = os.path.join(work, "src", "soccerpredict", "pipeline")
    os.makedirs(pkg)
    for d in (os.path.join(work, "src", "soccerpredict"), pkg):
        open(os.path.join(d, "__init__.py"), "w").close()
    files = {
        os.path.join(pkg, "train.py"): RESHAPED_TRAIN,
        os.path.join(work, "src", "brokenpkg", "__init__.py"): MISSING_DEPENDENCY,
        os.path.join(work, "src", "brokenpkg", "train.py"): "",
        os.path.join(work, "click_train.py"): CLICK_TRAIN,
        os.path.join(work, "data_error.py"): DATA_ERROR,
        os.path.join(work, "traceback.py"): TRACEBACK,
        os.path.join(work, "missing_dependency.py"): MISSING_DEPENDENCY,
        os.path.join(work, "exit_two.py"): EXIT_TWO,
        os.path.join(work, "train.sh"): "#!/bin/sh\nexit 0\n",
    }
    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    os.chmod(os.path.join(work, "train.sh"), stat.S_IRUSR | stat.S_IWUSR)  # not executable

    py = "/usr/bin/python3"
    full = ["--full", "--out", "/reports/metrics/candidate.json", "--model-out", "/tmp/model/model.pkl"]
    runs = [
        ("argparse-unrecognized", [py, "-m", "soccerpredict.pipeline.train", *full]),
        ("argparse-missing-required", [py, "-m", "soccerpredict.pipeline.train", "--smoke"]),
        ("argparse-expected-one-argument", [py, "-m", "soccerpredict.pipeline.train", "--out"]),
        ("click-no-such-option", [py, "click_train.py", "--full", "--out", "m.json"]),
        ("python-no-module", [py, "-m", "soccerpredict_ml.train", "--out", "m.json"]),
        ("python-no-toplevel-module", [py, "-m", "train", "--out", "m.json"]),
        ("python-package-not-runnable", [py, "-m", "soccerpredict.pipeline", "--out", "m.json"]),
        ("python-no-script", [py, "scripts/train.py", "--out", "m.json"]),
        ("env-command-not-found", ["env", "soccer-train", "--out", "m.json"]),
        ("env-not-executable", ["env", "./train.sh", "--out", "m.json"]),
        ("project-data-error", [py, "data_error.py", "--out", "m.json"]),
        ("project-traceback", [py, "traceback.py"]),
        ("project-missing-dependency", [py, "missing_dependency.py"]),
        ("project-package-missing-dependency", [py, "-m", "brokenpkg.train"]),
        ("project-exit-two", [py, "exit_two.py"]),
    ]
    env = dict(os.environ, PYTHONPATH=os.path.join(work, "src"), PYTHONDONTWRITEBYTECODE="1")
    out = []
    for name, argv in runs:
        p = subprocess.run(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The interpreter's path as a container would print it; the temporary directory removed.
        text = p.stdout.replace(work + "/", "/src/").replace(work, "/src")
        out.append({"name": name, "argv": argv, "exitCode": p.returncode, "output": text})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
