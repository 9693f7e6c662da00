package modelgate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// DefaultMaxSlowdown is the relative latency increase tolerated before perf-regression
// is raised: 0.10 means the candidate may be 10% slower than the champion.
const DefaultMaxSlowdown = 0.10

// Config is how strict the comparison is.
type Config struct {
	// Tolerances are absolute per-metric tolerances; a missing metric has tolerance 0.
	Tolerances Tolerances
	// MaxSlowdown is the relative latency increase tolerated (0.10 = 10%); 0 tolerates none.
	// Performance metrics add their absolute tolerance on top.
	MaxSlowdown float64
}

// DefaultConfig has no quality tolerance and DefaultMaxSlowdown for latency.
func DefaultConfig() Config {
	return Config{Tolerances: Tolerances{}, MaxSlowdown: DefaultMaxSlowdown}
}

// Validate checks the tolerances and the slowdown.
func (c Config) Validate() error {
	for name, tol := range c.Tolerances {
		if _, ok := Lookup(name); !ok {
			return fmt.Errorf("tolerance for unknown metric %q: use one of %s", name, strings.Join(MetricNames(), ", "))
		}
		if tol < 0 || math.IsNaN(tol) || math.IsInf(tol, 0) {
			return fmt.Errorf("tolerance %s=%v must be a finite number >= 0", name, tol)
		}
		if err := checkBound(name, tol); err != nil {
			return err
		}
	}
	if c.MaxSlowdown < 0 || math.IsNaN(c.MaxSlowdown) || math.IsInf(c.MaxSlowdown, 0) {
		return fmt.Errorf("max slowdown %v must be a finite fraction >= 0 (0.10 = 10%% slower allowed)", c.MaxSlowdown)
	}
	return nil
}

// Comparison is the verdict on one known metric.
type Comparison struct {
	Spec
	// Candidate and Champion are the values; HasCandidate/HasChampion say whether they were reported.
	Candidate, Champion       float64
	HasCandidate, HasChampion bool
	// Tolerance is the absolute tolerance applied.
	Tolerance float64
	// Limit is the worst candidate value that still passes (meaningful when both values exist).
	Limit float64
	// Status is Pass or Fail.
	Status gate.Status
	// Reason explains the status in one line.
	Reason string
}

// Outcome is the comparison of a candidate with the champion.
type Outcome struct {
	// Config is the configuration the comparison used.
	Config Config
	// NoChampion is true when there was no champion to compare with.
	NoChampion bool
	// Comparisons holds every known metric either side reported, in Specs order.
	Comparisons []Comparison
	// Ignored lists reported metrics that are not known (not compared), sorted.
	Ignored []string
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// Compare compares candidate with champion (nil or empty: no champion yet).
//
// Quality metrics pass when the candidate is no worse than the champion by more than
// the metric's tolerance (higher-better: candidate >= champion - tolerance; lower-better:
// candidate <= champion + tolerance). Latency passes when candidate <= champion *
// (1 + MaxSlowdown) + tolerance. A metric the champion reports but the candidate lacks
// fails. The error is only an invalid Config.
func Compare(candidate, champion Metrics, cfg Config) (Outcome, error) {
	if err := cfg.Validate(); err != nil {
		return Outcome{}, err
	}
	out := Outcome{Config: cfg, NoChampion: len(champion) == 0}
	for _, s := range specs {
		cand, hasCand := candidate[s.Name]
		champ, hasChamp := champion[s.Name]
		if !hasCand && !hasChamp {
			continue
		}
		c := Comparison{Spec: s, Candidate: cand, Champion: champ, HasCandidate: hasCand, HasChampion: hasChamp,
			Tolerance: cfg.Tolerances[s.Name], Status: gate.Pass}
		switch {
		case !hasCand:
			c.Status = gate.Fail
			c.Reason = fmt.Sprintf("%s: the champion reports %s but the candidate does not: make the training step write %s", s.Name, num(champ), s.Name)
		case !hasChamp:
			c.Reason = fmt.Sprintf("%s %s: new metric, the champion has no value", s.Name, num(cand))
		default:
			c.Limit, c.Reason = judge(s, cand, champ, c.Tolerance, cfg.MaxSlowdown, &c.Status)
		}
		out.Comparisons = append(out.Comparisons, c)
	}
	seen := map[string]bool{}
	for _, m := range []Metrics{candidate, champion} {
		for k := range m {
			if _, ok := Lookup(k); !ok && !seen[k] {
				seen[k] = true
				out.Ignored = append(out.Ignored, k)
			}
		}
	}
	sort.Strings(out.Ignored)
	return out, nil
}

func judge(s Spec, cand, champ, tol, slowdown float64, status *gate.Status) (float64, string) {
	var limit float64
	var pass bool
	var how string
	switch {
	case s.Class == Performance:
		limit = champ*(1+slowdown) + tol
		pass = cand <= limit
		how = fmt.Sprintf("champion %s +%s%%", num(champ), num(slowdown*100))
		if tol > 0 {
			how += " + " + num(tol)
		}
	case s.Direction == HigherBetter:
		limit = champ - tol
		pass = cand >= limit
		how = fmt.Sprintf("champion %s - tolerance %s", num(champ), num(tol))
	default:
		limit = champ + tol
		pass = cand <= limit
		how = fmt.Sprintf("champion %s + tolerance %s", num(champ), num(tol))
	}
	op := map[bool]map[Direction]string{true: {HigherBetter: ">=", LowerBetter: "<="}, false: {HigherBetter: "<", LowerBetter: ">"}}[pass][s.Direction]
	if !pass {
		*status = gate.Fail
	}
	return limit, fmt.Sprintf("%s %s %s %s (%s)", s.Name, num(cand), op, num(limit), how)
}

func (o Outcome) byClass(cl Class) (all, failed []Comparison) {
	for _, c := range o.Comparisons {
		if c.Class != cl {
			continue
		}
		all = append(all, c)
		if c.Status != gate.Pass {
			failed = append(failed, c)
		}
	}
	return all, failed
}

func reasons(cs []Comparison) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Reason
	}
	return out
}

