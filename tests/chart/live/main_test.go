// Package live_test runs the module's own Helm command lines (ci/deploy/helm, ci/rollback) with
// the Helm 4 CLI the module's image pins, against the real control plane tests/cluster/up.sh
// starts (kube-apiserver, controller manager, scheduler, etcd; kwok plays the kubelet), and reads
// the result back with client-go and the module's readers (ci/trace, ci/deploy/helm).
//
// TestMain calls up.sh (idempotent; it builds the binaries on a cold cache, which takes longer than
// go test's default -timeout on two cores: run up.sh first) unless SP_CLUSTER_KUBECONFIG names the
// kubeconfig of a cluster up.sh already started; a cluster it started keeps running (stop it with
// tests/cluster/down.sh). It never skips: without a cluster the tests fail, naming the script.
// Each test works in namespaces of its own, so the tests run in parallel.
package live_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	cihelm "gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	citrace "gitlab.com/soccerpredictai/pipeline/ci/trace"
)

var (
	// kubeconfig is the admin kubeconfig up.sh printed; helmBin the helm v4 CLI it built.
	kubeconfig, helmBin string
	kube                *kubernetes.Clientset
	helmHome            string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	kubeconfig = os.Getenv("SP_CLUSTER_KUBECONFIG")
	if kubeconfig == "" {
		up := filepath.Join(repoRoot(), "tests", "cluster", "up.sh")
		cmd := exec.Command("bash", up)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s failed (%v): the live tests need its control plane; run it by hand to see why\n", up, err)
			return 1
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		kubeconfig = lines[len(lines)-1]
	}
	bin, err := os.ReadFile(filepath.Join(filepath.Dir(kubeconfig), "bin"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "no helm next to %s (%v): start the cluster with tests/cluster/up.sh\n", kubeconfig, err)
		return 1
	}
	helmBin = filepath.Join(strings.TrimSpace(string(bin)), "helm")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err == nil {
		kube, err = kubernetes.NewForConfig(cfg)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeconfig %s: %v\n", kubeconfig, err)
		return 1
	}
	helmHome, err = os.MkdirTemp("", "live-helm")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(helmHome)
	return m.Run()
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func chartDir() string { return filepath.Join(repoRoot(), "charts", "soccer-predict") }

// helmEnv is helm's environment: the kubeconfig given, and helm's own directories kept apart.
func helmEnv(kc string) []string {
	env := []string{"KUBECONFIG=" + kc, "HOME=" + helmHome, "PATH=" + os.Getenv("PATH"),
		"HELM_CACHE_HOME=" + filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME=" + filepath.Join(helmHome, "data")}
	return env
}

// helmArgv is argv as ci/deploy/helm composed it, with "helm" resolved to the built CLI.
func helmArgv(t testing.TB, argv []string) []string {
	t.Helper()
	require.Equal(t, "helm", argv[0])
	return append([]string{helmBin}, argv[1:]...)
}

// runHelm runs argv (from ci/deploy/helm or ci/rollback) with kubeconfig kc.
func runHelm(ctx context.Context, t testing.TB, kc string, argv []string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, helmBin, helmArgv(t, argv)[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = helmEnv(kc), &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func mustHelm(t testing.TB, argv []string) string {
	t.Helper()
	out, stderr, err := runHelm(context.Background(), t, kubeconfig, argv)
	require.NoError(t, err, "%s\n%s", strings.Join(argv, " "), stderr)
	return out
}

// digest is a sha256 digest of s: the images never run (kwok plays the kubelet), so any
// well-formed digest deploys.
func digest(s string) domain.Digest {
	h := sha256.Sum256([]byte(s))
	return domain.Digest("sha256:" + hex.EncodeToString(h[:]))
}

// holdDigest is the digest up.sh's kwok stages never make Ready.
var holdDigest = digest("never-ready")

const registry = "registry.gitlab.com/soccerpredictai/soccerpredict"

func imagesAt(tag string) map[domain.Service]domain.ImageRef {
	out := map[domain.Service]domain.ImageRef{}
	for _, svc := range domain.Services() {
		out[svc] = domain.Pinned(domain.Repository(registry+"/"+string(svc)), digest(tag+"/"+string(svc)))
	}
	return out
}

func record(env domain.Environment, commit string) citrace.Record {
	return citrace.Record{
		GitCommit:      domain.Commit(commit),
		DatasetVersion: "dvc-" + string(env) + "-2026.12.01",
		ModelVersion:   "soccer-predict/7",
		Environment:    env,
	}
}

// commit returns a 40-hex commit id derived from s.
func commit(s string) string { return strings.TrimPrefix(string(digest(s)), "sha256:")[:40] }

// release is the module's release of the chart in ns for env, at images tag, recorded as commit.
func release(ns string, env domain.Environment, tag string) cihelm.Release {
	return cihelm.Release{
		Name: "soccer-predict", Namespace: ns, Env: env,
		Chart: chartDir(), SecretsFile: cihelm.SecretsPlaceholder,
		Timeout: 2 * time.Minute,
		Images:  imagesAt(tag), Trace: record(env, commit(tag)),
	}
}

// expected is the record the chart writes for rel: the environment and the digests of its images.
func expected(rel cihelm.Release) citrace.Record {
	rec := rel.Trace
	rec.ImageDigests = map[domain.Service]domain.Digest{}
	for svc, img := range rel.Images {
		rec.ImageDigests[svc] = img.Digest
	}
	return rec
}

// plaintext is env's shipped SOPS file decrypted with the shipped test key, as sops-decrypt does.
// Production's file is encrypted to a recipient nobody holds: staging's stands in for it (the
// chart tests check both hold the same keys).
func plaintext(t testing.TB, env domain.Environment) []byte {
	t.Helper()
	ids, err := secrets.LoadIdentityFile(filepath.Join(repoRoot(), "tests", "testdata", "keys", "test-age.key"))
	require.NoError(t, err)
	from := env
	if env == domain.Production {
		from = domain.Staging
	}
	plain, err := secrets.DecryptFile(secrets.EnvFile(filepath.Join(chartDir(), "secrets"), string(from)), ids)
	require.NoError(t, err)
	return plain
}

// upgrade runs the argv ci/deploy/helm composes for rel under secrets.ExecFile (what
// `sops-decrypt exec-file` runs), with kubeconfig kc.
func upgrade(ctx context.Context, t testing.TB, kc string, rel cihelm.Release) (stdout, stderr string, err error) {
	t.Helper()
	argv, err := cihelm.UpgradeArgs(rel)
	require.NoError(t, err)
	var o, e bytes.Buffer
	err = secrets.ExecFile(ctx, plaintext(t, rel.Env), helmArgv(t, argv), secrets.ExecOptions{
		Dir: t.TempDir(), Placeholder: cihelm.SecretsPlaceholder, Env: helmEnv(kc), Stdout: &o, Stderr: &e,
	})
	return o.String(), e.String(), err
}

func mustUpgrade(t testing.TB, rel cihelm.Release) {
	t.Helper()
	_, stderr, err := upgrade(context.Background(), t, kubeconfig, rel)
	require.NoError(t, err, stderr)
}

// liveTrace reads the record back from the live release as `trace` does.
func liveTrace(t testing.TB, rel, ns string) (citrace.Record, error) {
	t.Helper()
	argv, err := cihelm.GetManifestArgs(rel, ns, 0)
	require.NoError(t, err)
	out, stderr, err := runHelm(context.Background(), t, kubeconfig, argv)
	if err != nil {
		return citrace.Record{}, fmt.Errorf("%v: %s", err, stderr)
	}
	objs, err := cihelm.TraceObjects([]byte(out))
	require.NoError(t, err)
	return citrace.FromManifest(objs, rel)
}

// assertTraced checks that trace reads rel's record back from the live release.
func assertTraced(t testing.TB, rel cihelm.Release) {
	t.Helper()
	got, err := liveTrace(t, rel.Name, rel.Namespace)
	require.NoError(t, err)
	require.Equal(t, expected(rel), got)
}

// holdAPI pins rel's api image to the digest kwok never makes Ready.
func holdAPI(rel cihelm.Release) {
	rel.Images[domain.API] = domain.Pinned(rel.Images[domain.API].Repository, holdDigest)
}

func history(t testing.TB, rel, ns string) []cihelm.Revision {
	t.Helper()
	argv, err := cihelm.HistoryArgs(rel, ns, 0)
	require.NoError(t, err)
	revs, err := cihelm.ParseHistory([]byte(mustHelm(t, argv)))
	require.NoError(t, err)
	return revs
}

func statuses(revs []cihelm.Revision) []string {
	out := make([]string, len(revs))
	for i, r := range revs {
		out[i] = fmt.Sprintf("%d:%s", r.Revision, r.Status)
	}
	return out
}

// namespace creates a fresh namespace for one test and deletes it afterwards.
func namespace(t testing.TB, name string) string {
	t.Helper()
	ctx := context.Background()
	err := kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if err == nil {
		waitGone(t, name)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// waitGone waits for namespace ns to be deleted (the namespace controller empties it first).
func waitGone(t testing.TB, ns string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 2*time.Minute, 500*time.Millisecond, "namespace %s was not deleted", ns)
}

func createNamespace(t testing.TB, ns string) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
}
