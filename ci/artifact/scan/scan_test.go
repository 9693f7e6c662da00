package scan

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

var scanTime = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func sample(t *testing.T) Report {
	t.Helper()
	r, err := ParseTrivy(readFile(t, "testdata/trivy-api.json"))
	require.NoError(t, err)
	return r
}

func TestParseTrivySample(t *testing.T) {
	r := sample(t)
	assert.Equal(t, 2, r.SchemaVersion)
	assert.Equal(t, "debian 12.5", r.OperatingSystem())
	require.Len(t, r.Results, 3)
	assert.Len(t, r.Results[0].Vulnerabilities, 6)
	assert.Empty(t, r.Results[2].Vulnerabilities)

	fs := Findings(r)
	var got []string
	for _, f := range fs {
		got = append(got, f.Severity.String()+" "+f.ID+" "+f.Package)
	}
	assert.Equal(t, []string{
		"CRITICAL CVE-2099-0001 libssl3", // duplicate entry merged
		"HIGH CVE-2099-0002 zlib1g",
		"HIGH CVE-2099-0005 jinja2",
		"HIGH GHSA-aaaa-bbbb-cccc requests",
		"MEDIUM CVE-2099-0003 libc6",
		"LOW CVE-2099-0004 bash",
		"UNKNOWN TEMP-0000000-ABCDEF coreutils",
	}, got)
	assert.Equal(t, "3.0.13-1~deb12u1", fs[0].Fixed)
	assert.Equal(t, "openssl: sample critical issue", fs[0].Title, "the first of two duplicates wins")
}

func TestParseTrivyErrors(t *testing.T) {
	vuln := func(fields string) string {
		return `{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Vulnerabilities":[{` + fields + `}]}]}`
	}
	cases := map[string]string{
		"":                                       "empty",
		"  \n":                                   "empty",
		"null":                                   "not a JSON object",
		"[]":                                     "not a JSON object",
		"{":                                      "not valid JSON",
		`{"SchemaVersion":"2"}`:                  "not valid JSON",
		`{"SchemaVersion":1}`:                    "SchemaVersion 1",
		`{}`:                                     "SchemaVersion 0",
		`{"ArtifactName":"x"}`:                   "SchemaVersion 0",
		`{"SchemaVersion":2}`:                    "no ArtifactName",
		`{"SchemaVersion":2,"ArtifactName":" "}`: "no ArtifactName",
		`{"Results":{}}`:                         "not valid JSON",
		vuln(`"PkgName":"a","Severity":"HIGH"`):  "no VulnerabilityID",
		vuln(`"VulnerabilityID":"CVE-1","Severity":"HIGH"`):                 "no PkgName",
		vuln(`"VulnerabilityID":"CVE-1","PkgName":"a","Severity":"SEVERE"`): "unknown severity \"SEVERE\"",
		vuln(`"VulnerabilityID":"CVE-1","PkgName":"a"`):                     "unknown severity \"\"",
	}
	for in, msg := range cases {
		_, err := ParseTrivy([]byte(in))
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), msg, "%q", in)
	}
	r, err := ParseTrivy([]byte(`{"SchemaVersion":2,"ArtifactName":"x","Results":[{"Target":"t","Vulnerabilities":null}]}`))
	require.NoError(t, err)
	assert.Empty(t, Findings(r))
	r, err = ParseTrivy([]byte(`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"filesystem"}`))
	require.NoError(t, err, "a clean filesystem scan lists nothing: it has no OS to name")
	assert.Empty(t, Findings(r))
	assert.Equal(t, "", r.OperatingSystem())
}

// A report with no results and no OS says Trivy found nothing to scan: it is not a clean scan,
// it is not a scan (an attacker's `{"SchemaVersion":2,"ArtifactName":"x"}` would otherwise be a
// clean report of any image).
func TestAReportThatScannedNothingIsNotAScan(t *testing.T) {
	for _, in := range []string{
		`{"SchemaVersion":2,"ArtifactName":"x"}`,
		`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"container_image","Metadata":{"ImageID":"sha256:00"}}`,
		`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"container_image","Results":[]}`,
	} {
		_, err := ParseTrivy([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), `trivy report of "x" has no Results and no OS: Trivy scanned nothing it could judge, so it is not a scan`, in)
		_, err = ParseImageReport([]byte(in))
		assert.ErrorContains(t, err, "not a scan", in)
	}
	// The positive twins: an image whose OS Trivy detected, clean; an image Trivy read packages of.
	for _, in := range []string{
		`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"container_image","Metadata":{"OS":{"Family":"debian","Name":"12.5"}}}`,
		`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"container_image","Results":[{"Target":"Python","Class":"lang-pkgs","Type":"python-pkg"}]}`,
	} {
		r, err := ParseImageReport([]byte(in))
		require.NoError(t, err, in)
		assert.Empty(t, Findings(r))
	}
	// Where an image's scan is asked for, a filesystem scan is not one.
	_, err := ParseImageReport([]byte(`{"SchemaVersion":2,"ArtifactName":"x","ArtifactType":"filesystem"}`))
	assert.ErrorContains(t, err, `trivy report of "x" has ArtifactType "filesystem", not "container_image": it is not an image scan`)
}

