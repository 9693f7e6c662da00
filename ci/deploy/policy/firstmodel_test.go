package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A gate report whose model gate ran without a champion (SP_FIRST_MODEL) may reach staging,
// never production; without the flag nothing changes.
func TestProductionRefusesAFirstModel(t *testing.T) {
	prod := prodRequest()
	assert.True(t, Decide(prod).Allowed, "baseline production request must be allowed: %v", Decide(prod).Reasons)

	prod.FirstModel = true
	d := Decide(prod)
	assert.False(t, d.Allowed)
	assert.Len(t, d.Reasons, 1)
	assert.Contains(t, d.Reasons[0], "first model")
	assert.Contains(t, d.Reasons[0], "SP_FIRST_MODEL")

	staging := stagingRequest()
	staging.FirstModel = true
	assert.True(t, Decide(staging).Allowed, "staging may take the first model: %v", Decide(staging).Reasons)
}
