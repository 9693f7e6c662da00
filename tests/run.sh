#!/usr/bin/env bash
# Runs every test of this repository without a container engine, installing what it needs:
# Go modules (Go module proxy) and the sample project's Python packages (Debian).
#   1. the sample project's own tests (pytest + Hypothesis on Debian's packages) and a real
#      smoke training run, whose metrics the Go model gate then evaluates;
#   2. go test ./... (ci/ decisions, registry, GitLab CI, harness, pins, sample vs gates);
#   3. the modules kept apart so their heavy dependencies never reach the Dagger module's build
#      graph: ci/deploy/secrets (SOPS + age, sops-decrypt), ci/artifact/attest/sigstore
#      (sigstore-go; its tests build the real cosign CLI), ci/cmd/oci (the registry tool, which
#      signs with sigstore-go) and tests/chart (Helm SDK, Kubernetes types), whose live tests run
#      the module's helm command lines against a real control plane that tests/cluster/up.sh
#      builds (k8s.io/kubernetes, etcd, kwok, helm; cached) and starts, and tests/cluster/down.sh
#      stops at exit;
#   4. the Dagger module itself, type-checked and exercised offline (tests/run-module-tests.sh).
#   5. tests/admission/engines (its own module, run in the background from the start): the
#      admission policies of docs/evidence.md evaluated by Kyverno's CLI and the
#      policy-controller's tester against attached evidence. The engines are built from the Go
#      module proxy only with SP_ADMISSION_ENGINES=build (about 39 CPU-minutes cold, once per
#      machine: more than CI's budget for a cold run); once built they always run, and until
#      then the run says they were skipped.
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
for mod in . ci/deploy/secrets ci/artifact/attest/sigstore ci/cmd/oci tests/chart tests/cluster/tools tests/admission/engines dagger; do
	# An untidy go.mod/go.sum fails here, naming the module, instead of as a missing go.sum entry
	# halfway through the run.
	if ! (cd "$mod" && go mod download && go mod tidy -diff >/dev/null); then
		echo "the $mod module is not tidy: run (cd $mod && go mod tidy) and commit go.mod/go.sum" >&2
		exit 1
	fi
done

scratch=$(mktemp -d)
# The cluster of this run is its own (state and ports), apart from one a developer may have up.
export SP_CLUSTER_STATE="$scratch/cluster" SP_CLUSTER_PORT=${SP_CLUSTER_PORT:-26443}
cluster_pid=
admission_pid=
trap '[[ -n $cluster_pid ]] && kill "$cluster_pid" 2>/dev/null; [[ -n $admission_pid ]] && kill "$admission_pid" 2>/dev/null; bash tests/cluster/down.sh || true; rm -rf "$scratch"' EXIT
export SP_SMOKE_METRICS="$scratch/candidate.json"
export SP_MODEL_RUNS="$scratch/runs"

# The control plane's cold build (k8s.io/kubernetes, etcd, kwok, helm) is the longest step: it runs
# in the background from here, beside the Python section (one core) and the root module's tests.
echo "== control plane for the live tests (tests/cluster/up.sh): building and starting in the background"
bash tests/cluster/up.sh >"$scratch/kubeconfig.path" 2>"$scratch/cluster.log" &
cluster_pid=$!

# The admission policies' engines (Kyverno's CLI and the policy-controller's tester, cached by
# version; built niced from the Go module proxy with SP_ADMISSION_ENGINES=build, about 39
# CPU-minutes cold) run in the background too; the run waits for them at the end.
if [[ ${SP_ADMISSION_ENGINES:-} == build ]]; then
	echo "== admission policies evaluated by their engines (tests/admission/engines): building (SP_ADMISSION_ENGINES=build) and testing in the background"
else
	echo "== admission policies evaluated by their engines (tests/admission/engines), if built: testing in the background"
fi
# -timeout: the builds run inside the test, niced behind everything else on a shared machine.
(cd tests/admission/engines && go vet ./... && go test -count=1 -timeout 40m -v ./...) >"$scratch/admission.log" 2>&1 &
admission_pid=$!

echo "== sample project (Python, Debian packages)"
SMOKE_METRICS_OUT="$SP_SMOKE_METRICS" MODEL_RUNS_OUT="$SP_MODEL_RUNS" bash tests/python/run.sh

echo "== go vet + go test (root module)"
go vet ./...
go test -count=1 ./...

echo "== control plane for the live tests: waiting for tests/cluster/up.sh"
if ! wait "$cluster_pid"; then
	cat "$scratch/cluster.log" >&2
	echo "tests/cluster/up.sh failed (its output is above); run it alone to retry: bash tests/cluster/up.sh" >&2
	exit 1
fi
cluster_pid=
cat "$scratch/cluster.log"
SP_CLUSTER_KUBECONFIG=$(cat "$scratch/kubeconfig.path")
export SP_CLUSTER_KUBECONFIG

for mod in ci/deploy/secrets ci/artifact/attest/sigstore ci/cmd/oci tests/chart; do
	echo "== go vet + go test ($mod module)"
	(cd "$mod" && go vet ./... && go test -count=1 ./...)
done

echo "== Dagger module, offline"
bash tests/run-module-tests.sh

echo "== go vet + go test (tests/admission/engines module): waiting for the background run"
if ! wait "$admission_pid"; then
	cat "$scratch/admission.log" >&2
	echo "tests/admission/engines failed (its output is above); run it alone: (cd tests/admission/engines && go test -count=1 ./...)" >&2
	exit 1
fi
admission_pid=
# The verdicts, and why an engine was skipped (not built: SP_ADMISSION_ENGINES=build builds it).
grep -E -- '^(ok|--- (PASS|SKIP|FAIL): Test)| is not built: ' "$scratch/admission.log"
