#!/usr/bin/env bash
# Starts a real Kubernetes control plane on this machine, the way kwokctl's "binary" runtime
# does, and prints the path of its admin kubeconfig on stdout (everything else goes to stderr):
#   etcd, kube-apiserver (RBAC, admission, ValidatingAdmissionPolicy), kube-controller-manager,
#   kube-scheduler, and the kwok controller, which plays the kubelet of fake nodes: it moves
#   their pods through the stages kwok ships (scheduled pods become Running and Ready).
# Everything is built from source through the Go module proxy at the versions pinned in
# tests/cluster/tools/go.mod (one `go build`, cached under $SP_CLUSTER_CACHE/<key>, keyed by
# those versions and go.sum), together with the helm CLI the module's helm image runs.
#
#   tests/cluster/up.sh [--address=IP]      (default 127.0.0.1, or $SP_CLUSTER_ADDRESS)
#   tests/cluster/down.sh                   stops exactly what up.sh started
#
# The API server listens on IP:$SP_CLUSTER_PORT (default 16443) and the kubeconfig names that
# address, with every certificate embedded, so it also works inside a container that reaches IP
# (for a Dagger engine on this machine, the bridge gateway, e.g. --address=172.17.0.1).
# Idempotent: when the cluster of $SP_CLUSTER_STATE is up, it prints its kubeconfig and exits.
# Readiness can be held for tests: a pod any of whose images is pinned to the digest
# sha256:$(printf never-ready | sha256sum) stays Running but never Ready.
# Environment: SP_CLUSTER_STATE (default ${XDG_RUNTIME_DIR:-/tmp}/soccer-predict-cluster),
#   SP_CLUSTER_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/soccer-predict/cluster),
#   SP_CLUSTER_PORT (default 16443; etcd uses the next two ports, kwok the third, on 127.0.0.1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

address=${SP_CLUSTER_ADDRESS:-127.0.0.1}
for arg in "$@"; do
	case "$arg" in
	--address=*) address=${arg#--address=} ;;
	-h | --help)
		sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "up.sh: unknown argument $arg: the only argument is --address=IP" >&2
		exit 2
		;;
	esac
