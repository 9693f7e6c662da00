#!/usr/bin/env bash
# Type-checks the Dagger module and runs its offline tests without an engine: tests/harness
# stands in for the generated bindings through `go -overlay`; nothing is written into dagger/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$root"
go run ./tests/harness -module dagger -tests tests/module -out "$scratch"
cd dagger
go build -tags daggerharness -overlay "$scratch/overlay.json" -o /dev/null .
go test -vet=off -tags daggerharness -overlay "$scratch/overlay.json" -count=1 "$@" .
