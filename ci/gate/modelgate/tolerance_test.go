package modelgate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// A tolerance is the noise between two trainings of the same model, not a waiver:
// SP_MODEL_TOLERANCES=accuracy=1 in a settings file would pass any candidate.
func TestTolerancesAreBounded(t *testing.T) {
	for in, want := range map[string]string{
		"accuracy=1":            "tolerance accuracy=1 is above its bound 0.05",
		"log_loss=0.2":          "tolerance log_loss=0.2 is above its bound 0.05",
		"latency_ms_p95=1000":   "tolerance latency_ms_p95=1000 is above its bound 50",
		"brier=0.001,f1=0.0501": "tolerance f1=0.0501 is above its bound 0.05",
	} {
		_, err := ParseTolerances(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), "a tolerance absorbs the noise between two trainings of the same model", in)
	}
	_, err := Compare(Metrics{}, Metrics{}, Config{Tolerances: Tolerances{"accuracy": 1}})
	assert.ErrorContains(t, err, "tolerance accuracy=1 is above its bound 0.05", "Compare holds the same bound")

	got, err := ParseTolerances("accuracy=0.05,latency_ms_p95=50")
	require.NoError(t, err, "the positive twin: at the bound")
	assert.Equal(t, Tolerances{"accuracy": 0.05, "latency_ms_p95": 50}, got)
}

func TestTheGateReportRecordsAndChecksTheTolerances(t *testing.T) {
	res, _ := Evaluate(Inputs{
		Candidate:  []byte(`{"accuracy": 0.60}`),
		Champion:   []byte(`{"accuracy": 0.60}`),
		Tolerances: "log_loss=0.001,accuracy=0.002",
	})
	require.Equal(t, gate.Pass, res[0].Status, res[0].Summary)
	assert.Contains(t, res[0].Details, "tolerances (SP_MODEL_TOLERANCES): accuracy=0.002,log_loss=0.001")
	rep := gate.Report{Results: res}
	got, err := ReportTolerances(rep)
	require.NoError(t, err, "the positive twin")
	assert.Equal(t, Tolerances{"accuracy": 0.002, "log_loss": 0.001}, got)

	// A report whose passed model gate does not say what judged it, or names tolerances beyond
	// the bounds (a report from a module without them), does not count.
	for name, tc := range map[string]struct{ details []string }{
		"not recorded":  {[]string{"ok   accuracy 0.6 >= 0.6"}},
		"beyond bounds": {[]string{"tolerances (SP_MODEL_TOLERANCES): accuracy=1"}},
	} {
		forged := gate.Report{Results: []gate.Result{gate.NewResult(gate.ModelGate, gate.Pass, "all 1 quality metrics within tolerance of the champion", tc.details...)}}
		_, err := ReportTolerances(forged)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "the gate report's model gate", name)
	}
	_, err = ReportTolerances(gate.Report{Results: []gate.Result{gate.NewResult(gate.ModelGate, gate.Pass, "x", "tolerances (SP_MODEL_TOLERANCES): accuracy=1")}})
	assert.ErrorContains(t, err, "tolerance accuracy=1 is above its bound 0.05")
	_, err = ReportTolerances(gate.Report{Results: []gate.Result{gate.NewResult(gate.ModelGate, gate.Pass, "x")}})
	assert.ErrorContains(t, err, "does not record the tolerances (SP_MODEL_TOLERANCES) that judged it")

	none, err := ReportTolerances(gate.Report{Results: []gate.Result{gate.NewResult(gate.ModelGate, gate.Pass, "x", RecordTolerances(Tolerances{}))}})
	require.NoError(t, err)
	assert.Empty(t, none, "no tolerance is recorded as none")
}
