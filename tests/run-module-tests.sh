#!/usr/bin/env bash
# Type-checks, vets and tests the Dagger module without an engine. tests/harness stands in for the
# generated bindings (aliases of the pinned dagger.io/dagger) and adds tests/module/*_test.go:
#   - go build/test use them through `go -overlay`, so nothing is written into dagger/;
#   - go vet cannot follow an overlay into a directory that does not exist, so it runs on a
#     scratch copy of the module with the same files materialised.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$root"
go run ./tests/harness -module dagger -tests tests/module -out "$scratch/harness"

# go vet on a materialised copy.
copy="$scratch/module"
mkdir -p "$copy"
(cd dagger && tar --exclude='./internal' --exclude='./dagger.gen.go' -cf - .) | (cd "$copy" && tar -xf -)
mkdir -p "$copy/internal/dagger"
cp "$scratch/harness/internal_dagger.go" "$copy/internal/dagger/dagger.gen.go"
cp "$scratch/harness/main.go" "$copy/dagger.gen.go"
for t in tests/module/*_test.go; do cp "$t" "$copy/zz_$(basename "$t")"; done
(cd "$copy" && go mod edit -replace=gitlab.com/soccerpredictai/pipeline="$root" && go vet -tags daggerharness ./...)

cd dagger
go build -tags daggerharness -overlay "$scratch/harness/overlay.json" -o /dev/null .
go test -vet=off -tags daggerharness -overlay "$scratch/harness/overlay.json" -count=1 "$@" .
