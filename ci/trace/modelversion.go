package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// ModelVersion returns explicit when it is not empty; otherwise it reads the model
// version from a metrics JSON file: the top-level "model_version" field, else
// "model"."version". Strings and non-negative integers are accepted.
func ModelVersion(explicit string, metricsJSON []byte) (string, error) {
	const fix = "pass the model version explicitly or write \"model_version\" into the metrics file"
	if explicit != "" {
		if err := validateValue("model version", explicit, "the MLflow model version", true); err != nil {
			return "", err
		}
		return explicit, nil
	}
	if len(bytes.TrimSpace(metricsJSON)) == 0 {
		return "", fmt.Errorf("no model version given and no metrics file: %s", fix)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(metricsJSON, &doc); err != nil || doc == nil {
		return "", fmt.Errorf("metrics file is not a JSON object: %s", fix)
	}
	raw, ok := doc["model_version"]
	if !ok {
		var model map[string]json.RawMessage
		if m, has := doc["model"]; has && json.Unmarshal(m, &model) == nil {
			raw, ok = model["version"]
		}
	}
	if !ok {
		return "", fmt.Errorf("metrics file has no model_version (nor model.version): %s", fix)
	}
	v, err := scalarVersion(raw)
	if err != nil {
		return "", fmt.Errorf("metrics file model version: %w: %s", err, fix)
	}
	if err := validateValue("model version", v, "the MLflow model version", true); err != nil {
		return "", err
	}
	return v, nil
}

func scalarVersion(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		if f < 0 || f != math.Trunc(f) || f > 1<<53 {
			return "", fmt.Errorf("%s is not a non-negative integer", string(raw))
		}
		return strconv.FormatInt(int64(f), 10), nil
	}
	return "", fmt.Errorf("%s is neither a string nor an integer", string(raw))
}
