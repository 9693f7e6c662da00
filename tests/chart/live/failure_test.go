package live_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	cihelm "gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// heldPods are the pods of ns whose image is pinned to the hold digest (never Ready by kwok).
func heldPods(t *testing.T, ns string) []corev1.Pod {
	t.Helper()
	pods, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && strings.HasSuffix(p.Spec.Containers[0].Image, "@"+string(holdDigest)) {
			out = append(out, p)
		}
	}
	return out
}

// makeReady does for the held pods what the kubelet (kwok's pod-ready stage) does for the others.
func makeReady(t *testing.T, ns string) {
	t.Helper()
	now := metav1.Now()
	for _, p := range heldPods(t, ns) {
		if p.Status.Phase == corev1.PodRunning {
			continue
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.StartTime = &now
		p.Status.Conditions = nil
		for _, c := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue, LastTransitionTime: now})
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image, Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}
		_, err := kube.CoreV1().Pods(ns).UpdateStatus(context.Background(), &p, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			require.NoError(t, err)
		}
	}
}

func waitStatus(t *testing.T, name, ns, status string) {
	t.Helper()
	require.Eventually(t, func() bool {
		revs := history(t, name, ns)
		return len(revs) > 0 && revs[len(revs)-1].Status == status
	}, time.Minute, 200*time.Millisecond, "release %s never became %s", name, status)
}

func TestTwoDeploysOfOneEnvironmentOneWins(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-concurrent")
	base := release(ns, domain.Staging, "conc-1")
	mustUpgrade(t, base)

	// Deploy A's api never becomes Ready by itself: it holds the release pending while B runs.
	a := release(ns, domain.Staging, "conc-a")
	holdAPI(a)
	type result struct {
		stderr string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, err := upgrade(context.Background(), t, kubeconfig, a)
		done <- result{stderr, err}
	}()
	waitStatus(t, base.Name, ns, cihelm.StatusPendingUpgrade)
	require.Eventually(t, func() bool { return len(heldPods(t, ns)) > 0 }, time.Minute, 200*time.Millisecond)

	b := release(ns, domain.Staging, "conc-b")
	_, stderr, err := upgrade(context.Background(), t, kubeconfig, b)
	require.Error(t, err, "the second deploy must be refused while the first runs")
	assert.Contains(t, stderr, "another operation (install/upgrade/rollback) is in progress")
	assert.Contains(t, cihelm.ExplainFailure(stderr), "another deploy or rollback of this release is running")

	// A's pods come up (each new one, as the rollout makes them); A wins, and B left nothing behind.
	var r result
	for waiting := true; waiting; {
		select {
		case r = <-done:
			waiting = false
		case <-time.After(300 * time.Millisecond):
			makeReady(t, ns)
		}
	}
	require.NoError(t, r.err, r.stderr)
	assert.Equal(t, []string{"1:superseded", "2:deployed"}, statuses(history(t, base.Name, ns)))
	assertTraced(t, a)
}

func TestADeployKilledHalfWayIsRecoveredByTheNext(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-killed")
	base := release(ns, domain.Staging, "kill-1")
	mustUpgrade(t, base)

	// A deploy whose helm is killed (SIGKILL: no chance to roll back) mid-rollout.
	killed := release(ns, domain.Staging, "kill-2")
	holdAPI(killed)
	killed.Timeout = 5 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitStatus(t, base.Name, ns, cihelm.StatusPendingUpgrade)
		cancel()
	}()
	_, _, err := upgrade(ctx, t, kubeconfig, killed)
	var ce *secrets.CommandError
	require.True(t, errors.As(err, &ce), "%v", err)
	revs := history(t, base.Name, ns)
	assert.Equal(t, []string{"1:deployed", "2:pending-upgrade"}, statuses(revs))

	// Straight after, it may be another deploy still running: refused, nothing changed.
	next := release(ns, domain.Staging, "kill-3")
	_, err = cihelm.RecoverPending(next.Name, ns, revs, time.Now(), time.Minute)
	require.ErrorContains(t, err, "another deploy of soccer-predict in live-killed is in progress (revision 2 is pending-upgrade since")
	_, stderr, err := upgrade(context.Background(), t, kubeconfig, next)
	require.Error(t, err)
	assert.Contains(t, stderr, "another operation (install/upgrade/rollback) is in progress")

	// Once the killed deploy's timeout has passed, the next deploy recovers, saying so, and deploys.
	time.Sleep(killed.Timeout)
	rec, err := cihelm.RecoverPending(next.Name, ns, history(t, next.Name, ns), time.Now(), killed.Timeout)
	require.NoError(t, err)
	assert.Contains(t, rec.Message, "revision 2 of soccer-predict in live-killed was left pending-upgrade at ")
	assert.Contains(t, rec.Message, "rolled back to revision 1 (the last deployed) before deploying")
	mustHelm(t, rec.Rollback)
	mustUpgrade(t, next)
	// Helm's rollback leaves the killed revision's status as it was; the release is deployed again.
	assert.Equal(t, []string{"1:superseded", "2:pending-upgrade", "3:superseded", "4:deployed"}, statuses(history(t, next.Name, ns)))
	assertServing(t, next)
}

