package main

import (
	"net"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedLoopbackPort is a loopback port nothing listens on: inside a tool container,
// localhost:<the caller's registry port> is such a port.
func closedLoopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	return port
}

// The images name localhost:<port>, where nothing listens (as in a container); --connect-to
// reaches the registry elsewhere and every reference and digest still names localhost:<port>.
func TestRunConnectsToTheRegistryElsewhereKeepingTheReferences(t *testing.T) {
	real := startRegistry(t, "", "", true)
	digest := pushRandom(t, real+"/sp/api:build", authn.Anonymous)
	named := "localhost:" + closedLoopbackPort(t)
	src, dst := named+"/sp/api@"+digest, named+"/sp/api:v1.0.0"

	_, _, err := runCmd(t, "--src", src, "--dst", dst)
	require.Error(t, err, "without the route nothing answers at %s", named)
	assert.Contains(t, err.Error(), "connection refused")

	out, _, err := runCmd(t, "--src", src, "--dst", dst, "--connect-to", named+"="+real)
	require.NoError(t, err)
	assert.Contains(t, out, `"source":"`+src+`"`)
	assert.Contains(t, out, `"destinations":["`+dst+`"]`)
	assert.Equal(t, digest, digestOf(t, real+"/sp/api:v1.0.0", authn.Anonymous), "the tag was written in the registry reached")
}

func TestRunRefusesAConnectToThatIsNotALoopbackRoute(t *testing.T) {
	real := startRegistry(t, "", "", true)
	digest := pushRandom(t, real+"/sp/api:build", authn.Anonymous)
	_, _, err := runCmd(t, "--src", real+"/sp/api@"+digest, "--dst", real+"/sp/api:v1", "--connect-to", "registry.example.com:443="+real)
	require.Error(t, err)
	assert.Equal(t, 2, exitCode(err))
	assert.True(t, strings.Contains(err.Error(), "is not a loopback registry with its port"), err.Error())
}
