package domain

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ParseRegistryHost validates a registry host with an optional port ("reg.local:5000",
// "10.0.0.7:5000", "[fd00::7]:5000"), without scheme or path, by the host rule of [Repository]
// and a port of 1-65535, and returns it lower-cased.
func ParseRegistryHost(s string) (string, error) {
	const example = "write the registry as host[:port], e.g. reg.local:5000"
	switch {
	case s == "":
		return "", fmt.Errorf("empty host: %s", example)
	case strings.Contains(s, "://"):
		return "", fmt.Errorf("has a scheme: %s", example)
	case strings.Contains(s, "/"):
		return "", fmt.Errorf("has a path: name the registry host only, %s", example)
	}
	if repo, err := ParseRepository(s + "/x"); err != nil || repo.Host() != s {
		return "", fmt.Errorf("is not a registry host: %s", example)
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		if n, perr := parsePort(port); perr != nil || n == 0 {
			return "", fmt.Errorf("has an invalid port %q (1-65535): %s", port, example)
		}
	}
	return strings.ToLower(s), nil
}

func parsePort(s string) (int, error) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("out of range")
		}
	}
	return n, nil
}

// IsLoopbackHost reports whether the registry host ("host[:port]") is a loopback address:
// "localhost" or an IP in 127.0.0.0/8 or ::1 (IPv6 in brackets when a port follows).
func IsLoopbackHost(host string) bool {
	h := strings.ToLower(host)
	if hh, port, err := net.SplitHostPort(h); err == nil {
		if _, perr := parsePort(port); perr != nil || port == "" {
			return false
		}
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}
