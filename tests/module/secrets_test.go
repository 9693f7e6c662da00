//go:build daggerharness

package main

import (
	"strings"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

// cleanSecretScan is what `trivy fs --scanners secret` writes for a directory without secrets.
const cleanSecretScan = `{"SchemaVersion": 2, "CreatedAt": "2025-03-01T10:00:00Z", "ArtifactName": "/src", "ArtifactType": "filesystem", "Metadata": {"ImageConfig": {"architecture": "", "created": "0001-01-01T00:00:00Z", "os": "", "rootfs": {"type": "", "diff_ids": null}, "config": {}}}}`

// absent answers that the project has no file at each of paths (every other `exists` is left
// to the other responders).
func absent(paths ...string) daggertest.Responder {
	return func(c daggertest.Call) (any, bool) {
		if c.Leaf != "exists" {
			return nil, false
		}
		p, _ := c.LeafArgs["path"].(string)
		for _, a := range paths {
			if p == a || strings.HasSuffix(p, "/"+a) {
				return false, true
			}
		}
		return nil, false
	}
}