func TestSeverities(t *testing.T) {
	got, err := ParseSeverities("")
	require.NoError(t, err)
	assert.Equal(t, []Severity{Critical, High}, got)
	got, err = ParseSeverities(" medium , Critical,HIGH,high ")
	require.NoError(t, err)
	assert.Equal(t, []Severity{Critical, High, Medium}, got)
	assert.Equal(t, "CRITICAL,HIGH,MEDIUM", JoinSeverities(got))
	got, err = ParseSeverities("UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL")
	require.NoError(t, err)
	assert.Len(t, got, 5)

	_, err = ParseSeverities("HIGH,,CRITICAL")
	require.ErrorContains(t, err, "empty item")
	_, err = ParseSeverities("HIGH,SEVERE")
	require.ErrorContains(t, err, "use one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL")

	assert.Equal(t, "High", High.GitLab())
	assert.Equal(t, "Critical", Critical.GitLab())
	assert.Equal(t, "Unknown", Unknown.GitLab())
	assert.Equal(t, "Unknown", Severity(9).GitLab())
	assert.Equal(t, "Severity(9)", Severity(9).String())
}

func TestParseIgnore(t *testing.T) {
	l, err := ParseIgnore(readFile(t, "testdata/trivyignore"))
	require.NoError(t, err)
	assert.Equal(t, []IgnoreEntry{
		{ID: "CVE-2099-0005", Expires: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Line: 4},
		{ID: "CVE-2099-0002", Expires: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Line: 7},
		{ID: "CVE-2099-0003", Line: 9},
	}, l.Entries)

	l, err = ParseIgnore([]byte("CVE-1\r\n  CVE-2  exp:2030-01-01\r\n#c\r\nCVE-3 # exp:bogus is inside a comment\r\n"))
	require.NoError(t, err)
	require.Len(t, l.Entries, 3)
	assert.Equal(t, "CVE-2", l.Entries[1].ID)
	assert.True(t, l.Entries[2].Expires.IsZero())

	bad := map[string]string{
		"CVE-1 exp:2025-13-01":                "line 1 (CVE-1) has an invalid expiry",
		"\nCVE-1 exp:31-01-2025":              "line 2 (CVE-1) has an invalid expiry",
		"CVE-1 expires:2025-01-01":            "not an expiry Trivy understands",
		"CVE-1 until=2025-01-01":              "not an expiry Trivy understands",
		"exp:2025-01-01 CVE-1":                "write the vulnerability ID first",
		"CVE-1 exp:2025-01-01 exp:2026-01-01": "two expiry dates",
	}
	for in, msg := range bad {
		_, err := ParseIgnore([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), msg, in)
	}
}

func TestIgnoreExpiryBoundary(t *testing.T) {
	l, err := ParseIgnore([]byte("CVE-1 exp:2025-01-31\nCVE-2\n"))
	require.NoError(t, err)
	midnight := time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	_, ok := l.Match("CVE-1", midnight)
	assert.True(t, ok, "still active at the expiry instant")
	_, ok = l.Match("CVE-1", midnight.Add(time.Second))
	assert.False(t, ok, "expired right after")
	_, ok = l.Match("CVE-2", midnight.AddDate(50, 0, 0))
	assert.True(t, ok, "no expiry never expires")
	_, ok = l.Match("cve-2", midnight)
	assert.False(t, ok, "IDs match exactly")
	assert.Equal(t, []IgnoreEntry{{ID: "CVE-1", Expires: midnight, Line: 1}}, l.Expired(midnight.Add(time.Hour)))
}

