// Package admission checks the admission policies docs/evidence.md ships (a Kyverno
// ClusterPolicy and a Sigstore policy-controller ClusterImagePolicy) against the CRD schemas of
// the releases named there, read from those projects' Go modules on the Go module proxy, and
// against what the pipeline writes: the committed signing identity and the predicate types of
// ci/artifact/attest. The engines themselves evaluate the policies in tests/admission/engines
// (a Go module of its own: Kyverno's CLI and the policy-controller's tester against attached
// evidence).
package admission

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
)

// The releases whose CRDs the policies are written for (docs/evidence.md).
const (
	kyvernoModule          = "github.com/kyverno/kyverno@v1.19.1"
	kyvernoCRD             = "config/crds/kyverno/kyverno.io_clusterpolicies.yaml"
	policyControllerModule = "github.com/sigstore/policy-controller@v0.13.1"
	policyControllerCRD    = "config/300-clusterimagepolicy.yaml"
)

// moduleDir downloads a module through the Go module proxy (GOFLAGS, GOPROXY as configured) and
// returns its directory in the module cache.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	require.NoError(t, err, "go mod download %s: %s", mod, out)
	var info struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &info))
	require.Empty(t, info.Error)
	return info.Dir
}

// crdSchema compiles the openAPIV3Schema of version of the CRD at path as a JSON Schema that,
// as the API server's field validation does, refuses fields the schema does not declare
// (except where it preserves unknown fields).
func crdSchema(t *testing.T, path, version string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				}
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &crd))
	var schema map[string]any
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			schema = v.Schema.OpenAPIV3Schema
		}
	}
	require.NotNil(t, schema, "%s serves %s", path, version)
	// Every object has apiVersion, kind and metadata, whether or not a CRD's schema lists them.
	props, _ := schema["properties"].(map[string]any)
	require.NotNil(t, props)
	for field, typ := range map[string]string{"apiVersion": "string", "kind": "string", "metadata": "object"} {
		if _, ok := props[field]; !ok {
			props[field] = map[string]any{"type": typ}
		}
	}
	closeObjects(schema)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(t, schema)))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("crd.json", doc))
	s, err := c.Compile("crd.json")
	require.NoError(t, err)
	return s
}

// closeObjects sets additionalProperties false on every object schema that lists properties
// and neither preserves unknown fields nor says otherwise.
func closeObjects(v any) {
	switch n := v.(type) {
	case map[string]any:
		_, props := n["properties"]
		_, extra := n["additionalProperties"]
		if props && !extra && n["x-kubernetes-preserve-unknown-fields"] != true {
			n["additionalProperties"] = false
		}
		for _, c := range n {
			closeObjects(c)
		}
	case []any:
		for _, c := range n {
			closeObjects(c)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// shipped returns the YAML block of docs/evidence.md whose kind is kind, decoded.
func shipped(t *testing.T, kind string) (string, map[string]any) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "evidence.md"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(page), -1) {
		if strings.Contains(m[1], "\nkind: "+kind+"\n") {
			var doc map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(m[1]), &doc))
			return m[1], doc
		}
	}
	t.Fatalf("docs/evidence.md ships no %s", kind)
	return "", nil
}

func validate(t *testing.T, s *jsonschema.Schema, doc map[string]any) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustJSON(t, doc)))
	require.NoError(t, err)
	return s.Validate(v)
}

// The committed trust policy's identity and issuer, and the predicate types, appear in text.
func assertNamesWhatThePipelineWrites(t *testing.T, text string) {
	t.Helper()
	p, ok, err := attest.TrustedSigstorePolicy()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Contains(t, text, `"`+p.Keyless.Identity()+`"`)
	assert.Contains(t, text, `"`+p.Keyless.Issuer()+`"`)
	assert.Contains(t, text, attest.PredicateGateReport)
	assert.Contains(t, text, attest.PredicateVuln)
}

func TestKyvernoClusterPolicyMatchesItsCRD(t *testing.T) {
	s := crdSchema(t, filepath.Join(moduleDir(t, kyvernoModule), kyvernoCRD), "v1")
	text, doc := shipped(t, "ClusterPolicy")
	require.NoError(t, validate(t, s, doc))
	assertNamesWhatThePipelineWrites(t, text)

	// The schema refuses what Kyverno would: a misspelt field, a verifier type it lacks.
	bad, err := yaml.Marshal(doc)
	require.NoError(t, err)
	var typo map[string]any
	require.NoError(t, yaml.Unmarshal(bytes.Replace(bad, []byte("mutateDigest"), []byte("mutateDigests"), 1), &typo))
	assert.Error(t, validate(t, s, typo))
	var kind map[string]any
	require.NoError(t, yaml.Unmarshal(bytes.Replace(bad, []byte("SigstoreBundle"), []byte("Sigstore"), 1), &kind))
	assert.Error(t, validate(t, s, kind))
}

func TestPolicyControllerClusterImagePolicyMatchesItsCRD(t *testing.T) {
	s := crdSchema(t, filepath.Join(moduleDir(t, policyControllerModule), policyControllerCRD), "v1beta1")
	text, doc := shipped(t, "ClusterImagePolicy")
	require.NoError(t, validate(t, s, doc))
	assertNamesWhatThePipelineWrites(t, text)

	bad, err := yaml.Marshal(doc)
	require.NoError(t, err)
	var typo map[string]any
	require.NoError(t, yaml.Unmarshal(bytes.Replace(bad, []byte("signatureFormat"), []byte("signatureFormats"), 1), &typo))
	assert.Error(t, validate(t, s, typo))
}
