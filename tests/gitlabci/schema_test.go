package gitlabci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schemaEnv names the variable holding the path of GitLab's CI JSON Schema (draft-07). A relative
// path is taken from the repository root; .ci/run sets ../shared/schemas/gitlab-ci.json.
const schemaEnv = "GITLAB_CI_SCHEMA"

// schemaPath returns the schema's path. Unset, the test fails in CI (CI=true) and is skipped
// elsewhere, with a message saying what to set.
func schemaPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv(schemaEnv)
	if p == "" {
		msg := schemaEnv + " is not set: set it to the path of GitLab's CI JSON Schema " +
			"(e.g. GITLAB_CI_SCHEMA=../shared/schemas/gitlab-ci.json, relative to the repository root) " +
			"to validate .gitlab-ci.yml"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(repoRoot, p)
	}
	return p
}

// offlineLoader refuses every URL: the schema is validated from the local file only, and a
// reference to a remote schema fails compilation instead of reaching the network.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not available offline: the GitLab CI schema must be self-contained (no network access in tests)", url)
}

// compileSchema compiles the schema file with draft-07 defaults, format assertions on and no
// network access.
func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoErrorf(t, err, "read %s (%s)", path, schemaEnv)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(offlineLoader{})
	c.AssertFormat()
	const location = "file:///gitlab-ci.schema.json"
	require.NoError(t, c.AddResource(location, doc))
	s, err := c.Compile(location)
	require.NoError(t, err)
	return s
}

// instance converts the parsed YAML document to the JSON value the validator expects.
func instance(t *testing.T, doc map[string]any) any {
	t.Helper()
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	return v
}

func TestGitLabSchemaAcceptsTheFile(t *testing.T) {
	s := compileSchema(t, schemaPath(t))
	err := s.Validate(instance(t, load(t).Doc))
	assert.NoError(t, err)
}

// Validation really runs: copies with invalid keys or values are rejected.
func TestGitLabSchemaRejectsInvalidCopies(t *testing.T) {
	s := compileSchema(t, schemaPath(t))
	base := load(t)
	cases := map[string]func(t *testing.T, d map[string]any){
		"unknown job key": func(t *testing.T, d map[string]any) {
			node(t, d, "gates")["scripts"] = []any{"dagger call check"}
		},
		"unknown report type": func(t *testing.T, d map[string]any) {
			node(t, d, "gates", "artifacts", "reports")["junit_xml"] = "reports/junit.xml"
		},
		"unknown environment key": func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-production", "environment")["approvals"] = 2
		},
		"invalid artifacts:when": func(t *testing.T, d map[string]any) {
			node(t, d, "scan", "artifacts")["when"] = "sometimes"
		},
		"invalid interruptible": func(t *testing.T, d map[string]any) {
			node(t, d, "deploy-dev")["interruptible"] = "no"
		},
		"invalid rule key": func(t *testing.T, d map[string]any) {
			node(t, d, "release")["rules"].([]any)[0].(map[string]any)["iff"] = "$CI_COMMIT_TAG"
		},
		"invalid workflow rule when": func(t *testing.T, d map[string]any) {
			node(t, d, "workflow")["rules"].([]any)[0].(map[string]any)["when"] = "manual"
		},
		"duplicate stage": func(t *testing.T, d map[string]any) {
			d["stages"] = append(d["stages"].([]any), "deploy")
		},
		"script is not a list of strings": func(t *testing.T, d map[string]any) {
			node(t, d, "pages")["script"] = []any{map[string]any{"run": "dagger"}}
		},
		"needs entry without job": func(t *testing.T, d map[string]any) {
			node(t, d, "publish")["needs"] = []any{map[string]any{"artifacts": false}}
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			broken := mutate(t, base, func(d map[string]any) { edit(t, d) })
			err := s.Validate(instance(t, broken.Doc))
			require.Error(t, err, "the schema accepted an invalid copy")
		})
	}
}

// The compiler never reaches the network: a remote reference fails with the offline loader's
// message.
func TestSchemaCompilerIsOffline(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"$ref": "https://example.com/remote.json"}`))
	require.NoError(t, err)
	require.NoError(t, c.AddResource("file:///local.json", doc))
	_, err = c.Compile("file:///local.json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not available offline")
}
