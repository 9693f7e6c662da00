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

// InsecureRegistryFlag is the flag (of the module's functions and of the registry tool) that opts
// a registry host into plain HTTP.
const InsecureRegistryFlag = "--insecure-registry"

// ParseInsecureRegistries validates the --insecure-registry values and returns the hosts,
// lower-cased, in order: each must be a registry host with an optional port ([ParseRegistryHost]),
// not a loopback host (those are reached over plain HTTP without any opt-in), and listed once.
// Hosts are matched exactly, port included, case-insensitively.
func ParseInsecureRegistries(hosts []string) ([]string, error) {
	out := make([]string, 0, len(hosts))
	seen := map[string]bool{}
	for _, h := range hosts {
		host, err := ParseRegistryHost(h)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %v", InsecureRegistryFlag, h, err)
		}
		if IsLoopbackHost(host) {
			return nil, fmt.Errorf("%s=%s is not needed: loopback registries (localhost, 127.0.0.0/8, [::1]) are always reached over plain http when they have no TLS; remove the flag", InsecureRegistryFlag, h)
		}
		if seen[host] {
			return nil, fmt.Errorf("%s=%s is listed twice: list each registry once", InsecureRegistryFlag, h)
		}
		seen[host] = true
		out = append(out, host)
	}
	return out, nil
}
