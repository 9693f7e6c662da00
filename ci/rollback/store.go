package rollback

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Every rollback's record outlives the job that made it:
//
//   - rollback-service keeps it in the cluster, next to the release it rolled back, as a Helm release
//     of its own (domain.AuditRelease: "<release>-audit", in the environment's namespace) whose only object
//     is a ConfigMap holding the record. Each rollback is one revision of that release, so `helm
//     history <release>-audit` is the environment's rollback log and `helm get values
//     <release>-audit` returns the last record (trace shows it);
//   - rollback-model keeps it on the registered model in MLflow, as the tag ModelTag.

// ModelTag is the MLflow registered-model tag holding the last rollback-model record (JSON).
const ModelTag = "soccerpredict.audit.last-rollback"

// recordValue is the Helm value the record is passed in (helm --set-file record=<file>).
const recordValue = "record"

// StoreChart returns the files (path → content) of the chart of the audit release: one ConfigMap
// with the record as audit.json. It needs no values but the record.
func StoreChart() map[string]string {
	return map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: soccer-predict-audit\ndescription: Audit records of the rollbacks of a soccer-predict release (one revision per rollback)\ntype: application\nversion: 1.0.0\n",
		"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/part-of: soccer-predict
    soccerpredict.io/audit: rollback
data:
  audit.json: {{ required "the audit record: pass --set-file record=<audit.json>" .Values.record | toJson }}
`,
	}
}

// StoreArgs returns `helm upgrade --install` of the audit release of release in namespace, from the
// chart at chartDir, with the record read from recordFile. The revision's description names the
// action, its target and who did it.
func StoreArgs(release, namespace, chartDir, recordFile string, r Record) ([]string, error) {
	switch {
	case release == "" || namespace == "":
		return nil, errors.New("audit store: no release or namespace: set SP_RELEASE and SP_NAMESPACE")
	case chartDir == "" || recordFile == "":
		return nil, errors.New("audit store: no chart directory or record file")
	}
	desc := fmt.Sprintf("%s %s → %s by %s", r.Action, orNone(r.From), orNone(r.Target), orNone(r.Actor))
	return []string{"helm", "upgrade", "--install", domain.AuditRelease(release), chartDir,
		"--namespace", namespace, "--create-namespace",
		"--set-file", recordValue + "=" + recordFile,
		"--description", desc}, nil
}

// LastArgs returns the command that prints the values of the audit release (the last record).
func LastArgs(release, namespace string) ([]string, error) {
	if release == "" || namespace == "" {
		return nil, errors.New("audit store: no release or namespace: set SP_RELEASE and SP_NAMESPACE")
	}
	return []string{"helm", "get", "values", domain.AuditRelease(release), "--namespace", namespace, "--output", "json"}, nil
}

// ParseLast reads the output of LastArgs' command: the last record stored.
func ParseLast(valuesJSON []byte) (Record, error) {
	var v map[string]any
	if err := json.Unmarshal(valuesJSON, &v); err != nil {
		return Record{}, fmt.Errorf("the audit release's values are not JSON (%v): check `helm get values` of the audit release", err)
	}
	raw, ok := v[recordValue].(string)
	if !ok || strings.TrimSpace(raw) == "" {
		return Record{}, errors.New("the audit release holds no record: it was not written by rollback-service")
	}
	return ParseRecord([]byte(raw))
}

// ParseRecord reads a record as Record.JSON wrote it, and checks it is well formed.
func ParseRecord(raw []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("the stored audit record is not a rollback record (%v)", err)
	}
	if _, err := ParseAction(string(r.Action)); err != nil {
		return Record{}, fmt.Errorf("the stored audit record: %w", err)
	}
	if _, err := domain.ParseEnvironment(string(r.Env)); err != nil { // the decode is an edge: the environment is parsed here
		return Record{}, fmt.Errorf("the stored audit record: %w", err)
	}
	if r.Actor == "" || r.Time.IsZero() {
		return Record{}, errors.New("the stored audit record has no actor or time")
	}
	return r, nil
}

// Summary is one line: when, what, where, by whom, why.
func (r Record) Summary() string {
	return fmt.Sprintf("%s %s in %s: %s → %s by %s (%q)", r.Time.UTC().Format("2006-01-02T15:04:05Z"), r.Action, r.Env,
		orNone(r.From), orNone(r.Target), r.Actor, r.Reason)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
