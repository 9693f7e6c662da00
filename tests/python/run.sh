#!/usr/bin/env bash
# Runs the bundled SoccerPredictAI sample project's own checks with Debian's Python packages:
# the smoke training run, the full run and the champion gate on its metrics, then the pytest suite (last, so the
# output ends with pytest's "N passed" line). Nothing is written into the source tree.
# Debian bookworm's packages (fastapi 0.92, pydantic 1.10, pandas 1.5, scikit-learn 1.2) are older
# than the images' pins in requirements-*.txt (fastapi 0.121, pandas 2.1, scikit-learn 1.5): the
# project keeps to APIs both support, so this run also checks that it still works on the old ones.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$here/../testdata/soccerpredict"
python=/usr/bin/python3

packages=(
  python3-pytest
  python3-hypothesis
  python3-pandas
  python3-sklearn
  python3-fastapi
  python3-httpx
  python3-celery
  python3-yaml
  # tests/sample/reproducible_test.go: pip installs the project (built with setuptools) twice
  python3-pip
  python3-setuptools
  python3-wheel
)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$project/src"
export PYTHONDONTWRITEBYTECODE=1
export HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis"
export MODEL_PATH="$work/no-model.pkl"
cd "$project"

echo "== smoke training run"
"$python" -m soccerpredict.pipeline.train --smoke \
  --out "$work/metrics/candidate.json" --model-out "$work/models/model.pkl"

echo "== full training run (the champion's pipeline: params.yaml on data/raw)"
"$python" -m soccerpredict.pipeline.train --full \
  --out "$work/runs/full.json" --model-out "$work/models/full.pkl"

echo "== champion gate on the full candidate"
"$python" - "$work/runs/full.json" metrics/champion.json <<'EOF'
import json
import sys

from soccerpredict.pipeline.steps import compare_to_champion

candidate = json.load(open(sys.argv[1]))
champion = json.load(open(sys.argv[2]))
# Quality only here: latency is a signal, judged by the pipeline's own gate.
regressions = compare_to_champion(candidate, champion, tolerance=0.0, latency_tolerance=1e9)
if regressions:
    sys.exit("full candidate is worse than the bundled champion: " + "; ".join(regressions))
print("candidate matches the champion:", json.dumps(candidate, sort_keys=True))
EOF

# The smoke candidate for tests/sample (it must run, not beat the full-data champion).
if [[ -n "${SMOKE_METRICS_OUT:-}" ]]; then
  cp "$work/metrics/candidate.json" "$SMOKE_METRICS_OUT"
fi

# Real runs for the pipeline's own model gate (Go, ci/gate/modelgate; tests/sample): the full
# candidate, a genuinely worse one (almost no inverse regularisation, C=1e-5) and a genuinely
# slower one (a 300-tree random forest).
if [[ -n "${MODEL_RUNS_OUT:-}" ]]; then
  echo "== worse and slower candidates for the model-gate tests"
  "$python" -m soccerpredict.pipeline.train --full --C 0.00001 \
    --out "$work/runs/worse.json" --model-out "$work/models/worse.pkl"
  "$python" -m soccerpredict.pipeline.train --full --model forest \
    --out "$work/runs/slower.json" --model-out "$work/models/slower.pkl"
  mkdir -p "$MODEL_RUNS_OUT"
  cp "$work/runs/"*.json "$MODEL_RUNS_OUT/"
fi

echo "== pytest"
"$python" -m pytest -q -p no:cacheprovider