func TestEvaluate(t *testing.T) {
	ignore, err := ParseIgnore(readFile(t, "testdata/trivyignore"))
	require.NoError(t, err)
	sev, err := ParseSeverities("")
	require.NoError(t, err)
	v, err := Evaluate(sample(t), Policy{Severities: sev, Ignore: ignore, Now: scanTime})
	require.NoError(t, err)

	ids := func(fs []Finding) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	assert.Equal(t, []string{"CVE-2099-0001", "CVE-2099-0002", "GHSA-aaaa-bbbb-cccc"}, ids(v.Blocking),
		"CVE-2099-0002's ignore entry expired, so it blocks again")
	assert.Equal(t, []string{"CVE-2099-0005", "CVE-2099-0003"}, ids(v.Ignored))
	assert.Equal(t, []string{"CVE-2099-0004", "TEMP-0000000-ABCDEF"}, ids(v.NonBlocking))
	assert.Equal(t, []string{"CVE-2099-0001", "CVE-2099-0002", "GHSA-aaaa-bbbb-cccc", "CVE-2099-0004", "TEMP-0000000-ABCDEF"}, ids(v.Reported()))
	require.Len(t, v.ExpiredIgnores, 1)
	assert.False(t, v.Passed())

	err = v.Err()
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "image scan found 3 blocking vulnerabilities (severities CRITICAL,HIGH):"), msg)
	lines := strings.Split(msg, "\n")
	require.GreaterOrEqual(t, len(lines), 6)
	assert.Contains(t, lines[1], "CRITICAL CVE-2099-0001 libssl3 3.0.11-1~deb12u2 → 3.0.13-1~deb12u1")
	assert.Contains(t, lines[2], "HIGH     CVE-2099-0002 zlib1g 1:1.2.13.dfsg-1 → no fix yet")
	assert.Contains(t, lines[3], "HIGH     GHSA-aaaa-bbbb-cccc requests 2.31.0 → 2.32.0 (Python)")
	assert.Contains(t, lines[4], "ignore entry for CVE-2099-0002 (line 7) expired on 2025-01-31")
	assert.Contains(t, msg, "fix: upgrade the packages")
	assert.Contains(t, msg, ".trivyignore")

	// Before the zlib entry expired, it was ignored.
	v, err = Evaluate(sample(t), Policy{Severities: sev, Ignore: ignore, Now: time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	assert.Equal(t, []string{"CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"}, ids(v.Blocking))
	assert.Contains(t, v.Err().Error(), "found 2 blocking vulnerabilities")

	// IgnoreUnfixed: zlib has no fix and stops blocking.
	v, err = Evaluate(sample(t), Policy{Severities: sev, Ignore: ignore, IgnoreUnfixed: true, Now: scanTime})
	require.NoError(t, err)
	assert.Equal(t, []string{"CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"}, ids(v.Blocking))
	assert.Contains(t, ids(v.NonBlocking), "CVE-2099-0002")

	// Only CRITICAL blocks: one finding, singular wording.
	v, err = Evaluate(sample(t), Policy{Severities: []Severity{Critical}, Now: scanTime})
	require.NoError(t, err)
	assert.Contains(t, v.Err().Error(), "found 1 blocking vulnerability (severities CRITICAL)")

	// A clean report passes.
	v, err = Evaluate(Report{SchemaVersion: 2}, Policy{Severities: sev, Now: scanTime})
	require.NoError(t, err)
	assert.True(t, v.Passed())
	assert.NoError(t, v.Err())

	_, err = Evaluate(sample(t), Policy{Now: scanTime})
	require.ErrorContains(t, err, "no blocking severities")
	_, err = Evaluate(sample(t), Policy{Severities: sev})
	require.ErrorContains(t, err, "scan time is not set")
	_, err = Evaluate(sample(t), Policy{Severities: []Severity{7}, Now: scanTime})
	require.ErrorContains(t, err, "invalid severity")
}

func TestEvaluatePartitionProperty(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	names := []string{"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	for i := 0; i < 300; i++ {
		var rep Report
		for j := r.Intn(3); j >= 0; j-- {
			res := Result{Target: fmt.Sprintf("t%d", r.Intn(2))}
			for k := r.Intn(12); k > 0; k-- {
				v := Vulnerability{
					VulnerabilityID:  fmt.Sprintf("CVE-2099-%d", r.Intn(8)),
					PkgName:          fmt.Sprintf("pkg%d", r.Intn(4)),
					InstalledVersion: "1.0",
					Severity:         names[r.Intn(5)],
				}
				if r.Intn(2) == 0 {
					v.FixedVersion = "1.1"
				}
				res.Vulnerabilities = append(res.Vulnerabilities, v)
			}
			rep.Results = append(rep.Results, res)
		}
		var ig IgnoreList
		for k := r.Intn(4); k > 0; k-- {
			e := IgnoreEntry{ID: fmt.Sprintf("CVE-2099-%d", r.Intn(8))}
			if r.Intn(2) == 0 {
				e.Expires = scanTime.AddDate(0, 0, r.Intn(5)-2)
			}
			ig.Entries = append(ig.Entries, e)
		}
		sevs := []Severity{Severity(r.Intn(5))}
		unfixed := r.Intn(2) == 0
		v, err := Evaluate(rep, Policy{Severities: sevs, Ignore: ig, IgnoreUnfixed: unfixed, Now: scanTime})
		require.NoError(t, err)
		all := Findings(rep)
		require.Equal(t, len(all), len(v.Blocking)+len(v.NonBlocking)+len(v.Ignored))
		for _, f := range v.Blocking {
			require.Equal(t, sevs[0], f.Severity)
			_, ign := ig.Match(f.ID, scanTime)
			require.False(t, ign)
			if unfixed {
				require.NotEmpty(t, f.Fixed)
			}
		}
		for _, f := range v.Ignored {
			_, ign := ig.Match(f.ID, scanTime)
			require.True(t, ign)
		}
		for _, fs := range [][]Finding{v.Blocking, v.NonBlocking, v.Ignored, v.Reported()} {
			require.True(t, sort.SliceIsSorted(fs, func(i, j int) bool { return fs[i].less(fs[j]) }))
		}
		require.Equal(t, len(v.Blocking) == 0, v.Err() == nil)
	}
}

var glTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`)

// checkGitLabReport asserts the constraints of the GitLab container scanning schema
// (15.x) that this report relies on.
func checkGitLabReport(t *testing.T, b []byte, wantVulns int) map[string]any {
	t.Helper()
	return checkSecurityReport(t, b, "container_scanning", wantVulns, func(loc map[string]any) {
		require.NotEmpty(t, loc["operating_system"])
		require.NotEmpty(t, loc["image"])
		dep := loc["dependency"].(map[string]any)
		require.Contains(t, dep, "version")
		require.Contains(t, dep["package"].(map[string]any), "name")
	})
}

// checkSecurityReport asserts the constraints shared by GitLab's security report schemas (15.x)
// that these reports rely on, for a report of scanType, and checks each location with location.
func checkSecurityReport(t *testing.T, b []byte, scanType string, wantVulns int, location func(map[string]any)) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Regexp(t, `^[0-9]+\.[0-9]+\.[0-9]+$`, doc["version"])
	assert.True(t, strings.HasPrefix(doc["version"].(string), "15."))
	scan := doc["scan"].(map[string]any)
	for _, k := range []string{"analyzer", "scanner"} {
		tool := scan[k].(map[string]any)
		for _, f := range []string{"id", "name", "version"} {
			require.NotEmpty(t, tool[f], k+"."+f)
		}
		require.NotEmpty(t, tool["vendor"].(map[string]any)["name"])
	}
	require.Regexp(t, `^https?://.+`, scan["analyzer"].(map[string]any)["url"])
	require.Equal(t, scanType, scan["type"])
	require.Regexp(t, glTime, scan["start_time"])
	require.Regexp(t, glTime, scan["end_time"])
	require.Contains(t, []any{"success", "failure"}, scan["status"])
	if msgs, ok := scan["messages"]; ok {
		for _, m := range msgs.([]any) {
			require.Contains(t, []any{"info", "warn", "fatal"}, m.(map[string]any)["level"])
			require.NotEmpty(t, m.(map[string]any)["value"])
		}
	}
	vulns := doc["vulnerabilities"].([]any)
	require.Len(t, vulns, wantVulns)
	ids := map[string]bool{}
	for _, raw := range vulns {
		v := raw.(map[string]any)
		id := v["id"].(string)
		require.NotEmpty(t, id)
		require.False(t, ids[id], "vulnerability ids are unique")
		ids[id] = true
		require.NotContains(t, v, "raw_source_code_extract", "a report never carries source code")
		require.Contains(t, []any{"Info", "Unknown", "Low", "Medium", "High", "Critical"}, v["severity"])
		require.LessOrEqual(t, len([]rune(v["name"].(string))), 255)
		require.LessOrEqual(t, len([]rune(v["solution"].(string))), 7000)
		location(v["location"].(map[string]any))
		idents := v["identifiers"].([]any)
		require.NotEmpty(t, idents)
		for _, ri := range idents {
			i := ri.(map[string]any)
			for _, f := range []string{"type", "name", "value"} {
				require.NotEmpty(t, i[f])
			}
			if u, ok := i["url"]; ok {
				require.Regexp(t, `^(https?|ftp)://.+`, u)
			}
		}
		if links, ok := v["links"]; ok {
			for _, rl := range links.([]any) {
				require.Regexp(t, `^(https?|ftp)://.+`, rl.(map[string]any)["url"])
			}
		}
	}
	return doc
}

