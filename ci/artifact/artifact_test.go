package artifact

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func digest(n int) domain.Digest { return domain.Digest(fmt.Sprintf("sha256:%064x", n)) }

func pinned(svc string, n int) domain.ImageRef {
	return domain.Pinned(domain.Repository("registry.example.com/sp/"+svc), digest(n))
}

func full() Set {
	return Set{domain.API: pinned("api", 1), domain.Worker: pinned("worker", 2), domain.Airflow: pinned("airflow", 3)}
}

func TestFromPublishedDropsTheTag(t *testing.T) {
	s := Set{}
	pub, err := domain.ParseImageRef("registry.example.com/sp/api:main-0123abcd@" + string(digest(1)))
	require.NoError(t, err)
	require.NoError(t, s.FromPublished(domain.API, pub))
	assert.Equal(t, "registry.example.com/sp/api@"+string(digest(1)), s[domain.API].String())
	err = s.FromPublished(domain.API, domain.Tagged("registry.example.com/sp/api", "main"))
	assert.ErrorContains(t, err, "not a digest reference")
}

func TestDotenvAndJSON(t *testing.T) {
	s := full()
	assert.Equal(t, "API_IMAGE=registry.example.com/sp/api@"+string(digest(1))+"\nWORKER_IMAGE=registry.example.com/sp/worker@"+string(digest(2))+"\nAIRFLOW_IMAGE=registry.example.com/sp/airflow@"+string(digest(3))+"\n", s.Dotenv())
	assert.Equal(t, map[domain.Service]domain.Digest{domain.API: digest(1), domain.Worker: digest(2), domain.Airflow: digest(3)}, s.Digests())
	js, err := s.JSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"api":"registry.example.com/sp/api@`+string(digest(1))+`","worker":"registry.example.com/sp/worker@`+string(digest(2))+`","airflow":"registry.example.com/sp/airflow@`+string(digest(3))+`"}`, string(js))
}

func TestValidate(t *testing.T) {
	require.NoError(t, full().Validate())
	s := full()
	delete(s, domain.Worker)
	s[domain.API] = domain.Tagged("registry.example.com/sp/api", "latest")
	err := s.Validate()
	require.Error(t, err)
	for _, want := range []string{"worker: missing: pass --worker-image", "api: \"registry.example.com/sp/api:latest\" is not pinned by digest"} {
		assert.Contains(t, err.Error(), want)
	}
	s = full()
	s[domain.API] = domain.ImageRef{Repository: "registry.example.com/sp/api", Tag: "v1", Digest: digest(1)}
	assert.ErrorContains(t, s.Validate(), "not pinned by digest", "a tag next to the digest is ambiguous: refuse it")
}

func TestParseSet(t *testing.T) {
	given := map[domain.Service]string{}
	for svc, ref := range full() {
		given[svc] = ref.String()
	}
	s, err := ParseSet(given)
	require.NoError(t, err)
	assert.Equal(t, full(), s)

	given[domain.API] = "registry.example.com/sp/api:v1@" + string(digest(1))
	_, err = ParseSet(given)
	assert.ErrorContains(t, err, "is not pinned by digest", "a tag next to the digest is ambiguous")

	given[domain.API] = "registry.example.com/sp/api:v1"
	given[domain.Worker] = "registry.example.com/sp/worker@sha256:abc"
	_, err = ParseSet(given)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--api-image: image reference \"registry.example.com/sp/api:v1\" is not pinned by digest")
	assert.Contains(t, err.Error(), "--worker-image: image reference")

	delete(given, domain.API)
	_, err = ParseSet(given)
	assert.ErrorContains(t, err, "api: missing: pass --api-image")
	assert.ErrorContains(t, err, "--worker-image: image reference", "every problem is listed")
}

func TestReferencesInServiceOrder(t *testing.T) {
	s := full()
	assert.Equal(t, []domain.ImageRef{s[domain.API], s[domain.Worker], s[domain.Airflow]}, s.References())
	delete(s, domain.Worker)
	assert.Equal(t, []domain.ImageRef{s[domain.API], s[domain.Airflow]}, s.References())
}
