package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// ConnectTo reaches registries at other addresses: registry host:port → the address to dial
// (domain.ParseConnectTo). A tool container reaches a loopback registry of the caller's machine
// this way, through a service the module binds under another name; the request still names the
// registry, so every reference and digest stays the same.
type ConnectTo map[string]string

// ParseConnectTo builds the map from the --connect-to values.
func ParseConnectTo(values []string) (ConnectTo, error) {
	m, err := domain.ParseConnectTo(values)
	if err != nil {
		return nil, newError(ErrInvalidReference, nil, "%v", err)
	}
	return ConnectTo(m), nil
}

// Transport returns base (nil: go-containerregistry's remote.DefaultTransport) dialling the
// mapped addresses; base itself when nothing is mapped.
func (c ConnectTo) Transport(base http.RoundTripper) (http.RoundTripper, error) {
	if base == nil {
		base = remote.DefaultTransport
	}
	if len(c) == 0 {
		return base, nil
	}
	t, ok := base.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("%s needs an *http.Transport to dial through, not %T", domain.ConnectToFlag, base)
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := c[addr]; ok {
			addr = to
		}
		return dial(ctx, network, addr)
	}
	return t, nil
}
