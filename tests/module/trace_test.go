//go:build daggerharness

package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/rollback"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

func trManifest(env, commit string) {
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": relManifest(env, commit, relDigests())}))
}

func TestTraceReadsTheLiveRecordAndChecksEveryImageLabel(t *testing.T) {
	m := fresh(t, func(a *newArgs) { a.registry = relRegistry })
	trManifest("production", relCommit)
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))

	out, err := m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.NoError(t, err, execsText())

	read := mustExec(t, "sh", "-c", "set -o pipefail; helm get manifest soccer-predict --namespace soccerpredict-production | /usr/local/bin/manifest-redact")
	_, ok := read.Container.StepWhere("withMountedSecret", "path", "/run/secrets/kubeconfig")
	assert.True(t, ok, "the kubeconfig is a mounted secret file: %s", read.Container)
	_, ok = read.Container.StepWhere("withEnvVariable", "name", "SP_READ_AT")
	assert.True(t, ok, "the live state is never read from the cache")
	assert.Empty(t, rec.Leaked("KUBE-SECRET-token"))

	// Each image's labels are read by the registry tool from the image by digest, as the
	// manifest names it (the engine cannot pull from a registry only the caller reaches).
	labels := mustExec(t, "/usr/local/bin/oci", "labels")
	for _, svc := range relServices {
		assert.Contains(t, labels.Args, relRef(svc))
	}
	assert.Empty(t, rec.CallsTo("label"), "no image is pulled by the engine to read its labels")

	assert.Contains(t, out, "environment:")
	assert.Contains(t, out, relCommit)
	assert.Contains(t, out, relDigest(1))
	assert.Contains(t, out, relDataset)
	assert.Contains(t, out, "consistency: OK")
	assert.Contains(t, out, "last rollback: none recorded")

	js, err := m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "json", "", nil, nil)
	require.NoError(t, err)
	var report struct {
		Record     trace.Record                 `json:"record"`
		Images     map[string]string            `json:"images"`
		Labels     map[string]map[string]string `json:"labels"`
		Consistent bool                         `json:"consistent"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &report), js)
	assert.True(t, report.Consistent)
	assert.Equal(t, domain.Commit(relCommit), report.Record.GitCommit)
	assert.Equal(t, domainDigests(relDigests()), report.Record.ImageDigests)
	assert.Equal(t, relModel, report.Record.ModelVersion)
	assert.Equal(t, relRef("worker"), report.Images["worker"])
	assert.Equal(t, relCommit, report.Labels["api"][trace.LabelRevision])
}

func TestTraceFailsWhenAnImageDisagreesWithTheRecord(t *testing.T) {
	m := fresh(t, func(a *newArgs) { a.registry = relRegistry })
	trManifest("staging", relCommit)
	labels := relGoodLabels(relCommit, relRefs())
	labels[relRef("worker")][trace.LabelRevision] = relOther
	labels[relRef("api")][trace.LabelModelVersion] = "6"
	rec.Respond(relLabels(labels))
	_, err := m.Trace(context.Background(), "staging", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "consistency: MISMATCH")
	assert.Contains(t, err.Error(), "worker")
	assert.Contains(t, err.Error(), relOther)
	assert.Contains(t, err.Error(), "api")
	assert.Contains(t, err.Error(), relCommit, "the error shows the record too")
}

func TestTraceRefusesACallersChartForStagingAndProduction(t *testing.T) {
	for _, env := range []string{"staging", "production"} {
		m := fresh(t)
		_, err := m.Trace(context.Background(), env, dag.SetSecret("kubeconfig", relKube), "text", "", nil, dag.Host().Directory("/work/repo/charts/soccer-predict"))
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), "--chart is refused for "+env)
		assert.Empty(t, rec.Execs(), "nothing is read before the refusal")
	}
}

func TestTraceRefusesBadInputBeforeReadingTheCluster(t *testing.T) {
	for _, tc := range []struct{ env, format, want string }{
		{"production", "yaml", "use text or json"},
		{"qa", "text", "qa"},
	} {
		m := fresh(t)
		_, err := m.Trace(context.Background(), tc.env, dag.SetSecret("kubeconfig", relKube), tc.format, "", nil, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.Empty(t, rec.Execs())
	}
}

func TestTraceNamesAReleaseThatIsNotDeployedOrNotTraceable(t *testing.T) {
	m := fresh(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 1, "stderr": "Error: release: not found\n"}))
	_, err := m.Trace(context.Background(), "dev", dag.SetSecret("kubeconfig", relKube), "text", "", nil, dag.Host().Directory("/work/repo/charts/soccer-predict"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is it deployed?")
	assert.Contains(t, err.Error(), "soccerpredict-dev")

	// A release whose annotations do not say which environment it is, is refused.
	m = fresh(t)
	trManifest("staging", relCommit)
	_, err = m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `records environment "staging"`)

	// A manifest without the trace ConfigMap was not deployed by this chart.
	m = fresh(t)
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "manifest"}, map[string]any{"exitCode": 0, "stdout": "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"}))
	_, err = m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "soccer-predict-trace")
}

// TestTraceShowsTheLastRollback: the record rollback-service stored in the audit release is shown.
func TestTraceShowsTheLastRollback(t *testing.T) {
	m := fresh(t, func(a *newArgs) { a.registry = relRegistry })
	trManifest("production", relCommit)
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	out, err := rollback.Review(rollback.Request{Action: rollback.RollbackService, Env: "production", Target: "41", From: "42",
		Reason: "INC-7: 5xx after 42", Actor: "erin", Confirm: true, Plan: "helm rollback soccer-predict 41",
		Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	raw, err := out.Record.JSON()
	require.NoError(t, err)
	values, err := json.Marshal(map[string]any{"record": string(raw)})
	require.NoError(t, err)
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "values", "soccer-predict-audit"}, map[string]any{"exitCode": 0, "stdout": string(values)}))

	text, err := m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.NoError(t, err)
	assert.Contains(t, text, `last rollback: 2026-11-30T12:00:00Z rollback-service in production: 42 → 41 by erin ("INC-7: 5xx after 42")`)
	read := mustExec(t, "helm", "get", "values", "soccer-predict-audit", "--namespace", "soccerpredict-production", "--output", "json")
	_, ok := read.Container.StepWhere("withEnvVariable", "name", "SP_READ_AT")
	assert.True(t, ok, "read live")

	js, err := m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "json", "", nil, nil)
	require.NoError(t, err)
	var report struct {
		LastRollback *rollback.Record `json:"lastRollback"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &report))
	require.NotNil(t, report.LastRollback)
	assert.Equal(t, out.Record, *report.LastRollback)

	// An unreadable audit release is reported, not fatal.
	m = fresh(t, func(a *newArgs) { a.registry = relRegistry })
	trManifest("production", relCommit)
	rec.Respond(relLabels(relGoodLabels(relCommit, relRefs())))
	rec.Respond(daggertest.OnExec([]string{"helm", "get", "values", "soccer-predict-audit"}, map[string]any{"exitCode": 1, "stderr": "Error: configmaps is forbidden"}))
	text, err = m.Trace(context.Background(), "production", dag.SetSecret("kubeconfig", relKube), "text", "", nil, nil)
	require.NoError(t, err)
	assert.Contains(t, text, "last rollback: could not be read")
	assert.Contains(t, text, "forbidden")
}