func TestGitLabReport(t *testing.T) {
	rep := sample(t)
	v, err := Evaluate(rep, Policy{Severities: []Severity{Critical, High}, Now: scanTime})
	require.NoError(t, err)
	opts := GitLabOptions{
		Image:           "registry.example.com/soccerpredict/api@sha256:" + strings.Repeat("1", 64),
		OperatingSystem: rep.OperatingSystem(),
		Run: Run{
			ScannerVersion: "0.58.1",
			Start:          time.Date(2025, 3, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600)),
			End:            time.Date(2025, 3, 1, 10, 0, 42, 0, time.UTC),
		},
	}
	b, err := GitLabReport(v.Reported(), nil, opts)
	require.NoError(t, err)
	doc := checkGitLabReport(t, b, 7)
	scan := doc["scan"].(map[string]any)
	assert.Equal(t, "2025-03-01T10:00:00", scan["start_time"], "times are written in UTC")
	assert.Equal(t, "2025-03-01T10:00:42", scan["end_time"])
	assert.Equal(t, "success", scan["status"])
	assert.Equal(t, GitLabSchemaVersion, doc["version"])

	first := doc["vulnerabilities"].([]any)[0].(map[string]any)
	assert.Equal(t, "openssl: sample critical issue", first["name"])
	assert.Equal(t, "Critical", first["severity"])
	assert.Equal(t, "Upgrade libssl3 from 3.0.11-1~deb12u2 to 3.0.13-1~deb12u1.", first["solution"])
	assert.Equal(t, map[string]any{
		"dependency":       map[string]any{"package": map[string]any{"name": "libssl3"}, "version": "3.0.11-1~deb12u2"},
		"operating_system": "debian 12.5",
		"image":            opts.Image,
	}, first["location"])
	assert.Equal(t, []any{map[string]any{"type": "cve", "name": "CVE-2099-0001", "value": "CVE-2099-0001", "url": "https://avd.aquasec.com/nvd/cve-2099-0001"}}, first["identifiers"])
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, first["id"])

	second := doc["vulnerabilities"].([]any)[1].(map[string]any)
	assert.Equal(t, "No fixed version of zlib1g is available yet; follow CVE-2099-0002.", second["solution"])
	assert.Equal(t, []any{
		map[string]any{"url": "https://avd.aquasec.com/nvd/cve-2099-0002"},
		map[string]any{"url": "https://example.org/advisory/2"},
	}, second["links"], "non-URL references are dropped")
	last := doc["vulnerabilities"].([]any)[6].(map[string]any)
	assert.Equal(t, "TEMP-0000000-ABCDEF", last["name"], "the ID stands in for a missing title")
	assert.Equal(t, "temp", last["identifiers"].([]any)[0].(map[string]any)["type"])

	// Stable: same input, same bytes; another image, other ids.
	again, err := GitLabReport(v.Reported(), nil, opts)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again))
	opts2 := opts
	opts2.Image = "registry.example.com/soccerpredict/worker@sha256:" + strings.Repeat("2", 64)
	other, err := GitLabReport(v.Reported(), nil, opts2)
	require.NoError(t, err)
	otherDoc := checkGitLabReport(t, other, 7)
	assert.NotEqual(t, first["id"], otherDoc["vulnerabilities"].([]any)[0].(map[string]any)["id"])

	// Empty findings still make a valid report; unknown OS becomes "unknown"; failure status.
	opts3 := opts
	opts3.OperatingSystem, opts3.Failed = "", true
	empty, err := GitLabReport(nil, nil, opts3)
	require.NoError(t, err)
	d := checkGitLabReport(t, empty, 0)
	assert.Equal(t, "failure", d["scan"].(map[string]any)["status"])
	assert.Contains(t, string(empty), `"vulnerabilities": []`)

	long := Finding{ID: "CVE-1", Package: "p", Installed: "1", Severity: High, Title: strings.Repeat("é", 300)}
	lb, err := GitLabReport([]Finding{long}, nil, opts3)
	require.NoError(t, err)
	checkGitLabReport(t, lb, 1)
}

