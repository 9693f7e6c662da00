package main

import (
	"context"

	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// DvcDry checks that the DVC pipeline (dvc.yaml, params.yaml, dvc.lock) resolves:
// `dvc repro --dry` must succeed. Nothing is run or pulled.
//
// +check
func (m *SoccerPredict) DvcDry(ctx context.Context) (err error) {
	defer surface(&err)
	return enforce(ctx, m.dvcDry)
}

func (m *SoccerPredict) dvcDry(ctx context.Context) (outcome, error) {
	ctr, err := m.python(ctx, projectpkg.DataRequirements)
	if err != nil {
		return outcome{}, err
	}
	_, code, out, err := run(ctx, ctr, projectpkg.DVCDry())
	if err != nil {
		return outcome{}, err
	}
	if code != 0 {
		return single(gate.ClassifyRun(gate.NewResult(gate.DVCDry, gate.Fail, "dvc repro --dry failed", gate.Tail(out, 20)...), code, out)), nil
	}
	return single(gate.NewResult(gate.DVCDry, gate.Pass, "pipeline resolves: "+gate.Last(out))), nil
}

// dataset is the version of the dataset the model is trained on, and the DVC file it was read
// from (ci/dvc.ProjectDataset): the dataset's .dvc file (`dvc add`) when the project has
// one, else the md5 dvc.lock records for it; empty without either.
func (m *SoccerPredict) dataset(ctx context.Context) (dvc.Dataset, error) {
	src := m.project()
	return dvc.ProjectDataset(projectpkg.Dataset, func(name string) ([]byte, bool, error) {
		ok, err := src.Exists(ctx, name)
		if err != nil || !ok {
			return nil, false, err
		}
		raw, err := src.File(name).Contents(ctx)
		if err != nil {
			return nil, false, err
		}
		return []byte(raw), true, nil
	})
}
