package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckInsecureRegistries(t *testing.T) {
	err := CheckInsecureRegistries(Production, []string{"reg.local:5000", "mirror.example"})
	assert.ErrorContains(t, err, "--insecure-registry=reg.local:5000,mirror.example is refused for production")
	assert.NoError(t, CheckInsecureRegistries(Production, nil))
	assert.NoError(t, CheckInsecureRegistries(Staging, []string{"reg.local:5000"}))
	assert.NoError(t, CheckInsecureRegistries(Dev, []string{"reg.local:5000"}))
}
