//go:build daggerharness

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// routeOf returns the service bound under alias in an exec's container and the host.service
// call behind it (its ports and upstream host), failing when there is none.
func routeOf(t *testing.T, e daggertest.Exec, alias string) daggertest.Chain {
	t.Helper()
	st, ok := e.Container.StepWhere("withServiceBinding", "alias", alias)
	require.True(t, ok, "no service bound as %s: %s", alias, e.Container)
	ref, ok := st.Ref("service")
	require.True(t, ok)
	return ref.Chain
}

// A registry on the caller's localhost: inside a tool container localhost is the container, so
// every registry tool of publish (push, attach) reaches it through a host service bound under
// its own name and --connect-to, while the references (and so the digests) keep naming
// localhost:5000.
func TestPublishReachesALoopbackRegistryOfTheCallersMachine(t *testing.T) {
	const local = "localhost:5000/sp"
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = local })
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil)
	require.NoError(t, err, execsText())

	tools := append(execsWith("/usr/local/bin/oci push"), execsWith("/usr/local/bin/oci attach")...)
	require.Len(t, tools, 6, "a push and an attach per service")
	for _, e := range tools {
		assert.Contains(t, e.Line(), "--connect-to localhost:5000=registry-localhost-5000:5000", e.Line())
		assert.Contains(t, e.Line(), " "+local+"/", "the reference still names the registry: %s", e.Line())
		svc := routeOf(t, e, "registry-localhost-5000")
		require.True(t, svc.Has("host"), "a service of the caller's machine: %s", svc)
		host, _ := svc.StepWhere("service", "host", "localhost")
		ports := host.Objects("ports")
		require.Len(t, ports, 1, "%s", svc)
		assert.EqualValues(t, 5000, ports[0]["backend"])
		assert.EqualValues(t, 5000, ports[0]["frontend"])
		assert.Equal(t, "TCP", ports[0]["protocol"])
	}
	for _, e := range execsWith("/usr/local/bin/oci normalize") {
		assert.False(t, e.Container.Has("withServiceBinding"), "normalize reaches no registry")
	}
}

// Any other registry gets no route: nothing of the caller's machine is exposed.
func TestPublishToARemoteRegistryBindsNothing(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil)
	require.NoError(t, err, execsText())
	pushes := execsWith("/usr/local/bin/oci push")
	require.Len(t, pushes, 3)
	for _, e := range pushes {
		assert.NotContains(t, e.Line(), "--connect-to")
		assert.False(t, e.Container.Has("withServiceBinding"), e.Container.String())
	}
}

// promote and verify-evidence reach the loopback registry the same way.
func TestPromoteAndVerifyReachALoopbackRegistry(t *testing.T) {
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = "127.0.0.1:5001/sp" })
	happy(t)
	src := "127.0.0.1:5001/sp/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": `{"source":"` + src + `","digest":"` + digestOf(1) + `","destinations":["127.0.0.1:5001/sp/api:v1.2.3"]}`,
	}))
	_, err := m.Promote(context.Background(), src, []string{"127.0.0.1:5001/sp/api:v1.2.3"}, "", nil, false, nil)
	require.NoError(t, err, execsText())
	e := mustExec(t, "/usr/local/bin/oci", "promote", "--connect-to 127.0.0.1:5001=registry-127-0-0-1-5001:5001")
	svc := routeOf(t, e, "registry-127-0-0-1-5001")
	_, ok := svc.StepWhere("service", "host", "127.0.0.1")
	assert.True(t, ok, "the service forwards to the caller's 127.0.0.1: %s", svc)

	_, _ = m.VerifyEvidence(context.Background(), src, "127.0.0.1:5001/sp/worker@"+digestOf(2), "127.0.0.1:5001/sp/airflow@"+digestOf(3), "", nil, nil)
	v := mustExec(t, "/usr/local/bin/oci", "verify", "--connect-to 127.0.0.1:5001=registry-127-0-0-1-5001:5001")
	assert.Equal(t, 1, strings.Count(v.Line(), "--connect-to"), "one route for the one registry: %s", v.Line())
}

// publish, publish-base, attest and verify-evidence take promote's plain-HTTP opt-in, with its
// rule: the exact host of the images, never a loopback host; refused before anything runs.
func TestPublishTakesThePlainHTTPOptIn(t *testing.T) {
	const plain = "reg.local:5000"
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = plain + "/sp" })
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, []string{plain})
	require.NoError(t, err, execsText())
	for _, e := range append(execsWith("/usr/local/bin/oci push"), execsWith("/usr/local/bin/oci attach")...) {
		assert.Contains(t, e.Line(), "--insecure-registry "+plain, e.Line())
	}

	for _, tc := range []struct {
		hosts []string
		want  string
	}{
		{[]string{"reg.local:5001"}, "--insecure-registry=reg.local:5001 is not needed"},
		{[]string{"localhost:5000"}, "loopback registries"},
		{[]string{"http://reg.local:5000"}, "has a scheme"},
	} {
		m := fresh(t, withRelease, func(a *newArgs) { a.registry = plain + "/sp" })
		_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, tc.hosts)
		require.Error(t, err, tc.hosts)
		assert.Contains(t, err.Error(), tc.want)
		assert.Empty(t, rec.Execs(), "nothing may run on a bad opt-in")

		_, err = m.PublishBase(context.Background(), "", nil, tc.hosts)
		require.Error(t, err, tc.hosts)
		assert.Contains(t, err.Error(), tc.want)

		_, err = m.VerifyEvidence(context.Background(), plain+"/sp/api@"+digestOf(1), plain+"/sp/worker@"+digestOf(2), plain+"/sp/airflow@"+digestOf(3), "", nil, tc.hosts)
		require.Error(t, err, tc.hosts)
		assert.Contains(t, err.Error(), tc.want)
		assert.Empty(t, rec.Execs(), "nothing may run on a bad opt-in")
	}
}
