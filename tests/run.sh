#!/usr/bin/env bash
# Runs every test of this repository without a container engine, installing what it needs:
# Go modules (Go module proxy) and the sample project's Python packages (Debian).
#   1. the sample project's own tests (pytest + Hypothesis on Debian's packages) and a real
#      smoke training run, whose metrics the Go model gate then evaluates;
#   2. go test ./... (ci/ decisions, chart, SOPS, registry, GitLab CI, harness, pins);
#   3. the SOPS module (ci/secrets has its own go.mod to keep sops out of the Dagger module);
#   4. the Dagger module itself, type-checked and exercised offline (tests/run-module-tests.sh).
# GITLAB_CI_SCHEMA points at GitLab's JSON Schema for .gitlab-ci.yml (default: ../shared/...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! command -v go >/dev/null; then
	echo "Go is required (https://go.dev/dl); the module and ci/ need Go 1.26" >&2
	exit 1
fi
if [[ -z "${GITLAB_CI_SCHEMA:-}" && -f "$root/../shared/schemas/gitlab-ci.json" ]]; then
	export GITLAB_CI_SCHEMA="$root/../shared/schemas/gitlab-ci.json"
fi

echo "== Go modules"
go mod download
(cd ci/secrets && go mod download)
(cd dagger && go mod download)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SP_SMOKE_METRICS="$scratch/candidate.json"

echo "== sample project (Python, Debian packages)"
SMOKE_METRICS_OUT="$SP_SMOKE_METRICS" bash tests/python/run.sh

echo "== go vet + go test (root module)"
go vet ./...
go test -count=1 ./...

echo "== go test (ci/secrets module: SOPS + age)"
(cd ci/secrets && go vet ./... && go test -count=1 ./...)

echo "== Dagger module, offline"
bash tests/run-module-tests.sh
