package live_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitlab.com/soccerpredictai/pipeline/ci/deploy"
	cihelm "gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/secrets"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
)

// workloads are the chart's Deployments (name suffix → service).
var workloads = map[string]domain.Service{"api": "api", "worker": "worker", "airflow-scheduler": "airflow", "airflow-webserver": "airflow"}

// assertServing checks that every workload of rel runs rel's images, carries its record and is
// Ready, as the API server reports them.
func assertServing(t *testing.T, rel cihelm.Release) {
	t.Helper()
	want := expected(rel).Annotations()
	for suffix, svc := range workloads {
		name := rel.Name + "-" + suffix
		d, err := kube.AppsV1().Deployments(rel.Namespace).Get(context.Background(), name, metav1.GetOptions{})
		require.NoError(t, err, name)
		require.Len(t, d.Spec.Template.Spec.Containers, 1, name)
		assert.Equal(t, rel.Images[svc].String(), d.Spec.Template.Spec.Containers[0].Image, name)
		for k, v := range want {
			assert.Equal(t, v, d.Annotations[k], "%s annotation %s", name, k)
		}
		assert.Equal(t, *d.Spec.Replicas, d.Status.ReadyReplicas, "%s ready replicas", name)
		assert.Equal(t, *d.Spec.Replicas, d.Status.UpdatedReplicas, "%s updated replicas", name)
	}
}

func TestPromotionDevStagingProductionInstallsAndUpgrades(t *testing.T) {
	t.Parallel()
	for _, env := range []domain.Environment{domain.Dev, domain.Staging, domain.Production} {
		ns := namespace(t, "live-promo-"+string(env))
		for i, tag := range []string{"1.0.0", "1.1.0"} {
			rel := release(ns, env, string(env)+"-"+tag)
			mustUpgrade(t, rel)
			assertServing(t, rel)

			got, err := liveTrace(t, rel.Name, ns)
			require.NoError(t, err)
			assert.Equal(t, expected(rel), got, "trace reads back the record deploy wrote (%s %s)", env, tag)

			revs := history(t, rel.Name, ns)
			require.Len(t, revs, i+1)
			assert.Equal(t, cihelm.StatusDeployed, revs[i].Status)
		}
		// The secret values reached the cluster decrypted, under the chart's names.
		s, err := kube.CoreV1().Secrets(ns).Get(context.Background(), "soccer-predict-secrets", metav1.GetOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, s.Data)
		for k, v := range s.Data {
			assert.NotContains(t, string(v), "ENC[", "secret %s is still SOPS-encrypted", k)
		}
	}
}

func TestReadinessGatesTheRollout(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-gate")
	good := release(ns, domain.Staging, "gate-good")
	mustUpgrade(t, good)

	bad := release(ns, domain.Staging, "gate-bad")
	holdAPI(bad)
	bad.Timeout = 20 * time.Second
	start := time.Now()
	_, stderr, err := upgrade(context.Background(), t, kubeconfig, bad)
	elapsed := time.Since(start)
	var ce *secrets.CommandError
	require.True(t, errors.As(err, &ce), "helm must fail: %v\n%s", err, stderr)
	assert.Less(t, elapsed, bad.Timeout+40*time.Second, "helm gives up within its --timeout (plus the rollback)")

	// The module's error names the workload that never became Ready, and says it was rolled back.
	msg := deploy.Plan{Release: bad}.UpgradeFailed(ce.ExitCode, stderr).Error()
	assert.Contains(t, msg, "Deployment/live-gate/soccer-predict-api not ready")
	assert.Contains(t, msg, "rolled back")
	for _, ok := range []string{"worker", "airflow-scheduler", "airflow-webserver"} {
		assert.NotContains(t, msg, "Deployment/live-gate/soccer-predict-"+ok+" not ready")
	}

	// Rolled back: the failed revision, then the good one again; the previous revision serves.
	assert.Equal(t, []string{"1:superseded", "2:failed", "3:deployed"}, statuses(history(t, good.Name, ns)))
	assertServing(t, good)
	assertTraced(t, good)
}

