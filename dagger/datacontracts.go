package main

import (
	"context"
	"fmt"
	"path"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gate/datacontract"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// DataContracts runs the Great Expectations checkpoint on the dataset. A failed critical
// expectation fails it; advisory expectations only raise the data-advisory signal (see
// `gate-report`, which also returns ge-results.json).
//
// +check
func (m *SoccerPredict) DataContracts(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.dataContracts)
}

func (m *SoccerPredict) dataContracts(ctx context.Context) (outcome, error) {
	ctr, err := m.python(ctx, projectpkg.DataRequirements)
	if err != nil {
		return outcome{}, err
	}
	resultsPath := path.Join(reportsDir, gate.GEResults)
	done, code, out, err := run(ctx, ctr, projectpkg.GECheckpoint(resultsPath))
	if err != nil {
		return outcome{}, err
	}
	if code != 0 {
		// The checkpoint script exits non-zero only when it could not validate at all.
		return outcome{Results: []gate.Result{
			gate.NewResult(gate.DataContracts, gate.Error, fmt.Sprintf("Great Expectations checkpoint crashed (exit %d)", code), gate.Tail(out, 20)...),
			gate.NewResult(gate.DataAdvisory, gate.Skipped, "not evaluated: the checkpoint crashed"),
		}}, nil
	}
	files := done.Directory(reportsDir)
	js, err := files.File(gate.GEResults).Contents(ctx)
	if err != nil {
		return outcome{}, fmt.Errorf("read %s: %w", gate.GEResults, err)
	}
	return outcome{Results: datacontract.Evaluate([]byte(js)), Files: files}, nil
}