func TestGitLabReportErrors(t *testing.T) {
	ok := GitLabOptions{Image: "r/i:t", Run: Run{ScannerVersion: "0.58.1", Start: scanTime, End: scanTime}}
	cases := []struct {
		mut func(*GitLabOptions)
		msg string
	}{
		{func(o *GitLabOptions) { o.Image = "" }, "scanned image reference"},
		{func(o *GitLabOptions) { o.ScannerVersion = " " }, "Trivy version"},
		{func(o *GitLabOptions) { o.Start = time.Time{} }, "start and end"},
		{func(o *GitLabOptions) { o.End = scanTime.Add(-time.Second) }, "before its start"},
	}
	for _, c := range cases {
		o := ok
		c.mut(&o)
		_, err := GitLabReport(nil, nil, o)
		require.ErrorContains(t, err, c.msg)
	}
}

func TestIdentifierTypeAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"CVE-2024-1":     "cve",
		"GHSA-xxxx-yyyy": "ghsa",
		"DLA-3000-1":     "dla",
		"NSWG-ECO-1":     "nswg",
		"pyup.io-1234":   "trivy",
		"2024-1":         "trivy",
		"plainid":        "trivy",
		"-x":             "trivy",
	} {
		assert.Equal(t, want, identifierType(in), in)
	}
	assert.Equal(t, "ab", truncate("abc", 2))
	assert.Equal(t, "a", truncate("aé", 2), "a two-byte rune is not split")
	assert.Equal(t, "abc", truncate("abc", 5))
}