done
if ! [[ "$address" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "up.sh: --address=$address is not an IPv4 address: pass the address to listen on, e.g. --address=127.0.0.1" >&2
	exit 2
fi

port=${SP_CLUSTER_PORT:-16443}
etcd_port=$((port + 1))
etcd_peer_port=$((port + 2))
kwok_port=$((port + 3))
state=${SP_CLUSTER_STATE:-${XDG_RUNTIME_DIR:-/tmp}/soccer-predict-cluster}
cache_root=${SP_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/soccer-predict/cluster}
kubeconfig="$state/admin.kubeconfig"

log() { echo "up.sh: $*" >&2; }

# --- versions and the build cache ----------------------------------------------------------
version_of() { awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$here/tools/go.mod"; }
k8s_version=$(version_of k8s.io/kubernetes)
etcd_version=$(version_of go.etcd.io/etcd/server/v3)
kwok_version=$(version_of sigs.k8s.io/kwok)
helm_version=$(version_of helm.sh/helm/v4)
# The versions the binaries report, stamped as Kubernetes' and Helm's own builds do (an unstamped
# kube-apiserver says v0.0.0-master, which every chart's kubeVersion refuses).
k8s_minor=$(echo "$k8s_version" | cut -d. -f2)

ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done
ldflags+=" -X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.metadata="
ldflags+=" -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
sum=$( (cat "$here/tools/go.mod" "$here/tools/go.sum" "$here/tools/etcd/main.go"; echo "$ldflags") | sha256sum | cut -c1-12)
key="k8s-$k8s_version-etcd-$etcd_version-kwok-$kwok_version-helm-$helm_version-$(go env GOOS)-$(go env GOARCH)-$sum"
bin="$cache_root/$key/bin"
components=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok helm)

build() {
	local missing=0 c
	for c in "${components[@]}"; do [[ -x "$bin/$c" ]] || missing=1; done
	((missing)) || return 0
	log "building ${components[*]} ($key) into $bin, once; a cold build takes minutes"
	local start=$SECONDS tmp="$cache_root/$key/bin.tmp.$$"
	rm -rf "$tmp" && mkdir -p "$tmp"
	# One go build: the binaries share the compile work of their common packages.
	(cd "$here/tools" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler \
		./etcd \
		sigs.k8s.io/kwok/cmd/kwok \
		helm.sh/helm/v4/cmd/helm)
	rm -rf "$bin" && mv "$tmp" "$bin"
	log "built in $((SECONDS - start))s"
}

# --- running? -------------------------------------------------------------------------------
alive() { [[ -f "$state/pids/$1" ]] && kill -0 "$(cat "$state/pids/$1")" 2>/dev/null; }

healthy() {
	[[ -f "$state/pki/admin.crt" ]] || return 1
	curl -fsS --max-time 2 --cacert "$state/pki/ca.crt" --cert "$state/pki/admin.crt" --key "$state/pki/admin.key" \
		"https://$address:$port/readyz" >/dev/null 2>&1
}

if [[ -f "$state/address" ]]; then
	running=0
	for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do alive "$c" && running=1; done
	if ((running)); then
		if [[ "$(cat "$state/address-port" 2>/dev/null || true)" != "$address:$port" ]]; then
			echo "up.sh: a cluster is already running in $state on $(cat "$state/address-port" 2>/dev/null || cat "$state/address"): run tests/cluster/down.sh first to start one on $address:$port" >&2
			exit 1
		fi
		all=1
		for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do alive "$c" || all=0; done
		if ((all)) && healthy; then
			log "already running ($state)"
			echo "$kubeconfig"
			exit 0
		fi
		log "a previous cluster in $state is half up: stopping it first"
		"$here/down.sh" >&2
	fi
fi

build

mkdir -p "$state/pids" "$state/logs" "$state/pki"
rm -f "$state/pids/"*
echo "$address" >"$state/address"
echo "$address:$port" >"$state/address-port"

# --- certificates ---------------------------------------------------------------------------
pki="$state/pki"
if ! [[ -f "$pki/ca.crt" && -f "$pki/server.crt" ]] || ! openssl x509 -in "$pki/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$address\b"; then
	log "generating certificates in $pki"
	(
		cd "$pki"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 365 \
			-subj "/CN=soccer-predict-test-ca" >/dev/null 2>&1
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=kube-apiserver" >/dev/null 2>&1
		printf 'subjectAltName=IP:%s,IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' "$address" >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
			-days 365 -extfile server.ext >/dev/null 2>&1
		# The admin: group system:masters (cluster-admin through RBAC's bootstrap policy).
		openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
			-subj "/O=system:masters/CN=kubernetes-admin" >/dev/null 2>&1
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt \
			-days 365 -extfile client.ext >/dev/null 2>&1
		openssl genrsa -out sa.key 2048 >/dev/null 2>&1
		openssl rsa -in sa.key -pubout -out sa.pub >/dev/null 2>&1
		rm -f ./*.csr
	)
fi

b64() { base64 -w0 <"$1"; }
cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: soccer-predict-test
  cluster:
    server: https://$address:$port
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: kubernetes-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: soccer-predict-test
  context:
    cluster: soccer-predict-test
    user: kubernetes-admin
current-context: soccer-predict-test
EOF
chmod 600 "$kubeconfig"

# --- kwok's stages: the ones kwok ships (node-fast, pod-fast), from the pinned module ------
kwok_dir=$(cd "$here/tools" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
hold="sha256:$(printf never-ready | sha256sum | cut -d' ' -f1)"
{
	cat "$kwok_dir/kustomize/stage/node/fast/node-initialize.yaml"
	for s in pod-ready pod-complete pod-delete; do
		echo "---"
		if [[ $s == pod-ready ]]; then
			# A pod with an image pinned to the hold digest is never made Ready.
			awk -v hold="$hold" '{print} /^    matchExpressions:$/ && !done {
				print "    - key: '"'"'.spec.containers.[].image | split(\"@\") | .[1]'"'"'"
				print "      operator: '"'"'NotIn'"'"'"
				print "      values:"
				print "      - '"'"'" hold "'"'"'"
				done = 1 }' "$kwok_dir/kustomize/stage/pod/fast/$s.yaml"
		else
			cat "$kwok_dir/kustomize/stage/pod/fast/$s.yaml"
		fi
	done
} >"$state/kwok.yaml"
grep -q "$hold" "$state/kwok.yaml" || {
	echo "up.sh: kwok's pod-ready stage changed shape (no matchExpressions): update the readiness hold in up.sh" >&2
	exit 1
}

# --- start ----------------------------------------------------------------------------------
start() { # name args...
	local name=$1
	shift
	setsid "$bin/$name" "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$state/pids/$name"
}
wait_for() { # what seconds command...
	local what=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			echo "up.sh: $what did not come up within ${secs}s; its log is in $state/logs" >&2
			"$here/down.sh" >&2 || true
			exit 1
		fi
		sleep 0.5
	done
}
started=$SECONDS

start etcd --name=node0 --data-dir="$state/etcd" \
	--listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
	--listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
	--initial-cluster="node0=http://127.0.0.1:$etcd_peer_port" \
	--auto-compaction-retention=1 --quota-backend-bytes=8589934592 --unsafe-no-fsync
wait_for etcd 60 curl -fs --max-time 2 "http://127.0.0.1:$etcd_port/health" -o /dev/null

start kube-apiserver --etcd-servers="http://127.0.0.1:$etcd_port" --etcd-prefix=/registry \
	--allow-privileged=true --endpoint-reconciler-type=none \
	--authorization-mode=Node,RBAC \
	--bind-address="$address" --advertise-address="$address" --secure-port="$port" \
	--tls-cert-file="$pki/server.crt" --tls-private-key-file="$pki/server.key" \
	--client-ca-file="$pki/ca.crt" \
	--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-cluster-ip-range=10.0.0.0/24
wait_for kube-apiserver 120 healthy

start kube-controller-manager --kubeconfig="$kubeconfig" --leader-elect=false --secure-port=0 \
	--root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
	--use-service-account-credentials=false --kube-api-qps=1000 --kube-api-burst=2000
start kube-scheduler --kubeconfig="$kubeconfig" --leader-elect=false \
	--bind-address=127.0.0.1 --secure-port=0 --kube-api-qps=1000 --kube-api-burst=2000
start kwok --kubeconfig="$kubeconfig" --config="$state/kwok.yaml" --manage-all-nodes=true \
	--tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" \
	--node-ip=127.0.0.1 --node-port="$kwok_port" --server-address="127.0.0.1:$kwok_port" \
	--node-lease-duration-seconds=40

# --- a fake node, made Ready by kwok --------------------------------------------------------
api() { # method path [body]
	curl -fsS --max-time 10 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
		-X "$1" -H 'Content-Type: application/json' "https://$address:$port$2" ${3:+--data "$3"}
}
node='{"apiVersion":"v1","kind":"Node","metadata":{"name":"kwok-node-0","annotations":{"node.alpha.kubernetes.io/ttl":"0","kwok.x-k8s.io/node":"fake"},"labels":{"kubernetes.io/arch":"amd64","kubernetes.io/hostname":"kwok-node-0","kubernetes.io/os":"linux","type":"kwok"}},"status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},"capacity":{"cpu":"32","memory":"256Gi","pods":"110"}}}'
api GET /api/v1/nodes/kwok-node-0 >/dev/null 2>&1 || api POST /api/v1/nodes "$node" >/dev/null
node_ready() { api GET /api/v1/nodes/kwok-node-0 2>/dev/null | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'; }
wait_for "the kwok node" 120 node_ready
# The default ServiceAccount appears once the controller manager runs: pods need it.
default_sa() { api GET /api/v1/namespaces/default/serviceaccounts/default >/dev/null 2>&1; }
wait_for kube-controller-manager 120 default_sa
for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
	alive "$c" || {
		echo "up.sh: $c exited; its log: $state/logs/$c.log" >&2
		tail -20 "$state/logs/$c.log" >&2
		"$here/down.sh" >&2 || true
		exit 1
	}
done
log "up in $((SECONDS - started))s at https://$address:$port (state $state; helm: $bin/helm)"
echo "$bin" >"$state/bin"
echo "$kubeconfig"
