package domain

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// ConnectToFlag is the registry tool's flag that reaches a registry at another address, after
// curl's --connect-to: the request, and so the image reference and its digest, still name the
// registry; only the connection goes elsewhere.
const ConnectToFlag = "--connect-to"

// HostRoute is how a tool container reaches a loopback registry of the caller's machine: the
// registry's host:port as images name it (Registry), the port on the caller's machine (Port),
// and the name:port the container dials instead (Alias:Port), where the module binds a service
// that forwards to the caller's port. Inside a container, localhost is the container itself.
type HostRoute struct {
	Registry string // host:port as image references name it, lower-cased
	Host     string // the host the caller's machine is asked to connect to (localhost, 127.0.0.1, ::1)
	Port     int
	Alias    string // a DNS label, unique per Registry
}

// ConnectTo is the registry tool's --connect-to value of r: "host:port=alias:port".
func (r HostRoute) ConnectTo() string {
	return r.Registry + "=" + net.JoinHostPort(r.Alias, strconv.Itoa(r.Port))
}

// HostRoutes are the routes the registries of refs need: one per loopback registry host and
// port, sorted by registry; none for any other registry. A loopback registry without a port is
// reached on 443 (https) and 80 (plain http), as a registry client tries them.
func HostRoutes(refs ...ImageRef) []HostRoute {
	seen := map[string]bool{}
	var out []HostRoute
	for _, r := range refs {
		reg := strings.ToLower(r.Repository.Host())
		if reg == "" || !IsLoopbackHost(reg) {
			continue
		}
		host, port, err := net.SplitHostPort(reg)
		ports := []int{443, 80}
		if err != nil {
			host = strings.TrimSuffix(strings.TrimPrefix(reg, "["), "]")
		} else {
			n, _ := parsePort(port)
			ports = []int{n}
		}
		for _, p := range ports {
			registry := net.JoinHostPort(host, strconv.Itoa(p))
			if seen[registry] {
				continue
			}
			seen[registry] = true
			out = append(out, HostRoute{Registry: registry, Host: host, Port: p, Alias: routeAlias(host, p)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Registry < out[j].Registry })
	return out
}

// routeAlias is a DNS label naming the route of host:port: registry-<host>-<port>, the host's
// dots and colons as dashes (registry-localhost-5000, registry-127-0-0-1-5000, registry-1-5000
// for ::1).
func routeAlias(host string, port int) string {
	h := strings.Trim(strings.NewReplacer(".", "-", ":", "-").Replace(host), "-")
	return fmt.Sprintf("registry-%s-%d", h, port)
}

// ParseConnectTo validates the registry tool's --connect-to values (registry=address): the
// registry a loopback host:port, the address a host:port, each registry once. It
// returns registry → address, lower-cased.
func ParseConnectTo(values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		reg, addr, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("%s=%q: want registry=address, e.g. localhost:5000=registry-localhost-5000:5000", ConnectToFlag, v)
		}
		reg, addr = strings.ToLower(reg), strings.ToLower(addr)
		if _, port, err := net.SplitHostPort(reg); err != nil || !IsLoopbackHost(reg) || port == "" {
			return nil, fmt.Errorf("%s=%q: %q is not a loopback registry with its port (localhost:5000, 127.0.0.1:5000, [::1]:5000): only those need another address inside a container", ConnectToFlag, v, reg)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%s=%q: %q is not a host:port to connect to instead", ConnectToFlag, v, addr)
		}
		if n, err := parsePort(port); err != nil || n == 0 {
			return nil, fmt.Errorf("%s=%q: %q has an invalid port (1-65535)", ConnectToFlag, v, addr)
		}
		if _, dup := out[reg]; dup {
			return nil, fmt.Errorf("%s lists %s twice: list each registry once", ConnectToFlag, reg)
		}
		out[reg] = addr
	}
	return out, nil
}
