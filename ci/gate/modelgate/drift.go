package modelgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Drift is the drift report between the reference and the current data.
type Drift struct {
	// Share is the fraction of drifted columns, 0..1.
	Share float64
	// DatasetDrift is the report's decision that the dataset as a whole drifted.
	DatasetDrift bool
	// Columns and DriftedColumns are the column counts, when reported.
	Columns, DriftedColumns *int
	// Drifted names the drifted columns, when reported.
	Drifted []string
}

type wireDriftIn struct {
	DriftShare     *float64 `json:"drift_share"`
	DatasetDrift   *bool    `json:"dataset_drift"`
	Columns        *int     `json:"number_of_columns"`
	DriftedColumns *int     `json:"number_of_drifted_columns"`
	Drifted        []string `json:"drifted_columns"`
}

// ParseDrift reads the drift JSON: {"drift_share": 0.25, "dataset_drift": false, ...}.
// drift_share (0..1) and dataset_drift are required; number_of_columns,
// number_of_drifted_columns and drifted_columns are optional; other fields are ignored.
func ParseDrift(data []byte) (Drift, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Drift{}, errors.New(`drift: not a JSON object: write {"drift_share": 0.25, "dataset_drift": false}`)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var w wireDriftIn
	if err := dec.Decode(&w); err != nil {
		return Drift{}, fmt.Errorf("drift: not valid drift JSON: %w", err)
	}
	if dec.More() {
		return Drift{}, errors.New("drift: trailing data after the JSON object: write one object")
	}
	if w.DriftShare == nil {
		return Drift{}, errors.New(`drift: no "drift_share": write the share of drifted columns (0..1)`)
	}
	if w.DatasetDrift == nil {
		return Drift{}, errors.New(`drift: no "dataset_drift": write whether the dataset drifted (true/false)`)
	}
	if s := *w.DriftShare; math.IsNaN(s) || s < 0 || s > 1 {
		return Drift{}, fmt.Errorf("drift: drift_share %v is not between 0 and 1", s)
	}
	if w.Columns != nil && *w.Columns < 0 || w.DriftedColumns != nil && *w.DriftedColumns < 0 {
		return Drift{}, errors.New("drift: column counts must be >= 0")
	}
	if w.Columns != nil && w.DriftedColumns != nil && *w.DriftedColumns > *w.Columns {
		return Drift{}, fmt.Errorf("drift: %d drifted columns out of %d: the counts are inconsistent", *w.DriftedColumns, *w.Columns)
	}
	return Drift{Share: *w.DriftShare, DatasetDrift: *w.DatasetDrift, Columns: w.Columns, DriftedColumns: w.DriftedColumns, Drifted: w.Drifted}, nil
}

// Result is the drift signal: Fail when the report says the dataset drifted, else Pass.
// It never blocks.
func (d Drift) Result() gate.Result {
	summary := fmt.Sprintf("drift share %.2f", d.Share)
	if d.Columns != nil && d.DriftedColumns != nil {
		summary += fmt.Sprintf(" (%d of %d columns)", *d.DriftedColumns, *d.Columns)
	}
	var details []string
	if len(d.Drifted) > 0 {
		details = append(details, "drifted columns: "+strings.Join(d.Drifted, ", "))
	}
	if d.DatasetDrift {
		return gate.NewResult(gate.Drift, gate.Fail, summary+": dataset drift detected", details...)
	}
	return gate.NewResult(gate.Drift, gate.Pass, summary+": no dataset drift", details...)
}

// DriftResult parses the drift JSON and returns the drift signal; a file that does not
// parse yields an Error result (still a signal) naming the problem.
func DriftResult(data []byte) gate.Result {
	d, err := ParseDrift(data)
	if err != nil {
		return gate.Errored(gate.Drift, err)
	}
	return d.Result()
}
