package registry

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustPlainHTTP(t *testing.T, hosts ...string) PlainHTTP {
	t.Helper()
	p, err := ParseInsecureRegistries(hosts)
	require.NoError(t, err)
	return p
}

func TestPlainHTTPRule(t *testing.T) {
	none := PlainHTTP{}
	opt := mustPlainHTTP(t, "reg.local:5000", "10.0.0.7:5000", "[fd00::7]:5000", "Mirror.Example")
	cases := []struct {
		host          string
		none, optedIn bool
	}{
		{"localhost:5000", true, true},
		{"127.0.0.1:5000", true, true},
		{"[::1]:5000", true, true},
		{"reg.local:5000", false, true},
		{"REG.LOCAL:5000", false, true},
		{"reg.local:5001", false, false}, // the port is part of the host
		{"reg.local", false, false},
		{"10.0.0.7:5000", false, true},
		{"10.0.0.8:5000", false, false}, // a private address is not an opt-in
		{"192.168.1.10:5000", false, false},
		{"registry.localhost:5000", false, false},
		{"[fd00::7]:5000", false, true},
		{"mirror.example", false, true},
		{"registry.gitlab.com", false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.none, none.Allows(c.host), "no opt-in: %s", c.host)
		assert.Equal(t, c.optedIn, opt.Allows(c.host), "opt-in: %s", c.host)
	}
	assert.Equal(t, []string{"10.0.0.7:5000", "[fd00::7]:5000", "mirror.example", "reg.local:5000"}, opt.Hosts())
}

func TestParseInsecureRegistriesRefusesBadHosts(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "empty host"},
		{"http://reg.local:5000", "has a scheme"},
		{"reg.local:5000/sp", "has a path"},
		{"reg local", "not a registry host"},
		{"reg.local:", "not a registry host"},
		{"reg.local:99999", "invalid port"},
		{"reg.local:0", "invalid port"},
		{"-reg.local", "not a registry host"},
		{"localhost:5000", "is not needed"},
		{"127.0.0.1:5000", "is not needed"},
		{"[::1]:5000", "is not needed"},
	} {
		_, err := ParseInsecureRegistries([]string{c.in})
		require.Error(t, err, c.in)
		assert.ErrorIs(t, err, ErrInvalidReference, c.in)
		assert.Contains(t, err.Error(), c.want, c.in)
		assert.Contains(t, err.Error(), "--insecure-registry", c.in)
	}
	_, err := ParseInsecureRegistries([]string{"reg.local:5000", "REG.local:5000"})
	assert.ErrorContains(t, err, "listed twice")
}

