package dvc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DVCLockSchema is the dvc.lock schema version understood (DVC 2 and 3).
const DVCLockSchema = "2.0"

// md5Pattern is a DVC md5: 32 hex characters, with ".dir" for a directory.
var md5Pattern = regexp.MustCompile(`^[0-9a-f]{32}(\.dir)?$`)

// DVCLock is the part of dvc.lock this package uses.
type DVCLock struct {
	Schema string
	// Stages maps a stage name ("train", "featurize@2024") to its recorded state.
	Stages map[string]Stage
}

// Stage is one pipeline stage in dvc.lock.
type Stage struct {
	Deps []Entry
	Outs []Entry
}

// Entry is a dependency or output with the hash DVC recorded.
type Entry struct {
	// Path is relative to the dvc.lock directory, "/"-separated and cleaned.
	Path string
	// MD5 is the recorded md5 ("<32 hex>" or "<32 hex>.dir"); empty when DVC recorded
	// another kind of checksum (etag, checksum) for an external dependency.
	MD5 string
	// Size and NFiles are informative.
	Size   int64
	NFiles int64
}

type rawLock struct {
	Schema *string              `yaml:"schema"`
	Stages map[string]*rawStage `yaml:"stages"`
}

type rawStage struct {
	Deps []rawEntry `yaml:"deps"`
	Outs []rawEntry `yaml:"outs"`
}

type rawEntry struct {
	Path   string `yaml:"path"`
	MD5    string `yaml:"md5"`
	Hash   string `yaml:"hash"`
	Size   int64  `yaml:"size"`
	NFiles int64  `yaml:"nfiles"`
}

// ParseDVCLock parses a dvc.lock file (schema 2.0). Every output must carry a valid
// md5; dependencies may carry another checksum kind (external URLs).
func ParseDVCLock(data []byte) (DVCLock, error) {
	const fix = "regenerate it with `dvc repro` or `dvc commit` (DVC 2 or later) and commit dvc.lock"
	if len(bytes.TrimSpace(data)) == 0 {
		return DVCLock{}, fmt.Errorf("dvc.lock is empty: %s", fix)
	}
	var raw rawLock
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return DVCLock{}, fmt.Errorf("dvc.lock is not valid YAML of the expected shape (%v): %s", err, fix)
	}
	if raw.Schema == nil {
		return DVCLock{}, fmt.Errorf("dvc.lock has no \"schema: '2.0'\" line (a DVC 1 lock file?): %s", fix)
	}
	if *raw.Schema != DVCLockSchema {
		return DVCLock{}, fmt.Errorf("dvc.lock has schema %q, expected %q: %s", *raw.Schema, DVCLockSchema, fix)
	}
	lock := DVCLock{Schema: *raw.Schema, Stages: make(map[string]Stage, len(raw.Stages))}
	for name, rs := range raw.Stages {
		if strings.TrimSpace(name) == "" {
			return DVCLock{}, fmt.Errorf("dvc.lock has a stage with an empty name: %s", fix)
		}
		if rs == nil {
			lock.Stages[name] = Stage{}
			continue
		}
		var st Stage
		for i, re := range rs.Deps {
			e, err := convertEntry(re, false)
			if err != nil {
				return DVCLock{}, fmt.Errorf("dvc.lock stage %q deps[%d]: %w: %s", name, i, err, fix)
			}
			st.Deps = append(st.Deps, e)
		}
		for i, re := range rs.Outs {
			e, err := convertEntry(re, true)
			if err != nil {
				return DVCLock{}, fmt.Errorf("dvc.lock stage %q outs[%d]: %w: %s", name, i, err, fix)
			}
			st.Outs = append(st.Outs, e)
		}
		lock.Stages[name] = st
	}
	return lock, nil
}

