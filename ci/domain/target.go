package domain

import (
	"fmt"
	"regexp"
)

// Limits on the names of a deployment target, from Kubernetes and Helm.
const (
	// MaxReleaseNameLen is Helm's limit on release names.
	MaxReleaseNameLen = 53
	// MaxNamespaceLen is the DNS-1123 label limit.
	MaxNamespaceLen = 63
)

var (
	releaseRE   = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// ValidateReleaseName checks a helm release name: a DNS-1123 label that
// starts with a letter (the chart derives Service names from it), at most 53
// characters.
func ValidateReleaseName(name string) error {
	if name == "" {
		return fmt.Errorf("release name is empty: set --release, e.g. soccer-predict")
	}
	if len(name) > MaxReleaseNameLen {
		return fmt.Errorf("release name %q has %d characters: use at most %d", name, len(name), MaxReleaseNameLen)
	}
	if !releaseRE.MatchString(name) {
		return fmt.Errorf("release name %q is not a DNS-1123 label: use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. soccer-predict)", name)
	}
	return nil
}

// AuditRelease is the Helm release that keeps the rollback records of release (in the same
// namespace): "<release>-audit". A release name is valid only when this one is too.
func AuditRelease(release string) string { return release + "-audit" }

// ValidateNamespace checks a Kubernetes namespace name (DNS-1123 label).
func ValidateNamespace(ns string) error {
	if ns == "" {
		return fmt.Errorf("namespace is empty: set --namespace, e.g. soccerpredict-staging")
	}
	if len(ns) > MaxNamespaceLen {
		return fmt.Errorf("namespace %q has %d characters: use at most %d", ns, len(ns), MaxNamespaceLen)
	}
	if !namespaceRE.MatchString(ns) {
		return fmt.Errorf("namespace %q is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit", ns)
	}
	return nil
}
