#!/usr/bin/env bash
# Compile budget of the Dagger module: prints its package count and cold compile time next to a
# bare dagger.io/dagger program's, and fails when the module is over 1.5x the bare program.
#
# Every GitLab job compiles the module on a fresh engine, so what ci/ pulls into the module binary
# costs every job. The module is built offline through tests/harness (the generated bindings are
# aliases of dagger.io/dagger, exactly what the bare program compiles), so the difference is what
# this repository adds. "Cold" means an empty build cache (GOCACHE), with the module cache warm
# (downloads are not compile time). ROUNDS (default 2) cold builds of each; the best counts.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
budget=${BUDGET:-1.5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The bare program: the pinned SDK, connected, nothing else.
mkdir -p "$work/bare"
sdk=$(cd "$root/dagger" && go list -m -f '{{.Version}}' dagger.io/dagger)
cat > "$work/bare/go.mod" <<MOD
module bare

go 1.26.1

require dagger.io/dagger $sdk
MOD
cp "$root/dagger/go.sum" "$work/bare/go.sum"
cat > "$work/bare/main.go" <<'SRC'
package main

import (
	"context"
	"fmt"

	"dagger.io/dagger"
)

func main() {
	c, err := dagger.Connect(context.Background())
	if err != nil {
		panic(err)
	}
	out, err := c.Container().From("alpine").WithExec([]string{"true"}).Stdout(context.Background())
	fmt.Println(out, err)
}
SRC
(cd "$work/bare" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1)

go run "$root/tests/harness" -module "$root/dagger" -tests "$root/tests/module" -out "$work/harness" >/dev/null

cold() { # dir, extra go flags...
	local dir=$1; shift
	local cache; cache=$(mktemp -d)
	local start end
	start=$(date +%s.%N)
	(cd "$dir" && GOCACHE="$cache" go build "$@" -o /dev/null .)
	end=$(date +%s.%N)
	rm -rf "$cache"
	echo "$end - $start" | bc
}
count() { # dir, extra go flags...
	local dir=$1; shift
	(cd "$dir" && go list "$@" -deps . | wc -l)
}

bare_pkgs=$(count "$work/bare")
mod_pkgs=$(count "$root/dagger" -overlay "$work/harness/overlay.json")
# Alternate the two builds and keep each one's best of ROUNDS, so a busy machine skews neither.
rounds=${ROUNDS:-2}
bare_time=999999
mod_time=999999
for _ in $(seq "$rounds"); do
	t=$(cold "$work/bare"); (( $(echo "$t < $bare_time" | bc) )) && bare_time=$t
	t=$(cold "$root/dagger" -overlay "$work/harness/overlay.json"); (( $(echo "$t < $mod_time" | bc) )) && mod_time=$t
done
ratio=$(echo "scale=2; $mod_time / $bare_time" | bc)

printf '%-28s %10s %14s\n' "" "packages" "cold build (s)"
printf '%-28s %10s %14.1f\n' "bare dagger.io/dagger $sdk" "$bare_pkgs" "$bare_time"
printf '%-28s %10s %14.1f\n' "soccer-predict module" "$mod_pkgs" "$mod_time"
printf 'ratio %.2fx (budget %sx), %d extra packages\n' "$ratio" "$budget" $((mod_pkgs - bare_pkgs))
if (( $(echo "$ratio > $budget" | bc) )); then
	echo "over budget: keep heavy libraries out of the packages dagger/ imports (see ci/toolchain)" >&2
	exit 1
fi
