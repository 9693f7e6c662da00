package domain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostRoutesAreOnlyForLoopbackRegistries(t *testing.T) {
	refs := []string{
		"localhost:5000/sp/api:main-1", "localhost:5000/sp/worker:main-1", // one route for both
		"127.0.0.1:5001/sp/api@sha256:" + strings.Repeat("a", 64),
		"[::1]:5002/sp/api:v1",
		"registry.gitlab.com/sp/api:v1", "10.0.0.5:5000/sp/api:v1", "python:3.11",
		"localhost/sp/api:v1", // no port: both ports a client tries
	}
	var parsed []ImageRef
	for _, r := range refs {
		ref, err := ParseImageRef(r)
		require.NoError(t, err, r)
		parsed = append(parsed, ref)
	}
	got := HostRoutes(parsed...)
	want := []HostRoute{
		{Registry: "127.0.0.1:5001", Host: "127.0.0.1", Port: 5001, Alias: "registry-127-0-0-1-5001"},
		{Registry: "[::1]:5002", Host: "::1", Port: 5002, Alias: "registry-1-5002"},
		{Registry: "localhost:443", Host: "localhost", Port: 443, Alias: "registry-localhost-443"},
		{Registry: "localhost:5000", Host: "localhost", Port: 5000, Alias: "registry-localhost-5000"},
		{Registry: "localhost:80", Host: "localhost", Port: 80, Alias: "registry-localhost-80"},
	}
	assert.Equal(t, want, got)
	assert.Equal(t, "localhost:5000=registry-localhost-5000:5000", got[3].ConnectTo())
	assert.Equal(t, "[::1]:5002=registry-1-5002:5002", got[1].ConnectTo())

	// What HostRoutes writes, ParseConnectTo reads back.
	var values []string
	for _, r := range got {
		values = append(values, r.ConnectTo())
	}
	m, err := ParseConnectTo(values)
	require.NoError(t, err)
	assert.Equal(t, "registry-localhost-5000:5000", m["localhost:5000"])
	assert.Len(t, m, len(got))
}

func TestParseConnectToRefusesWhatIsNotARouteToALoopbackRegistry(t *testing.T) {
	for _, c := range []struct{ value, msg string }{
		{"localhost:5000", "want registry=address"},
		{"reg.example.com:5000=registry-x:5000", "is not a loopback registry with its port"},
		{"localhost=registry-x:5000", "is not a loopback registry with its port"},
		{"localhost:5000=registry-x", "is not a host:port to connect to instead"},
		{"localhost:5000=registry-x:0", "has an invalid port"},
		{"localhost:5000=registry-x:99999", "has an invalid port"},
	} {
		_, err := ParseConnectTo([]string{c.value})
		if assert.Error(t, err, c.value) {
			assert.Contains(t, err.Error(), c.msg, c.value)
		}
	}
	_, err := ParseConnectTo([]string{"localhost:5000=a:1", "LOCALHOST:5000=b:2"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lists localhost:5000 twice")
}