func TestPlanDiffShowsExactlyWhatChanges(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-plan")
	deployed := release(ns, domain.Staging, "plan-1")
	mustUpgrade(t, deployed)

	diff := func(candidate cihelm.Release) cihelm.ManifestDiff {
		argv, err := cihelm.GetManifestArgs(candidate.Name, ns, 0)
		require.NoError(t, err)
		// Both sides pass through manifest-redact in the module (RedactSecrets).
		live, err := cihelm.RedactSecrets([]byte(mustHelm(t, argv)))
		require.NoError(t, err)
		argv, err = cihelm.TemplateArgs(candidate)
		require.NoError(t, err)
		var out strings.Builder
		require.NoError(t, secrets.ExecFile(context.Background(), plaintext(t, candidate.Env), helmArgv(t, argv),
			secrets.ExecOptions{Dir: t.TempDir(), Placeholder: cihelm.SecretsPlaceholder, Env: helmEnv(kubeconfig), Stdout: &out, Stderr: os.Stderr}))
		rendered, err := cihelm.RedactSecrets([]byte(out.String()))
		require.NoError(t, err)
		d, err := cihelm.DiffManifests(live, rendered, "deployed", "candidate")
		require.NoError(t, err)
		return d
	}

	same := diff(deployed)
	assert.True(t, same.Empty(), "the deployed values against the live release: %s\n%s", same.Summary(), same.Unified)

	// A new api image: its Deployment changes, and the record every workload and the trace
	// ConfigMap carry (the image digests); nothing else.
	candidate := release(ns, domain.Staging, "plan-1")
	candidate.Images[domain.API] = domain.Pinned(candidate.Images[domain.API].Repository, digest("plan-2/api"))
	d := diff(candidate)
	assert.Empty(t, d.Added)
	assert.Empty(t, d.Removed)
	assert.Equal(t, []string{"ConfigMap/soccer-predict-trace", "Deployment/soccer-predict-airflow-scheduler", "Deployment/soccer-predict-airflow-webserver", "Deployment/soccer-predict-api", "Deployment/soccer-predict-worker"}, d.Changed)
	var images []string
	for _, line := range strings.Split(d.Unified, "\n") {
		if strings.Contains(line, "image: ") && (strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")) {
			images = append(images, strings.Join(strings.Fields(line), " "))
		}
	}
	assert.Equal(t, []string{"- image: " + deployed.Images[domain.API].String(), "+ image: " + candidate.Images[domain.API].String()}, images, "only the api image changes:\n%s", d.Unified)
	// Nothing was applied.
	assertTraced(t, deployed)
}

// storeAudit writes r into the audit release with the argv of ci/rollback.
func storeAudit(t *testing.T, release, ns string, r rollback.Record) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range rollback.StoreChart() {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, "chart", name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "chart", name), []byte(body), 0o644))
	}
	js, err := r.JSON()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "audit.json"), js, 0o600))
	argv, err := rollback.StoreArgs(release, ns, filepath.Join(dir, "chart"), filepath.Join(dir, "audit.json"), r)
	require.NoError(t, err)
	mustHelm(t, argv)
}

func lastAudit(t *testing.T, release, ns string) rollback.Record {
	t.Helper()
	argv, err := rollback.LastArgs(release, ns)
	require.NoError(t, err)
	r, err := rollback.ParseLast([]byte(mustHelm(t, argv)))
	require.NoError(t, err)
	return r
}

func TestRollbackServiceToPreviousGoodAndToARevisionKeepsTheAuditRecord(t *testing.T) {
	t.Parallel()
	ns := namespace(t, "live-rollback")
	var rels []cihelm.Release
	for _, tag := range []string{"rb-1", "rb-2", "rb-3"} {
		rel := release(ns, domain.Production, tag)
		mustUpgrade(t, rel)
		rels = append(rels, rel)
	}
	name := rels[0].Name

	rollbackTo := func(to int, reason string) rollback.Record {
		revs := history(t, name, ns)
		target, err := cihelm.RollbackTarget(revs, to)
		require.NoError(t, err)
		current, _ := cihelm.Deployed(revs)
		argv, err := cihelm.RollbackArgs(cihelm.Rollback{Release: name, Namespace: ns, Revision: target.Revision, Timeout: time.Minute})
		require.NoError(t, err)
		mustHelm(t, argv)
		rec := rollback.Record{
			Action: rollback.RollbackService, Env: domain.Production,
			Target: strconv.Itoa(target.Revision), From: strconv.Itoa(current.Revision),
			Reason: reason, Actor: "alice", Confirmed: true,
			Time: time.Now().UTC().Truncate(time.Second), Plan: strings.Join(argv, " "), FollowUp: rollback.FollowUp,
		}
		storeAudit(t, name, ns, rec)
		return rec
	}

	// The previous good revision: 2.
	first := rollbackTo(0, "bad rollout of rb-3, errors on /predict")
	assertServing(t, rels[1])
	assertTraced(t, rels[1])
	assert.Equal(t, first, lastAudit(t, name, ns))

	// An explicit revision: 1.
	second := rollbackTo(1, "rb-2 also misbehaves under load")
	assertServing(t, rels[0])
	assertTraced(t, rels[0])
	assert.Equal(t, second, lastAudit(t, name, ns))

	// The audit release keeps one revision per rollback, and survives the next deploy.
	assert.Equal(t, []string{"1:superseded", "2:deployed"}, statuses(history(t, domain.AuditRelease(name), ns)))
	mustUpgrade(t, release(ns, domain.Production, "rb-4"))
	assert.Equal(t, second, lastAudit(t, name, ns))
	assert.Equal(t, []string{"1:superseded", "2:superseded", "3:superseded", "4:superseded", "5:superseded", "6:deployed"}, statuses(history(t, name, ns)))
}