func convertEntry(re rawEntry, requireMD5 bool) (Entry, error) {
	p, err := cleanPath(re.Path)
	if err != nil {
		return Entry{}, err
	}
	if re.Hash != "" && re.Hash != "md5" {
		if requireMD5 {
			return Entry{}, fmt.Errorf("output %q is hashed with %q, expected md5", p, re.Hash)
		}
	}
	if re.MD5 == "" && requireMD5 {
		return Entry{}, fmt.Errorf("output %q has no md5", p)
	}
	if re.MD5 != "" && !md5Pattern.MatchString(re.MD5) {
		return Entry{}, fmt.Errorf("%q has md5 %q, expected 32 lowercase hex characters (optionally .dir)", p, re.MD5)
	}
	if re.Size < 0 || re.NFiles < 0 {
		return Entry{}, fmt.Errorf("%q has a negative size or file count", p)
	}
	return Entry{Path: p, MD5: re.MD5, Size: re.Size, NFiles: re.NFiles}, nil
}

// cleanPath normalises a dvc.lock path: "/"-separated, cleaned, no "./" prefix or
// trailing "/". URLs of external dependencies are kept as they are.
func cleanPath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("an entry has no path")
	}
	if strings.ContainsAny(p, "\x00\n\r") {
		return "", fmt.Errorf("path %q contains control characters", p)
	}
	if strings.Contains(p, "://") { // external dependency (import-url): keep the URL as is
		return p, nil
	}
	c := path.Clean(strings.ReplaceAll(p, "\\", "/"))
	if c == "." {
		return "", fmt.Errorf("path %q names the project root", p)
	}
	return c, nil
}

// StageNames returns the stage names in sorted order.
func (l DVCLock) StageNames() []string {
	names := make([]string, 0, len(l.Stages))
	for n := range l.Stages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DatasetVersion returns the dataset version recorded in lock.
//
// With datasetPath set (e.g. "data/raw"), it is "md5:" + the md5 DVC recorded for that
// path, found among the outputs and dependencies of every stage; all occurrences must
// agree. With datasetPath empty, it is "sha256:" + the hex sha256 of the lines
// "<path> <md5>\n" of every stage output, sorted by path.
func DatasetVersion(lock DVCLock, datasetPath string) (string, error) {
	if datasetPath != "" {
		return pathVersion(lock, datasetPath)
	}
	outs := map[string]string{}
	for _, name := range lock.StageNames() {
		for _, o := range lock.Stages[name].Outs {
			if prev, ok := outs[o.Path]; ok && prev != o.MD5 {
				return "", fmt.Errorf("dvc.lock records %s twice with different md5s (%s, %s): run `dvc repro` and commit dvc.lock", o.Path, prev, o.MD5)
			}
			outs[o.Path] = o.MD5
		}
	}
	if len(outs) == 0 {
		return "", fmt.Errorf("dvc.lock records no stage outputs: run `dvc repro` and commit dvc.lock, or name the dataset path")
	}
	paths := make([]string, 0, len(outs))
	for p := range outs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s %s\n", p, outs[p])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func pathVersion(lock DVCLock, datasetPath string) (string, error) {
	want, err := cleanPath(datasetPath)
	if err != nil {
		return "", fmt.Errorf("dataset path: %w: pass the DVC-tracked raw data path, e.g. data/raw", err)
	}
	found := ""
	var where []string
	for _, name := range lock.StageNames() {
		st := lock.Stages[name]
		for _, group := range []struct {
			kind    string
			entries []Entry
		}{{"out", st.Outs}, {"dep", st.Deps}} {
			for _, e := range group.entries {
				if e.Path != want || e.MD5 == "" {
					continue
				}
				if found != "" && found != e.MD5 {
					return "", fmt.Errorf("dvc.lock records different md5s for %s (%s in %s, %s in stage %q): run `dvc repro` so every stage sees the same data, and commit dvc.lock",
						want, found, strings.Join(where, ", "), e.MD5, name)
				}
				found = e.MD5
				where = append(where, fmt.Sprintf("stage %q %s", name, group.kind))
			}
		}
	}
	if found == "" {
		return "", fmt.Errorf("dvc.lock has no md5 for %s: pass the path exactly as dvc.yaml names it (one of the stage deps or outs), or run `dvc repro`", want)
	}
	return "md5:" + found, nil
}
