package registry

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// InsecureRegistryFlag is the flag that opts a registry host into plain HTTP.
const InsecureRegistryFlag = domain.InsecureRegistryFlag

// PlainHTTP is the plain-HTTP rule for every registry request of this repository:
//
//   - a loopback registry (localhost, 127.0.0.0/8, [::1], with or without a port) is
//     reached over plain HTTP when it has no TLS, as publish (the engine's push) and
//     go-containerregistry reach it (https is tried first);
//   - any other registry is reached over HTTPS only, unless its exact host[:port] was
//     listed with --insecure-registry; go-containerregistry's own silent fallback to
//     plain HTTP for private addresses (10/8, 172.16/12, 192.168/16, *.localhost) is
//     refused.
//
// The zero value is the rule without any opt-in. Build one with ParseInsecureRegistries;
// production refuses every opt-in before any tool runs (ci/deploy/policy.CheckInsecureRegistries).
type PlainHTTP struct {
	optIn map[string]bool
}

// ParseInsecureRegistries builds the rule from the --insecure-registry values, validated by
// domain.ParseInsecureRegistries (host[:port], not loopback, listed once).
func ParseInsecureRegistries(hosts []string) (PlainHTTP, error) {
	valid, err := domain.ParseInsecureRegistries(hosts)
	if err != nil {
		return PlainHTTP{}, newError(ErrInvalidReference, nil, "%v", err)
	}
	p := PlainHTTP{optIn: map[string]bool{}}
	for _, host := range valid {
		p.optIn[host] = true
	}
	return p, nil
}

// Hosts returns the opted-in hosts, sorted.
func (p PlainHTTP) Hosts() []string {
	out := make([]string, 0, len(p.optIn))
	for h := range p.optIn {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Allows reports whether the registry host ("host[:port]") may be reached over plain
// HTTP: a loopback host always, any other only when it was opted in.
func (p PlainHTTP) Allows(host string) bool {
	h := strings.ToLower(host)
	return domain.IsLoopbackHost(h) || p.optIn[h]
}

// NameOptions are the go-containerregistry name options for a reference on registry host:
// strict validation, plus name.Insecure (which lets go-containerregistry try http after
// https) only where the rule allows plain http. Parse every reference with them, and pair
// them with Transport and CheckReachable.
func (p PlainHTTP) NameOptions(host string) []name.Option {
	no := []name.Option{name.StrictValidation}
	if p.Allows(host) {
		no = append(no, name.Insecure)
	}
	return no
}

// errPlainHTTPRefused marks a plain-HTTP request the rule refused.
var errPlainHTTPRefused = errors.New("plain-http request refused")

// Transport wraps base (nil: go-containerregistry's remote.DefaultTransport) so that
// no plain-HTTP request reaches a registry the rule does not allow: this is what stops
// go-containerregistry's silent fallback to http for private addresses. Use it for
// every registry client (promote, deploy's evidence reads).
func (p PlainHTTP) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = remote.DefaultTransport
	}
	return plainHTTPTransport{rule: p, base: base}
}

type plainHTTPTransport struct {
	rule PlainHTTP
	base http.RoundTripper
}

func (t plainHTTPTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !t.rule.Allows(req.URL.Host) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%w: http://%s", errPlainHTTPRefused, req.URL.Host)
	}
	return t.base.RoundTrip(req)
}

// CheckReachable turns err, the failure of a request to registry host, into the
// plain-HTTP refusal (ErrInsecure, naming --insecure-registry) when the registry turned
// out to have no TLS and may not be reached over plain HTTP; otherwise it returns nil.
func (p PlainHTTP) CheckReachable(host string, err error) error {
	if err == nil || p.Allows(host) {
		return nil
	}
	if errors.Is(err, http.ErrSchemeMismatch) || errors.Is(err, errPlainHTTPRefused) {
		return newError(ErrInsecure, err,
			"registry %s has no TLS (it answers plain http) and is not a loopback registry: if that is intended outside production, pass %s=%s; otherwise use its https endpoint",
			host, InsecureRegistryFlag, host)
	}
	return nil
}
