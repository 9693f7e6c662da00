package modelgate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// The training pipeline writes model_version, n_train and n_test next to the metrics; the gate
// accepts them (deploy, build labels and trace read model_version from the same file) and
// compares none of them.
func TestParseMetricsAcceptsTheDocumentedMetadata(t *testing.T) {
	m, err := ParseMetrics([]byte(`{"accuracy": 0.494, "log_loss": 1.02, "model_version": "logreg-409725e437", "n_train": 1500, "n_test": 500}`))
	require.NoError(t, err)
	assert.Equal(t, Metrics{"accuracy": 0.494, "log_loss": 1.02}, m)
	m, err = ParseMetrics([]byte(`{"accuracy": 0.5, "model_version": 7}`))
	require.NoError(t, err)
	assert.Equal(t, Metrics{"accuracy": 0.5}, m)

	bad := map[string]string{
		`{"accuracy": 0.5, "model_version": ""}`:       "model_version",
		`{"accuracy": 0.5, "model_version": -1}`:       "model_version",
		`{"accuracy": 0.5, "model_version": 1.5}`:      "model_version",
		`{"accuracy": 0.5, "model_version": {"v": 1}}`: "model_version",
		`{"accuracy": 0.5, "n_train": "many"}`:         "non-negative integer",
		`{"accuracy": 0.5, "n_test": 0.5}`:             "non-negative integer",
		`{"accuracy": 0.5, "model_name": "x"}`:         "not a number", // undocumented keys stay numeric
	}
	for in, want := range bad {
		_, err := ParseMetrics([]byte(in))
		require.ErrorContains(t, err, want, in)
	}
}

func TestAChampionFileWithModelVersionIsAccepted(t *testing.T) {
	res, doc := Evaluate(Inputs{
		Candidate:   []byte(`{"accuracy": 0.5, "log_loss": 1.0, "latency_ms_p95": 0.2, "model_version": "logreg-aaaa", "n_test": 500}`),
		Champion:    []byte(`{"accuracy": 0.494, "log_loss": 1.022307, "latency_ms_p95": 0.2, "model_version": "logreg-409725e437", "n_train": 1500}`),
		MaxSlowdown: DefaultMaxSlowdown,
	})
	require.NotNil(t, doc)
	assert.Equal(t, gate.Pass, res[0].Status, res[0].Summary)
	assert.Equal(t, gate.Pass, res[1].Status, res[1].Summary)
}

// No champion fails closed: an error of the blocking gate that says how to provide one,
// unless the caller says this is the very first model. The flag never skips a real champion.
func TestNoChampionIsAnErrorUnlessFirstModel(t *testing.T) {
	cand := []byte(`{"accuracy": 0.3, "log_loss": 2.5}`)
	for name, champion := range map[string][]byte{
		"missing":           nil,
		"empty":             []byte("  \n"),
		"only metadata":     []byte(`{"model_version": "3"}`),
		"empty object":      []byte(`{}`),
		"only unknown keys": []byte(`{"custom": 1}`),
	} {
		t.Run(name, func(t *testing.T) {
			train, err := project.ParseCommand("SP_TRAIN_COMMAND", "python scripts/train.py --out {metrics}")
			require.NoError(t, err)
			res, doc := Evaluate(Inputs{Candidate: cand, Champion: champion, MaxSlowdown: 0.1, Train: train})
			assert.Nil(t, doc)
			require.Len(t, res, 2)
			assert.Equal(t, gate.Error, res[0].Status)
			assert.True(t, res[0].Blocks())
			assert.Contains(t, res[0].Summary, "no champion")
			assert.Contains(t, res[0].Summary, "--first-model")
			assert.Contains(t, res[0].Summary, "write metrics/champion.json with `python scripts/train.py --out metrics/champion.json` (SP_TRAIN_COMMAND)",
				"the fix is the project's own training command")
			assert.Equal(t, gate.Skipped, res[1].Status)

			res, doc = Evaluate(Inputs{Candidate: cand, Champion: champion, MaxSlowdown: 0.1, FirstModel: true})
			require.NotNil(t, doc)
			assert.Equal(t, gate.Pass, res[0].Status)
			rep := gate.Report{Results: res}
			assert.True(t, UsedFirstModel(rep))
		})
	}

	res, doc := Evaluate(Inputs{Candidate: cand, Champion: []byte(`{"accuracy": 0.49}`), MaxSlowdown: 0.1, FirstModel: true})
	assert.Nil(t, doc)
	assert.Equal(t, gate.Error, res[0].Status)
	assert.Contains(t, res[0].Summary, "a champion exists")

	res, _ = Evaluate(Inputs{Candidate: cand, Champion: []byte(`{"accuracy": 0.49}`), MaxSlowdown: 0.1})
	assert.Equal(t, gate.Fail, res[0].Status)
	assert.False(t, UsedFirstModel(gate.Report{Results: res}))
}
