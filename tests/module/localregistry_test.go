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

// routeOf returns the chain of the service bound under alias in an exec's container, failing
// when there is none.
func routeOf(t *testing.T, e daggertest.Exec, alias string) daggertest.Chain {
	t.Helper()
	st, ok := e.Container.StepWhere("withServiceBinding", "alias", alias)
	require.True(t, ok, "no service bound as %s: %s", alias, e.Container)
	ref, ok := st.Ref("service")
	require.True(t, ok)
	return ref.Chain
}

// withLocalRegistry passes --local-registry=tcp://<hostport> as the CLI does (Address.service).
func withLocalRegistry(hostport string) func(*newArgs) {
	return func(a *newArgs) { a.localRegistry = dag.Address("tcp://" + hostport).Service() }
}

// A registry on the caller's localhost: inside a tool container localhost is the container, so
// every registry tool of publish (push, attach) reaches it through the --local-registry service
// bound under its own name and --connect-to, while the references (and so the digests) keep
// naming localhost:5000.
func TestPublishReachesALoopbackRegistryOfTheCallersMachine(t *testing.T) {
	const local = "localhost:5000/sp"
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = local }, withLocalRegistry("localhost:5000"))
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil, nil)
	require.NoError(t, err, execsText())

	tools := append(execsWith("/usr/local/bin/oci push"), execsWith("/usr/local/bin/oci attach")...)
	require.Len(t, tools, 6, "a push and an attach per service")
	for _, e := range tools {
		assert.Contains(t, e.Line(), "--connect-to localhost:5000=registry-localhost-5000:5000", e.Line())
		assert.Contains(t, e.Line(), " "+local+"/", "the reference still names the registry: %s", e.Line())
		svc := routeOf(t, e, "registry-localhost-5000")
		_, ok := svc.StepWhere("address", "value", "tcp://localhost:5000")
		assert.True(t, ok, "the caller's service: %s", svc)
	}
	for _, e := range execsWith("/usr/local/bin/oci normalize") {
		assert.False(t, e.Container.Has("withServiceBinding"), "normalize reaches no registry")
	}
}

// A module function cannot reach the caller's machine by itself: a loopback registry without
// --local-registry is refused before anything runs, naming the flag; with it the same call runs.
func TestALoopbackRegistryNeedsTheLocalRegistryService(t *testing.T) {
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = "localhost:5001/sp" })
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the images are on localhost:5001, a registry on the machine running dagger call")
	assert.Contains(t, err.Error(), "--local-registry=tcp://localhost:5001")
	assert.Empty(t, rec.Execs(), "nothing is built for images that could not be pushed")

	src := "localhost:5001/sp/api@" + digestOf(1)
	_, err = m.Promote(context.Background(), src, []string{"localhost:5001/sp/api:v1"}, "", nil, false, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--local-registry=tcp://localhost:5001")
	assert.Empty(t, rec.Execs())

	m = fresh(t, withRelease, func(a *newArgs) { a.registry = "localhost:5001/sp" }, withLocalRegistry("localhost:5001"))
	publishWorld(t, "push")
	_, err = m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil, nil)
	require.NoError(t, err, execsText())
	assert.Len(t, execsWith("/usr/local/bin/oci push"), 3)
}

// Any other registry gets no route: nothing of the caller's machine is exposed.
func TestPublishToARemoteRegistryBindsNothing(t *testing.T) {
	m := fresh(t, withRelease)
	publishWorld(t, "push")
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, nil, nil)
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
	m := fresh(t, withRelease, func(a *newArgs) { a.registry = "127.0.0.1:5001/sp" }, withLocalRegistry("127.0.0.1:5001"))
	happy(t)
	src := "127.0.0.1:5001/sp/api@" + digestOf(1)
	rec.Respond(daggertest.OnExec([]string{"/usr/local/bin/oci", "promote"}, map[string]any{
		"stdout": `{"source":"` + src + `","digest":"` + digestOf(1) + `","destinations":["127.0.0.1:5001/sp/api:v1.2.3"]}`,
	}))
	_, err := m.Promote(context.Background(), src, []string{"127.0.0.1:5001/sp/api:v1.2.3"}, "", nil, false, nil)
	require.NoError(t, err, execsText())
	e := mustExec(t, "/usr/local/bin/oci", "promote", "--connect-to 127.0.0.1:5001=registry-127-0-0-1-5001:5001")
	svc := routeOf(t, e, "registry-127-0-0-1-5001")
	_, ok := svc.StepWhere("address", "value", "tcp://127.0.0.1:5001")
	assert.True(t, ok, "the caller's service: %s", svc)

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
	_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, []string{plain}, nil)
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
		_, err := m.Publish(context.Background(), "", nil, "7", nil, "", nil, nil, tc.hosts, nil)
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
