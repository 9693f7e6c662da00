package domain

import (
	"net/url"
	"strings"
)

// ClearText reports whether a credential sent to u would travel in clear text to another
// machine: plain http to a host that is not loopback ([IsLoopbackHost]). Tokens go over https,
// or to the caller's own machine (a test server, a port-forward).
func ClearText(u *url.URL) bool {
	return !strings.EqualFold(u.Scheme, "https") && !IsLoopbackHost(u.Host)
}

// SameOrigin reports whether a and b have the same scheme and host (port included): a redirect
// from a to b stays on the server a credential was given for.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}
