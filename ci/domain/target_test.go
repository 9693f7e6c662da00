package domain_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestValidateReleaseName(t *testing.T) {
	for _, ok := range []string{"sp", "soccer-predict", "a", "a1", "s-" + strings.Repeat("x", 51)} {
		assert.NoError(t, domain.ValidateReleaseName(ok), ok)
	}
	for bad, fix := range map[string]string{
		"":                            "set --release",
		"1sp":                         "starting with a letter",
		"Soccer":                      "lowercase",
		"sp-":                         "ending with a letter or digit",
		"sp.predict":                  "DNS-1123",
		"sp_predict":                  "DNS-1123",
		"s" + strings.Repeat("x", 53): "at most 53",
	} {
		err := domain.ValidateReleaseName(bad)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), fix, bad)
	}
}

func TestValidateNamespace(t *testing.T) {
	for _, ok := range []string{"default", "soccerpredict-staging", "1ns", strings.Repeat("n", 63)} {
		assert.NoError(t, domain.ValidateNamespace(ok), ok)
	}
	for _, bad := range []string{"", "Ns", "ns-", "-ns", "a.b", strings.Repeat("n", 64)} {
		assert.Error(t, domain.ValidateNamespace(bad), bad)
	}
}

// Property: every name the validator accepts is one Kubernetes accepts as a
// Service name once the chart adds "-api" (DNS-1035 label, <= 63), and
// random strings are accepted only in that shape.
func TestReleaseNameProperty(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	alphabet := "abcxyz019-.A_"
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.Intn(60))
		for j := range b {
			b[j] = alphabet[r.Intn(len(alphabet))]
		}
		name := string(b)
		if domain.ValidateReleaseName(name) != nil {
			continue
		}
		svc := name + "-api"
		require.LessOrEqual(t, len(svc), 63, name)
		require.True(t, svc[0] >= 'a' && svc[0] <= 'z', name)
		for _, c := range svc {
			require.True(t, c == '-' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'), name)
		}
		require.NoError(t, domain.ValidateNamespace(name), "a release name is also a valid namespace")
	}
}
