package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func TestCheckInsecureRegistries(t *testing.T) {
	err := CheckInsecureRegistries(domain.Production, []string{"reg.local:5000", "mirror.example"})
	assert.ErrorContains(t, err, "--insecure-registry=reg.local:5000,mirror.example is refused for production")
	assert.NoError(t, CheckInsecureRegistries(domain.Production, nil))
	assert.NoError(t, CheckInsecureRegistries(domain.Staging, []string{"reg.local:5000"}))
	assert.NoError(t, CheckInsecureRegistries(domain.Dev, []string{"reg.local:5000"}))
}