// aliasTransport dials every "<alias>:<port>" at 127.0.0.1:<port>: the in-process registry,
// served over plain http on loopback, reached under a non-loopback name without touching
// /etc/hosts or DNS.
func aliasTransport(alias string) http.RoundTripper {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && host == alias {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

func aliased(reg *testRegistry, alias string) string {
	_, port, _ := net.SplitHostPort(reg.host)
	return net.JoinHostPort(alias, port)
}

func TestPromoteLoopbackPlainHTTPNeedsNoOptIn(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	require.True(t, strings.HasPrefix(reg.host, "127.0.0.1:"), "httptest serves plain http on 127.0.0.1")
	digest := reg.push(t, reg.host+"/sp/api:main-0123456", randomImage(t, 2), nil)
	_, port, _ := net.SplitHostPort(reg.host)

	// As publish reaches it: 127.0.0.1:PORT, and localhost:PORT (which go-containerregistry
	// alone would also reach over http), and [::1] is covered by the rule table.
	got, err := promoteS(ctx(t), reg.host+"/sp/api@"+digest, reg.host+"/sp/api:v1.0.0", Options{})
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	got, err = promoteS(ctx(t), "localhost:"+port+"/sp/api@"+digest, "localhost:"+port+"/sp/api:v1.0.1", Options{Transport: aliasTransport("localhost")})
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	assert.Equal(t, digest, resolve(t, reg.host+"/sp/api:v1.0.1", nil))
}

func TestPromoteNonLoopbackPlainHTTPNeedsTheOptIn(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	digest := reg.push(t, reg.host+"/sp/api:main-0123456", randomImage(t, 2), nil)
	host := aliased(reg, "reg.test")
	src := host + "/sp/api@" + digest
	dst := host + "/sp/api:v1.0.0"
	tr := aliasTransport("reg.test")

	// Without the opt-in: https only, the registry answers plain http, refused, naming the flag.
	_, err := promoteS(ctx(t), src, dst, Options{Transport: tr})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInsecure)
	assert.Contains(t, err.Error(), "--insecure-registry="+host)
	assert.Equal(t, "", resolve(t, reg.host+"/sp/api:v1.0.0", nil), "a refused promotion writes nothing")
	_, _, _, manifestPuts, _ := reg.c.snapshot()
	assert.Zero(t, manifestPuts)

	// With the opt-in for that exact host: it works and the digest is verified.
	got, err := promoteS(ctx(t), src, dst, Options{Transport: tr, PlainHTTP: mustPlainHTTP(t, host)})
	require.NoError(t, err)
	assert.Equal(t, digest, got)
	assert.Equal(t, digest, resolve(t, reg.host+"/sp/api:v1.0.0", nil))

	// Host names are case-insensitive; the port is part of the host.
	_, err = promoteS(ctx(t), src, dst, Options{Transport: tr, PlainHTTP: mustPlainHTTP(t, strings.ToUpper(host))})
	require.NoError(t, err)
}

// A private address is reached over plain http by go-containerregistry's own heuristic
// (RFC 1918); the rule blocks that fallback unless the host is opted in. The in-process
// registry cannot listen on 10.x here, so a transport maps 10.255.0.1 to it.
func TestPromotePrivateAddressNoSilentFallback(t *testing.T) {
	reg := newRegistry(t, regOpts{scoped: true})
	digest := reg.push(t, reg.host+"/sp/api:main-0123456", randomImage(t, 1), nil)
	host := aliased(reg, "10.255.0.1")
	tr := aliasTransport("10.255.0.1")

	_, err := promoteS(ctx(t), host+"/sp/api@"+digest, host+"/sp/api:v1.0.0", Options{Transport: tr})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInsecure)
	assert.Contains(t, err.Error(), "--insecure-registry="+host)
	assert.Equal(t, "", resolve(t, reg.host+"/sp/api:v1.0.0", nil))

	got, err := promoteS(ctx(t), host+"/sp/api@"+digest, host+"/sp/api:v1.0.0", Options{Transport: tr, PlainHTTP: mustPlainHTTP(t, host)})
	require.NoError(t, err)
	assert.Equal(t, digest, got)
}

func TestTransportRefusesPlainHTTPToOtherHosts(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	tr := PlainHTTP{}.Transport(aliasTransport("reg.test"))
	req, _ := http.NewRequest(http.MethodGet, "http://"+aliased(reg, "reg.test")+"/v2/", nil)
	_, err := tr.RoundTrip(req)
	require.Error(t, err)
	assert.ErrorIs(t, err, errPlainHTTPRefused)
	_, _, _, _, requests := reg.c.snapshot()
	assert.Zero(t, requests, "the refused request never reaches the registry")

	req, _ = http.NewRequest(http.MethodGet, "http://"+reg.host+"/v2/", nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err, "loopback is allowed")
	resp.Body.Close()
}

// TestEvidenceReadWithTheRule reads a manifest the way deploy's evidence reads are meant to:
// ParseInsecureRegistries(--insecure-registry values), references parsed with NameOptions,
// requests through Transport, failures mapped with CheckReachable.
func TestEvidenceReadWithTheRule(t *testing.T) {
	reg := newRegistry(t, regOpts{})
	digest := reg.push(t, reg.host+"/sp/api:v1", randomImage(t, 1), nil)
	host := aliased(reg, "reg.test")
	read := func(p PlainHTTP) (string, error) {
		ref, err := name.NewDigest(host+"/sp/api@"+digest, p.NameOptions(host)...)
		require.NoError(t, err)
		d, err := remote.Head(ref, remote.WithTransport(p.Transport(aliasTransport("reg.test"))))
		if err != nil {
			if perr := p.CheckReachable(host, err); perr != nil {
				return "", perr
			}
			return "", err
		}
		return d.Digest.String(), nil
	}

	p, err := ParseInsecureRegistries([]string{host})
	require.NoError(t, err)
	got, err := read(p)
	require.NoError(t, err)
	assert.Equal(t, digest, got)

	_, err = read(PlainHTTP{})
	assert.ErrorIs(t, err, ErrInsecure, "without the opt-in the registry is refused")
	assert.Contains(t, err.Error(), "--insecure-registry="+host)
}
