package artifact

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func digest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

func full() Set {
	return Set{
		"api":     "registry.example.com/sp/api@" + digest(1),
		"worker":  "registry.example.com/sp/worker@" + digest(2),
		"airflow": "registry.example.com/sp/airflow@" + digest(3),
	}
}

func TestFromPublishedDropsTheTag(t *testing.T) {
	s := Set{}
	require.NoError(t, s.FromPublished("api", "registry.example.com/sp/api:main-0123abcd@"+digest(1)))
	assert.Equal(t, "registry.example.com/sp/api@"+digest(1), s["api"])
	err := s.FromPublished("api", "registry.example.com/sp/api:main")
	assert.ErrorContains(t, err, "not a digest reference")
}

func TestDotenvRoundTrip(t *testing.T) {
	s := full()
	env := s.Dotenv()
	assert.Equal(t, "API_IMAGE=registry.example.com/sp/api@"+digest(1)+"\nWORKER_IMAGE=registry.example.com/sp/worker@"+digest(2)+"\nAIRFLOW_IMAGE=registry.example.com/sp/airflow@"+digest(3)+"\n", env)
	assert.Equal(t, map[string]string{"api": digest(1), "worker": digest(2), "airflow": digest(3)}, s.Digests())
}

func TestValidate(t *testing.T) {
	require.NoError(t, full().Validate())
	s := full()
	delete(s, "worker")
	s["api"] = "registry.example.com/sp/api:latest"
	s["web"] = "x@" + digest(9)
	err := s.Validate()
	require.Error(t, err)
	for _, want := range []string{"worker: missing: pass --worker-image", "api: \"registry.example.com/sp/api:latest\" is not pinned by digest", `unknown service "web"`} {
		assert.Contains(t, err.Error(), want)
	}
	s = full()
	s["api"] = "registry.example.com/sp/api:v1@" + digest(1)
	assert.ErrorContains(t, s.Validate(), "not pinned by digest", "a tag next to the digest is ambiguous: refuse it")
}

func TestReferencesInServiceOrder(t *testing.T) {
	s := full()
	assert.Equal(t, []string{s["api"], s["worker"], s["airflow"]}, s.References())
	delete(s, "worker")
	assert.Equal(t, []string{s["api"], s["airflow"]}, s.References())
}
