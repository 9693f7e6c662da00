package scan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// SP_SCAN_SEVERITIES=UNKNOWN in a settings file used to let a CRITICAL finding through
// staging's and production's re-check. What blocks there is fixed in this package: a setting may
// block more, never less.
func TestStagingAndProductionAlwaysBlockHighAndCritical(t *testing.T) {
	for _, list := range []string{"UNKNOWN", "CRITICAL", "LOW,MEDIUM,HIGH"} {
		sev, err := ParseSeverities(list)
		require.NoError(t, err)
		for _, env := range []domain.Environment{domain.Staging, domain.Production} {
			err := Policy{Severities: sev}.CheckFor(env)
			require.Error(t, err, "%s in %s", list, env)
			assert.Contains(t, err.Error(), "SP_SCAN_SEVERITIES="+JoinSeverities(sev)+" does not block HIGH and CRITICAL, which always block in "+string(env))
		}
		assert.NoError(t, Policy{Severities: sev}.CheckFor(domain.Dev), "dev keeps its conveniences")
	}
	for _, list := range []string{"HIGH,CRITICAL", "MEDIUM,HIGH,CRITICAL"} {
		sev, err := ParseSeverities(list)
		require.NoError(t, err)
		assert.NoError(t, Policy{Severities: sev}.CheckFor(domain.Production), "the positive twin: %s", list)
	}
}
