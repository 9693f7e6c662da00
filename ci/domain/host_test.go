package domain

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":                 true,
		"localhost:5000":            true,
		"LOCALHOST:5000":            true,
		"127.0.0.1":                 true,
		"127.0.0.1:5000":            true,
		"127.1.2.3:80":              true,
		"[::1]":                     true,
		"[::1]:5000":                true,
		"::1":                       true,
		"registry.localhost:5000":   false, // a name, resolved by DNS: not trusted as loopback
		"localhost.example.com":     false,
		"10.0.0.7:5000":             false,
		"192.168.1.10:5000":         false,
		"reg.local:5000":            false,
		"[fd00::7]:5000":            false,
		"128.0.0.1":                 false,
		"[::ffff:127.0.0.1]:5000":   true, // IPv4-mapped loopback is loopback
		"registry.gitlab.com":       false,
		"":                          false,
		"[::1%lo]:5000":             false,
		"127.0.0.1.nip.io:5000":     false,
		"0.0.0.0:5000":              false,
		"localhost:5000/extra/path": false,
	} {
		assert.Equal(t, want, IsLoopbackHost(host), host)
	}
}

func TestParseRegistryHost(t *testing.T) {
	for in, want := range map[string]string{"reg.local:5000": "reg.local:5000", "REG.local:5000": "reg.local:5000", "10.0.0.7": "10.0.0.7", "[fd00::7]:5000": "[fd00::7]:5000"} {
		got, err := ParseRegistryHost(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for in, want := range map[string]string{"": "empty", "http://reg.local": "scheme", "reg.local/x": "path", "reg.local:0": "invalid port", "reg.local:70000": "invalid port", "bad_host:5000": "not a registry host"} {
		_, err := ParseRegistryHost(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

func TestParseInsecureRegistries(t *testing.T) {
	got, err := ParseInsecureRegistries([]string{"REG.local:5000", "10.0.0.7:5000"})
	require.NoError(t, err)
	assert.Equal(t, []string{"reg.local:5000", "10.0.0.7:5000"}, got, "lower-cased, in order")
	got, err = ParseInsecureRegistries(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	for in, want := range map[string]string{
		"localhost:5000":                "loopback registries",
		"127.0.0.1:5000":                "loopback registries",
		"http://reg.local:5000":         "has a scheme",
		"reg.local:5000,REG.LOCAL:5000": "listed twice",
	} {
		_, err := ParseInsecureRegistries(strings.Split(in, ","))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), InsecureRegistryFlag+"=", "the error names the flag")
	}
}
