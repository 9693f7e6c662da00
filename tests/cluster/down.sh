#!/usr/bin/env bash
# Stops exactly what tests/cluster/up.sh started: the processes whose ids it recorded in
# $SP_CLUSTER_STATE/pids (each checked to still run the binary up.sh started), then removes
# that state directory (etcd's data, the certificates, the kubeconfig). The build cache stays.
set -euo pipefail
state=${SP_CLUSTER_STATE:-${XDG_RUNTIME_DIR:-/tmp}/soccer-predict-cluster}
[[ -d "$state/pids" ]] || {
	echo "down.sh: no cluster recorded in $state: nothing to stop" >&2
	exit 0
}
# Reverse start order: the clients first, etcd last.
for c in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
	f="$state/pids/$c"
	[[ -f "$f" ]] || continue
	pid=$(cat "$f")
	# Only a process still running up.sh's binary: a recycled pid is left alone.
	if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == */"$c" ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null || true)" == */"$c" ]]; then
			kill -9 "$pid" 2>/dev/null || true
		fi
		echo "down.sh: stopped $c ($pid)" >&2
	fi
	rm -f "$f"
done
rm -rf "$state"