// Results returns the blocking model-gate result (quality metrics) and the
// perf-regression signal (latency). model-gate fails when a quality metric is worse than
// allowed or missing, or when the candidate reports no quality metric at all.
func (o Outcome) Results() (model, perf gate.Result) {
	all, failed := o.byClass(Quality)
	hasCandQuality := false
	for _, c := range all {
		hasCandQuality = hasCandQuality || c.HasCandidate
	}
	var details []string
	for _, c := range all {
		mark := "ok  "
		if c.Status != gate.Pass {
			mark = "FAIL"
		}
		details = append(details, mark+" "+c.Reason)
	}
	if len(o.Ignored) > 0 {
		details = append(details, "not compared (unknown direction): "+strings.Join(o.Ignored, ", "))
	}
	details = append(details, RecordTolerances(o.Config.Tolerances))
	switch {
	case !hasCandQuality:
		model = gate.NewResult(gate.ModelGate, gate.Fail,
			"the candidate reports no quality metric: write one of accuracy, f1, roc_auc, log_loss, brier, rmse, mae", details...)
	case len(failed) > 0:
		model = gate.NewResult(gate.ModelGate, gate.Fail,
			fmt.Sprintf("%d of %d quality metrics worse than the champion: %s", len(failed), len(all), strings.Join(reasons(failed), "; ")), details...)
	case o.NoChampion:
		model = gate.NewResult(gate.ModelGate, gate.Pass, fmt.Sprintf("%s: candidate accepted on %d quality metrics", FirstModelSummary, len(all)), details...)
	default:
		model = gate.NewResult(gate.ModelGate, gate.Pass, fmt.Sprintf("all %d quality metrics within tolerance of the champion", len(all)), details...)
	}

	pall, pfailed := o.byClass(Performance)
	switch {
	case len(pfailed) > 0:
		perf = gate.NewResult(gate.PerfRegression, gate.Fail, strings.Join(reasons(pfailed), "; "), reasons(pall)...)
	case len(pall) == 0:
		perf = gate.NewResult(gate.PerfRegression, gate.Pass, "no latency metric reported")
	default:
		perf = gate.NewResult(gate.PerfRegression, gate.Pass, strings.Join(reasons(pall), "; "))
	}
	return model, perf
}

// ReportSchemaVersion is the version of the model-gate.json layout.
const ReportSchemaVersion = 1

type wireMetric struct {
	Name      string   `json:"name"`
	Direction string   `json:"direction"`
	Class     string   `json:"class"`
	Candidate *float64 `json:"candidate"`
	Champion  *float64 `json:"champion"`
	Tolerance float64  `json:"tolerance"`
	Limit     *float64 `json:"limit"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason"`
}

type wireDrift struct {
	DriftShare     float64  `json:"drift_share"`
	DatasetDrift   bool     `json:"dataset_drift"`
	Columns        *int     `json:"number_of_columns,omitempty"`
	DriftedColumns *int     `json:"number_of_drifted_columns,omitempty"`
	Drifted        []string `json:"drifted_columns,omitempty"`
}

type wireReport struct {
	SchemaVersion  int          `json:"schemaVersion"`
	ModelGate      string       `json:"modelGate"`
	PerfRegression string       `json:"perfRegression"`
	Drift          *string      `json:"drift"`
	NoChampion     bool         `json:"noChampion"`
	Tolerances     string       `json:"tolerances"`
	MaxSlowdown    float64      `json:"maxSlowdown"`
	Metrics        []wireMetric `json:"metrics"`
	Ignored        []string     `json:"ignored"`
	DriftReport    *wireDrift   `json:"driftReport"`
}

func ptr[T any](v T) *T { return &v }

// JSON renders model-gate.json: the statuses of model-gate, perf-regression and drift
// (null when drift is nil), the configuration, and every comparison.
func (o Outcome) JSON(drift *Drift) ([]byte, error) {
	model, perf := o.Results()
	w := wireReport{
		SchemaVersion:  ReportSchemaVersion,
		ModelGate:      string(model.Status),
		PerfRegression: string(perf.Status),
		NoChampion:     o.NoChampion,
		Tolerances:     o.Config.Tolerances.String(),
		MaxSlowdown:    o.Config.MaxSlowdown,
		Metrics:        []wireMetric{},
		Ignored:        append([]string{}, o.Ignored...),
	}
	for _, c := range o.Comparisons {
		m := wireMetric{Name: c.Name, Direction: string(c.Direction), Class: string(c.Class), Tolerance: c.Tolerance, Status: string(c.Status), Reason: c.Reason}
		if c.HasCandidate {
			m.Candidate = ptr(c.Candidate)
		}
		if c.HasChampion {
			m.Champion = ptr(c.Champion)
		}
		if c.HasCandidate && c.HasChampion {
			m.Limit = ptr(c.Limit)
		}
		w.Metrics = append(w.Metrics, m)
	}
	if drift != nil {
		w.Drift = ptr(string(drift.Result().Status))
		w.DriftReport = &wireDrift{DriftShare: drift.Share, DatasetDrift: drift.DatasetDrift, Columns: drift.Columns, DriftedColumns: drift.DriftedColumns, Drifted: drift.Drifted}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("model gate: encode model-gate.json: %w", err)
	}
	return buf.Bytes(), nil
}