func TestFindingJSON(t *testing.T) {
	b, err := json.Marshal(Finding{ID: "CVE-1", Package: "p", Installed: "1", Severity: Critical})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"CVE-1","package":"p","installed":"1","severity":"CRITICAL"}`, string(b))
}

func FuzzParseTrivy(f *testing.F) {
	f.Add(readFileF(f, "testdata/trivy-api.json"))
	f.Add([]byte(`{"SchemaVersion":2}`))
	f.Add([]byte(`{"Results":[{"Target":"t","Vulnerabilities":[{"VulnerabilityID":"CVE-1","PkgName":"p","Severity":"low"}]}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"SchemaVersion":3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseTrivy(data)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		v, err := Evaluate(r, Policy{Severities: []Severity{Critical, High}, Now: scanTime})
		require.NoError(t, err)
		require.Equal(t, len(Findings(r)), len(v.Blocking)+len(v.NonBlocking)+len(v.Ignored))
		require.Equal(t, len(SecretFindings(r)), len(v.BlockingSecrets)+len(v.NonBlockingSecrets)+len(v.IgnoredSecrets))
		b, err := GitLabReport(v.Reported(), v.ReportedSecrets(), GitLabOptions{Image: "r/i:t", OperatingSystem: r.OperatingSystem(), Run: Run{ScannerVersion: "1", Start: scanTime, End: scanTime}})
		require.NoError(t, err)
		checkGitLabReport(t, b, len(v.Reported())+len(v.ReportedSecrets()))
	})
}

func FuzzParseIgnore(f *testing.F) {
	f.Add(readFileF(f, "testdata/trivyignore"))
	f.Add([]byte("CVE-1 exp:2025-01-01\n"))
	f.Add([]byte("CVE-1 expires:2025\n"))
	f.Add([]byte("\r\n#\n x y z"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseIgnore(data)
		if err != nil {
			require.Contains(t, err.Error(), "line ")
			return
		}
		for _, e := range l.Entries {
			require.NotEmpty(t, e.ID)
			require.False(t, strings.ContainsAny(e.ID, " \t\n"))
			require.False(t, strings.HasPrefix(e.ID, "#"))
			require.Positive(t, e.Line)
			if !e.Expires.IsZero() {
				require.Equal(t, e.Expires, e.Expires.Truncate(24*time.Hour))
				_, ok := l.Match(e.ID, e.Expires)
				require.True(t, ok)
			}
		}
	})
}

func FuzzParseSeverities(f *testing.F) {
	for _, s := range []string{"", "HIGH,CRITICAL", "low", "HIGH,,X", " medium "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := ParseSeverities(s)
		if err != nil {
			return
		}
		require.NotEmpty(t, ss)
		again, err := ParseSeverities(JoinSeverities(ss))
		require.NoError(t, err)
		require.Equal(t, ss, again)
	})
}

func readFileF(f *testing.F, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