// otherCA is the PEM certificate of a CA that is not the cluster's: another cluster's.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another-cluster-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeKubeconfig writes cfg to a file of the test and returns its path.
func writeKubeconfig(t *testing.T, cfg *clientcmdapi.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func adminConfig(t *testing.T) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	require.NoError(t, err)
	return cfg
}

// assertNothingApplied checks that ns holds none of the chart's objects and no release.
func assertNothingApplied(t *testing.T, ns string) {
	t.Helper()
	ds, err := kube.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsNotFound(err) {
		require.NoError(t, err)
		assert.Empty(t, ds.Items)
	}
	ss, err := kube.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	require.NoError(t, err)
	assert.Empty(t, ss.Items, "no helm release record")
}

func TestBadInputGetsAClearErrorAndChangesNothing(t *testing.T) {
	t.Parallel()

	t.Run("unreachable API server", func(t *testing.T) {
		cfg := adminConfig(t)
		for _, c := range cfg.Clusters {
			c.Server = "https://127.0.0.1:1"
		}
		ns := "live-unreachable"
		_, stderr, err := upgrade(context.Background(), t, writeKubeconfig(t, cfg), release(ns, domain.Staging, "bad-1"))
		var ce *secrets.CommandError
		require.True(t, errors.As(err, &ce), "%v", err)
		assert.Equal(t, "the API server in the kubeconfig cannot be reached: check the kubeconfig's server address and that this runner can reach it", cihelm.ExplainFailure(stderr), stderr)
		// deploy's error says so, and does not claim a rollback.
		msg := deploy.Plan{Release: release(ns, domain.Staging, "bad-1")}.UpgradeFailed(ce.ExitCode, stderr).Error()
		assert.Contains(t, msg, "the API server in the kubeconfig cannot be reached")
		assert.NotContains(t, msg, "rolled it back")
		_, err = kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err))
	})

	t.Run("a kubeconfig for another cluster", func(t *testing.T) {
		cfg := adminConfig(t)
		for _, c := range cfg.Clusters {
			c.CertificateAuthorityData = otherCA(t)
		}
		ns := "live-other-cluster"
		_, stderr, err := upgrade(context.Background(), t, writeKubeconfig(t, cfg), release(ns, domain.Staging, "bad-2"))
		require.Error(t, err)
		t.Log(stderr)
		assert.Contains(t, cihelm.ExplainFailure(stderr), "the kubeconfig is for another cluster", stderr)
		_, err = kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err))
	})

	t.Run("a kubeconfig whose context is not there", func(t *testing.T) {
		cfg := adminConfig(t)
		cfg.CurrentContext = "production-cluster"
		ns := "live-wrong-context"
		_, stderr, err := upgrade(context.Background(), t, writeKubeconfig(t, cfg), release(ns, domain.Staging, "bad-3"))
		require.Error(t, err)
		assert.Equal(t, `the kubeconfig has no context "production-cluster": pass the kubeconfig of the target cluster, with its current-context set`, cihelm.ExplainFailure(stderr), stderr)
		_, err = kube.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err))
	})

	t.Run("a missing namespace", func(t *testing.T) {
		// trace and rollback read a release that is not there.
		argv, err := cihelm.GetManifestArgs("soccer-predict", "live-no-such-namespace", 0)
		require.NoError(t, err)
		_, stderr, err := runHelm(context.Background(), t, kubeconfig, argv)
		require.Error(t, err)
		assert.Equal(t, "the release is not installed in this namespace: deploy it first, or check SP_RELEASE, SP_NAMESPACE and --env", cihelm.ExplainFailure(stderr), stderr)
		argv, err = cihelm.HistoryArgs("soccer-predict", "live-no-such-namespace", 0)
		require.NoError(t, err)
		_, stderr, err = runHelm(context.Background(), t, kubeconfig, argv)
		require.Error(t, err)
		assert.NotEmpty(t, cihelm.ExplainFailure(stderr), stderr)
	})

	t.Run("RBAC forbids the deploy", func(t *testing.T) {
		ns := namespace(t, "live-rbac")
		createNamespace(t, ns)
		ctx := context.Background()
		_, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}}, metav1.CreateOptions{})
		require.NoError(t, err)
		// Enough for helm's release records, nothing else.
		_, err = kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "releases-only"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}}}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = kube.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "releases-only"}}, metav1.CreateOptions{})
		require.NoError(t, err)
		tok, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "deployer", &authv1.TokenRequest{}, metav1.CreateOptions{})
		require.NoError(t, err)
		cfg := adminConfig(t)
		cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{"deployer": {Token: tok.Status.Token}}
		for _, c := range cfg.Contexts {
			c.AuthInfo = "deployer"
			c.Namespace = ns
		}
		_, stderr, err := upgrade(ctx, t, writeKubeconfig(t, cfg), release(ns, domain.Staging, "bad-4"))
		require.Error(t, err)
		t.Log(stderr)
		fix := cihelm.ExplainFailure(stderr)
		assert.Contains(t, fix, `RBAC forbids system:serviceaccount:live-rbac:deployer to `, stderr)
		assert.Contains(t, fix, "grant the deploy's ServiceAccount a Role that allows it")
		assertNothingApplied(t, ns)
	})
}
