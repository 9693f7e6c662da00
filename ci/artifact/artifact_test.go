package artifact

import (
	"fmt"
	"math/rand"
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
	back, err := ParseDotenv(env)
	require.NoError(t, err)
	assert.Equal(t, s, back)
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

func TestParseDotenvRejects(t *testing.T) {
	_, err := ParseDotenv("API_IMAGE\n")
	assert.ErrorContains(t, err, "want KEY=VALUE")
	_, err = ParseDotenv("WEB_IMAGE=x\n")
	assert.ErrorContains(t, err, `unknown variable "WEB_IMAGE"`)
	_, err = ParseDotenv("API_IMAGE=x@" + digest(1) + "\n")
	assert.ErrorContains(t, err, "worker: missing")
}

func TestDotenvRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		s := Set{}
		for j, svc := range Services {
			s[svc] = fmt.Sprintf("reg%d.example.com/p%d/%s@%s", rng.Intn(9), rng.Intn(99), svc, digest(rng.Intn(1<<30)+j))
		}
		back, err := ParseDotenv(s.Dotenv())
		require.NoError(t, err)
		assert.Equal(t, s, back)
	}
}

func FuzzParseDotenv(f *testing.F) {
	f.Add(full().Dotenv())
	f.Add("API_IMAGE=\n")
	f.Add("# c\n\nX=1")
	f.Fuzz(func(t *testing.T, content string) {
		s, err := ParseDotenv(content)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted an invalid set: %v", err)
		}
		back, err := ParseDotenv(s.Dotenv())
		if err != nil || len(back) != len(s) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
