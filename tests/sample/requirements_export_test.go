package sample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/requirements"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// lockedPackage is the part of a pdm.lock [[package]] entry that `pdm export` reads.
type lockedPackage struct {
	Name, Version, Marker string
	Extras, Groups        []string
}

// pdmLock is the part of pdm.lock that `pdm export` reads.
type pdmLock struct {
	Groups   []string // [metadata] groups
	Strategy []string // [metadata] strategy
	Packages []lockedPackage
}

var (
	tomlTableRE = regexp.MustCompile(`^\[\[?[A-Za-z0-9_.-]+\]\]?$`)
	tomlKeyRE   = regexp.MustCompile(`^([A-Za-z0-9_-]+)\s*=\s*(.*)$`)
)

// parseLock reads pdm.lock as PDM writes it: tables, one key a line, strings in double quotes,
// string arrays on one line or spread over several. Only [metadata] and [[package]] keys are
// kept; a value it cannot read in them is an error, never skipped.
func parseLock(data []byte) (pdmLock, error) {
	var lock pdmLock
	var pkg *lockedPackage
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if tomlTableRE.MatchString(line) {
			section = line
			if line == "[[package]]" {
				lock.Packages = append(lock.Packages, lockedPackage{})
				pkg = &lock.Packages[len(lock.Packages)-1]
			} else {
				pkg = nil
			}
			continue
		}
		m := tomlKeyRE.FindStringSubmatch(line)
		if m == nil {
			return pdmLock{}, fmt.Errorf("line %d: %q is not `key = value`", n, line)
		}
		key, value := m[1], m[2]
		// A multi-line array continues up to the line holding its closing bracket.
		if strings.HasPrefix(value, "[") && !strings.HasSuffix(value, "]") {
			for sc.Scan() {
				n++
				next := strings.TrimSpace(sc.Text())
				value += next
				if strings.HasPrefix(next, "]") {
					break
				}
			}
			if !strings.HasSuffix(value, "]") {
				return pdmLock{}, fmt.Errorf("line %d: array of %q is not closed", n, key)
			}
		}
		switch {
		case section == "[metadata]" && key == "groups":
			if err := parseStrings(value, &lock.Groups); err != nil {
				return pdmLock{}, fmt.Errorf("line %d: metadata.groups: %w", n, err)
			}
		case section == "[metadata]" && key == "strategy":
			if err := parseStrings(value, &lock.Strategy); err != nil {
				return pdmLock{}, fmt.Errorf("line %d: metadata.strategy: %w", n, err)
			}
		case section == "[[package]]":
			if err := setPackageField(pkg, key, value); err != nil {
				return pdmLock{}, fmt.Errorf("line %d: package %q: %w", n, pkg.Name, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return pdmLock{}, err
	}
	for i, p := range lock.Packages {
		if p.Name == "" || p.Version == "" || len(p.Groups) == 0 {
			return pdmLock{}, fmt.Errorf("package #%d (%q) lacks a name, version or groups", i+1, p.Name)
		}
	}
	return lock, nil
}

func setPackageField(pkg *lockedPackage, key, value string) error {
	var err error
	switch key {
	case "name":
		pkg.Name, err = parseString(value)
	case "version":
		pkg.Version, err = parseString(value)
	case "marker":
		pkg.Marker, err = parseString(value)
	case "groups":
		err = parseStrings(value, &pkg.Groups)
	case "extras":
		err = parseStrings(value, &pkg.Extras)
	}
	return err
}

// parseString reads a TOML basic string (its escapes are a subset of Go's).
func parseString(value string) (string, error) {
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return "", fmt.Errorf("%q is not a double-quoted string", value)
	}
	return strconv.Unquote(value)
}

// parseStrings reads a TOML array of basic strings, which is also JSON once a trailing comma
// (allowed in TOML) is removed.
func parseStrings(value string, out *[]string) error {
	value = regexp.MustCompile(`,\s*\]$`).ReplaceAllString(value, "]")
	if err := json.Unmarshal([]byte(value), out); err != nil {
		return fmt.Errorf("%q is not an array of strings: %w", value, err)
	}
	return nil
}

var pep503RE = regexp.MustCompile(`[-_.]+`)

func pep503(name string) string { return strings.ToLower(pep503RE.ReplaceAllString(name, "-")) }

// pdmExport emulates `pdm export --prod -G <group> --without-hashes` (PDM 2.22, inherit_metadata
// lock): every package whose groups include "default" or group, sorted by its normalised name
// (plus extras), as name==version and "; marker" when the entry has one, after PDM's header. An
// entry with extras replaces the plain entry of the same package, as in PDM.
func pdmExport(lock pdmLock, group string) (string, error) {
	if !contains(lock.Strategy, "inherit_metadata") {
		return "", fmt.Errorf("pdm.lock strategy %v lacks inherit_metadata: pdm export refuses it", lock.Strategy)
	}
	if !contains(lock.Groups, group) {
		return "", fmt.Errorf("group %q is not locked (pdm.lock has %v): run `pdm lock -G %s`", group, lock.Groups, group)
	}
	type entry struct{ key, line string }
	var selected []lockedPackage
	withExtras := map[string]bool{}
	for _, p := range lock.Packages {
		if contains(p.Groups, "default") || contains(p.Groups, group) {
			selected = append(selected, p)
			if len(p.Extras) > 0 {
				withExtras[pep503(p.Name)] = true
			}
		}
	}
	var entries []entry
	seen := map[string]bool{}
	for _, p := range selected {
		if len(p.Extras) == 0 && withExtras[pep503(p.Name)] {
			continue
		}
		key, line := pep503(p.Name), p.Name
		if len(p.Extras) > 0 {
			extras := append([]string(nil), p.Extras...)
			sort.Strings(extras)
			key += "[" + strings.Join(extras, ",") + "]"
			line += "[" + strings.Join(extras, ",") + "]"
		}
		line += "==" + p.Version
		if p.Marker != "" {
			line += "; " + p.Marker
		}
		if !seen[line] {
			seen[line] = true
			entries = append(entries, entry{key, line})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	var b strings.Builder
	b.WriteString("# This file is @generated by PDM.\n# Please do not edit it manually.\n\n")
	for _, e := range entries {
		b.WriteString(e.line + "\n")
	}
	return b.String(), nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sampleLock(t *testing.T) pdmLock {
	t.Helper()
	lock, err := parseLock(read(t, project.PDMLock))
	require.NoError(t, err)
	require.Equal(t, bytes.Count(read(t, project.PDMLock), []byte("\n[[package]]\n")), len(lock.Packages),
		"every [[package]] entry parsed")
	return lock
}

// What the pipeline's requirements-check will see: for every service, the committed
// requirements file and `pdm export --prod -G <service>` of the real pdm.lock do not drift.
func TestSampleRequirementsMatchPDMExport(t *testing.T) {
	lock := sampleLock(t)
	for _, svc := range domain.Services() {
		t.Run(string(svc), func(t *testing.T) {
			committed := read(t, svc.Requirements())
			exported, err := pdmExport(lock, string(svc))
			require.NoError(t, err)
			diff, err := requirements.Compare(svc, committed, []byte(exported))
			require.NoError(t, err, diff)
			assert.Empty(t, diff)
			// The files are written in PDM's own form, not just equivalent to it.
			assert.Equal(t, exported, string(committed))
		})
	}
}

// The export holds the default dependencies and the service group's closure, nothing of dev.
func TestSampleExportSelection(t *testing.T) {
	lock := sampleLock(t)
	names := func(svc string) map[string]bool {
		out, err := pdmExport(lock, svc)
		require.NoError(t, err)
		f, err := requirements.Parse([]byte(out))
		require.NoError(t, err)
		set := map[string]bool{}
		for _, r := range f.Requirements {
			set[r.Name] = true
		}
		return set
	}
	api, worker, airflow := names("api"), names("worker"), names("airflow")
	for _, ml := range []string{"numpy", "pandas", "scikit-learn", "scipy", "joblib", "threadpoolctl"} {
		assert.True(t, api[ml] && worker[ml] && airflow[ml], ml)
	}
	for _, transitive := range []string{"sniffio", "annotated-doc", "typing-extensions"} {
		assert.True(t, api[transitive], "api needs %s", transitive)
	}
	for _, transitive := range []string{"kombu", "amqp", "vine", "billiard", "wcwidth"} {
		assert.True(t, worker[transitive], "worker needs %s", transitive)
	}
	for _, devOnly := range []string{"pytest", "ruff", "httpx", "coverage"} {
		assert.False(t, api[devOnly] || worker[devOnly] || airflow[devOnly], "%s is dev only", devOnly)
	}
	assert.False(t, airflow["apache-airflow"], "the Airflow image provides Airflow")
	assert.False(t, airflow["fastapi"] || airflow["celery"], "airflow gets no service code of the others")
}

func TestSampleRequirementsDriftIsReported(t *testing.T) {
	lock := sampleLock(t)
	exported, err := pdmExport(lock, "api")
	require.NoError(t, err)
	committed := string(read(t, domain.API.Requirements()))
	require.Contains(t, committed, "\nfastapi==0.121.3\n")

	cases := map[string]struct{ edited, inDiff string }{
		"one version changed": {strings.Replace(committed, "\nfastapi==0.121.3\n", "\nfastapi==0.121.2\n", 1), "-fastapi==0.121.2"},
		"transitive missing":  {strings.Replace(committed, "\nsniffio==1.3.1\n", "\n", 1), "+sniffio==1.3.1"},
		"marker dropped": {regexp.MustCompile(`(?m)^(colorama==0\.4\.6);.*$`).ReplaceAllString(committed, "$1"),
			"-colorama==0.4.6"},
		"extra package": {committed + "apache-airflow==2.10.4\n", "-apache-airflow==2.10.4"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, committed, tc.edited, "the edit applies")
			diff, err := requirements.Compare(domain.API, []byte(tc.edited), []byte(exported))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "pdm export --prod -G api --without-hashes -o requirements-api.txt")
			assert.Contains(t, diff, tc.inDiff)
		})
	}
}

// Every pinned line of every service, bumped on its own, is drift.
func TestSampleEveryPinIsChecked(t *testing.T) {
	lock := sampleLock(t)
	pinRE := regexp.MustCompile(`(?m)^([A-Za-z0-9._-]+==)([^;\n]+)`)
	for _, svc := range domain.Services() {
		exported, err := pdmExport(lock, string(svc))
		require.NoError(t, err)
		committed := string(read(t, svc.Requirements()))
		lines := pinRE.FindAllStringSubmatchIndex(committed, -1)
		require.NotEmpty(t, lines)
		for _, loc := range lines {
			edited := committed[:loc[5]] + ".post99" + committed[loc[5]:]
			_, err := requirements.Compare(svc, []byte(edited), []byte(exported))
			assert.Error(t, err, "%s: %q", svc, committed[loc[0]:loc[5]])
		}
	}
}

func TestPDMExportEmulation(t *testing.T) {
	lock := pdmLock{
		Groups:   []string{"default", "svc", "dev"},
		Strategy: []string{"inherit_metadata"},
		Packages: []lockedPackage{
			{Name: "Zeta_Pkg", Version: "1.0", Groups: []string{"default"}},
			{Name: "alpha", Version: "2.0", Groups: []string{"svc"}, Marker: `os_name == "nt"`},
			{Name: "devonly", Version: "3.0", Groups: []string{"dev"}},
			{Name: "cov", Version: "5.0", Groups: []string{"svc"}},
			{Name: "cov", Version: "5.0", Extras: []string{"toml"}, Groups: []string{"svc"}},
		},
	}
	out, err := pdmExport(lock, "svc")
	require.NoError(t, err)
	assert.Equal(t, "# This file is @generated by PDM.\n# Please do not edit it manually.\n\n"+
		"alpha==2.0; os_name == \"nt\"\ncov[toml]==5.0\nZeta_Pkg==1.0\n", out)

	_, err = pdmExport(lock, "airflow")
	assert.ErrorContains(t, err, "pdm lock -G airflow")
	lock.Strategy = []string{"cross_platform"}
	_, err = pdmExport(lock, "svc")
	assert.ErrorContains(t, err, "inherit_metadata")
}

func TestParseLock(t *testing.T) {
	good := `# header
[metadata]
groups = ["default", "api"]
strategy = ["inherit_metadata"]

[[metadata.targets]]
requires_python = "==3.11.*"

[[package]]
name = "colorama"
version = "0.4.6"
groups = ["api",]
marker = "platform_system == \"Windows\""
dependencies = [
    "x; python_version < \"3.11\"",
]
files = []
`
	lock, err := parseLock([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, []string{"default", "api"}, lock.Groups)
	assert.Equal(t, []lockedPackage{{Name: "colorama", Version: "0.4.6", Groups: []string{"api"},
		Marker: `platform_system == "Windows"`}}, lock.Packages)

	for name, bad := range map[string]string{
		"no groups":       "[[package]]\nname = \"a\"\nversion = \"1\"\n",
		"unquoted":        "[[package]]\nname = a\n",
		"not key = value": "[[package]]\nname\n",
		"open array":      "[[package]]\nname = \"a\"\ngroups = [\n\"x\",\n",
		"bad array":       "[metadata]\ngroups = [default]\n",
	} {
		_, err := parseLock([]byte(bad))
		assert.Error(t, err, name)
	}
}

func FuzzParseLock(f *testing.F) {
	f.Add([]byte("[metadata]\ngroups = [\"default\"]\n[[package]]\nname = \"a\"\nversion = \"1\"\ngroups = [\"default\"]\n"))
	f.Add([]byte("[[package]]\ndependencies = [\n\"a\",\n]\n"))
	f.Add([]byte("x = [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lock, err := parseLock(data)
		if err != nil {
			return
		}
		assert.LessOrEqual(t, len(lock.Packages), bytes.Count(data, []byte("[[package]]")))
		for _, p := range lock.Packages {
			assert.NotEmpty(t, p.Name)
			assert.NotEmpty(t, p.Groups)
		}
	})
}
