#!/usr/bin/env bash
# Runs the bundled SoccerPredictAI sample project's own checks with Debian's Python packages:
# the smoke training run, the champion gate on its metrics, then the pytest suite (last, so the
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

echo "== champion gate on the smoke metrics"
"$python" - "$work/metrics/candidate.json" metrics/champion.json <<'EOF'
import json
import sys

from soccerpredict.pipeline.steps import compare_to_champion

candidate = json.load(open(sys.argv[1]))
champion = json.load(open(sys.argv[2]))
regressions = compare_to_champion(candidate, champion, tolerance=0.0, latency_tolerance=0.0)
if regressions:
    sys.exit("smoke candidate does not beat the bundled champion: " + "; ".join(regressions))
print("candidate beats champion:", json.dumps(candidate, sort_keys=True))
EOF

# The pipeline's own model gate (Go, ci/modelgate) evaluates this real candidate too, when
# tests/run.sh asks for the file.
if [[ -n "${SMOKE_METRICS_OUT:-}" ]]; then
  cp "$work/metrics/candidate.json" "$SMOKE_METRICS_OUT"
fi

echo "== pytest"
"$python" -m pytest -q -p no:cacheprovider
