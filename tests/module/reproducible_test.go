//go:build daggerharness

package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sourceDateEpochArg = regexp.MustCompile(`\{name:"SOURCE_DATE_EPOCH",value:"([^"]*)"\}`)

// dockerBuildEpochs maps each service built for publish to the SOURCE_DATE_EPOCH build
// arguments of its dockerBuild (the archive `oci normalize` reads).
func dockerBuildEpochs(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, n := range execsWith("/usr/local/bin/oci normalize") {
		raw := mountedSource(t, n, "/in/image.tar")
		svc := serviceOf(raw)
		require.NotEmpty(t, svc, raw)
		for _, m := range sourceDateEpochArg.FindAllStringSubmatch(raw, -1) {
			out[svc] = append(out[svc], m[1])
		}
	}
	return out
}

// publish builds every service with SOURCE_DATE_EPOCH = the commit time in Unix seconds, the
// value the Dockerfiles' `ARG SOURCE_DATE_EPOCH` hands to pip and useradd.
func TestPublishBuildsEveryServiceWithTheCommitTimeAsSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct{ commitTime, epoch string }{
		{commitTime, "1740816000"}, // 2025-03-01T08:00:00Z
		{"2001-02-03T04:05:06Z", "981173106"},
	} {
		m := fresh(t, withRelease, func(a *newArgs) { a.commitTime = tc.commitTime })
		publishWorld(t, "push")
		_, err := m.Publish(context.Background(), "", nil, "", nil, "", nil, nil, nil, nil)
		require.NoError(t, err, tc.commitTime)
		assert.Equal(t, map[string][]string{"api": {tc.epoch}, "worker": {tc.epoch}, "airflow": {tc.epoch}}, dockerBuildEpochs(t),
			"%s: each service's one dockerBuild carries the commit time, never the clock", tc.commitTime)
	}
}

// The gates build the API image too (api-contract): with the commit time they build exactly
// what publish builds (one cache entry); without it (a plain `dagger call check`) no
// SOURCE_DATE_EPOCH is invented.
func TestGateBuildsCarrySourceDateEpochOnlyWithACommitTime(t *testing.T) {
	chainOfAPI := func(m *SoccerPredict) string {
		happy(t)
		require.NoError(t, m.ApiContract(context.Background()))
		probe := mustExec(t, "sh", "-c", "http://api:8000/healthz")
		binding, ok := probe.Container.StepWhere("withServiceBinding", "alias", "api")
		require.True(t, ok)
		svc, _ := binding.Ref("service")
		return svc.Chain.String()
	}
	with := chainOfAPI(fresh(t, withRelease))
	assert.Contains(t, with, `dockerBuild(buildArgs:[{name:"BASE_IMAGE",value:"python:3.11-slim-bookworm"},{name:"SOURCE_DATE_EPOCH",value:"1740816000"}],dockerfile:"docker/api.Dockerfile")`)
	without := chainOfAPI(fresh(t))
	assert.NotContains(t, without, "SOURCE_DATE_EPOCH")
}
