package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// gateFuncs maps every runnable gate (blocking gates; the signals come out of them) to its
// implementation, in catalog order.
func (m *SoccerPredict) gateFuncs() ([]string, map[string]gateFunc) {
	table := map[string]gateFunc{
		gate.Lint:          m.lint,
		gate.SecretScan:    m.secretScan,
		gate.Test:          m.test,
		gate.DataContracts: m.dataContracts,
		gate.DVCDry:        m.dvcDry,
		gate.Smoke:         m.smoke,
		gate.APIContract:   m.apiContract,
		gate.ModelGate:     m.modelGate,
	}
	var order []string
	for _, g := range gate.Catalog() {
		if _, ok := table[g.Name]; ok {
			order = append(order, g.Name)
		}
	}
	return order, table
}

// GateReport runs the quality gates concurrently (SP_GATE_CONCURRENCY at once) and returns one
// directory with every gate's reports plus gate-report.json and gate-report.md, which say per
// gate whether it blocks or is a signal, pass/fail, its duration and a summary. It does not fail
// when a gate fails: export the reports, then let `check` decide.
//
// +cache="session"
func (m *SoccerPredict) GateReport(
	ctx context.Context,
	// Gates to run (default: all): lint, secret-scan, test, data-contracts, dvc-dry, smoke, api-contract, model-gate.
	// +optional
	only []string,
) (_ *dagger.Directory, err error) {
	defer surface(&err)
	dir, _, err := m.gateReport(ctx, only)
	return dir, err
}

// Check runs every quality gate concurrently and fails only when a blocking gate fails or
// errors; drift, advisory data checks and performance regressions are reported, never
// enforced. The error carries the gate report as Markdown.
//
// +check
// +cache="session"
func (m *SoccerPredict) Check(ctx context.Context) (err error) {
	defer surface(&err)
	_, rep, err := m.gateReport(ctx, nil)
	if err != nil {
		return err
	}
	if err := rep.Verdict().Err(); err != nil {
		return fmt.Errorf("%w\n\n%s", err, rep.Markdown())
	}
	return nil
}

func (m *SoccerPredict) gateReport(ctx context.Context, only []string) (*dagger.Directory, gate.Report, error) {
	s, err := m.settings(ctx)
	if err != nil {
		return nil, gate.Report{}, err
	}
	order, table := m.gateFuncs()
	names := order
	if len(only) > 0 {
		names = nil
		for _, n := range only {
			if _, ok := table[n]; !ok {
				return nil, gate.Report{}, fmt.Errorf("--only: unknown gate %q: want some of %v", n, order)
			}
			names = append(names, n)
		}
	}
	var mu sync.Mutex
	files := map[string]*dagger.Directory{}
	funcs := make([]gate.Func, 0, len(names))
	for _, name := range names {
		fn := table[name]
		funcs = append(funcs, gate.Func{Name: name, Run: func(ctx context.Context) ([]gate.Result, error) {
			o, err := fn(ctx)
			if err != nil {
				return nil, err
			}
			if o.Files != nil {
				mu.Lock()
				files[name] = o.Files
				mu.Unlock()
			}
			return o.Results, nil
		}})
	}
	started := time.Now().UTC()
	results, err := gate.Run(ctx, s.GateConcurrency, funcs)
	if err != nil {
		return nil, gate.Report{}, err
	}
	rep := gate.Report{Results: results, Started: started, Finished: time.Now().UTC(), Commit: string(s.Commit)}
	js, err := rep.JSON()
	if err != nil {
		return nil, gate.Report{}, err
	}
	out := dag.Directory()
	for _, name := range names {
		if d := files[name]; d != nil {
			out = out.WithDirectory(".", d)
		}
	}
	out = out.
		WithNewFile(gate.GateReportJSON, string(js)).
		WithNewFile(gate.GateReportMarkdown, rep.Markdown())
	return out, rep, nil
}
