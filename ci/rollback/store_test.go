package rollback

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func storedRecord(t *testing.T) Record {
	t.Helper()
	out, err := Review(Request{Action: RollbackService, Env: "production", Target: "41", From: "42",
		Reason: "bad rollout of 42: 5xx", Actor: "dave", Confirm: true, Plan: "helm rollback soccer-predict 41",
		Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return out.Record
}

func TestStoreArgs(t *testing.T) {
	r := storedRecord(t)
	argv, err := StoreArgs("soccer-predict", "soccerpredict-production", "/audit-chart", "/audit/audit.json", r)
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "upgrade", "--install", "soccer-predict-audit", "/audit-chart",
		"--namespace", "soccerpredict-production", "--create-namespace",
		"--set-file", "record=/audit/audit.json", "--description", "rollback-service 42 → 41 by dave"}, argv)
	_, err = StoreArgs("", "ns", "/c", "/r", r)
	assert.ErrorContains(t, err, "SP_RELEASE")
	_, err = StoreArgs("r", "ns", "", "/r", r)
	assert.ErrorContains(t, err, "no chart directory or record file")

	last, err := LastArgs("soccer-predict", "soccerpredict-production")
	require.NoError(t, err)
	assert.Equal(t, []string{"helm", "get", "values", "soccer-predict-audit", "--namespace", "soccerpredict-production", "--output", "json"}, last)
	_, err = LastArgs("", "")
	assert.ErrorContains(t, err, "no release or namespace: set SP_RELEASE and SP_NAMESPACE")
	assert.Contains(t, StoreChart()["templates/configmap.yaml"], ".Values.record")
}

func TestParseLastRoundTrip(t *testing.T) {
	r := storedRecord(t)
	raw, err := r.JSON()
	require.NoError(t, err)
	// helm get values --output json of a release installed with --set-file record=<that file>.
	values, err := json.Marshal(map[string]any{"record": string(raw)})
	require.NoError(t, err)
	got, err := ParseLast(values)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	assert.Equal(t, `2026-11-30T12:00:00Z rollback-service in production: 42 → 41 by dave ("bad rollout of 42: 5xx")`, got.Summary())

	for name, in := range map[string]string{
		"not json":         "USER-SUPPLIED VALUES:\nnull",
		"no record":        `{}`,
		"empty record":     `{"record": ""}`,
		"not a record":     `{"record": "{\"foo\": 1}"}`,
		"unknown action":   `{"record": "{\"action\": \"rm-rf\", \"actor\": \"x\", \"time\": \"2026-01-01T00:00:00Z\"}"}`,
		"no actor":         `{"record": "{\"action\": \"rollback-service\", \"env\": \"dev\", \"time\": \"2026-01-01T00:00:00Z\"}"}`,
		"unknown env":      `{"record": "{\"action\": \"rollback-service\", \"env\": \"qa\", \"actor\": \"x\", \"time\": \"2026-01-01T00:00:00Z\"}"}`,
		"record not JSON":  `{"record": "helm rollback"}`,
		"record is number": `{"record": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLast([]byte(in))
			require.Error(t, err)
			assert.False(t, strings.Contains(err.Error(), "panic"))
		})
	}
}

func FuzzParseLast(f *testing.F) {
	f.Add([]byte(`{"record": "{\"action\": \"rollback-service\", \"env\": \"staging\", \"actor\": \"x\", \"time\": \"2026-01-01T00:00:00Z\"}"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"record": 3}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ParseLast(raw)
		if err != nil {
			return
		}
		if _, err := ParseAction(string(r.Action)); err != nil || r.Actor == "" || r.Time.IsZero() {
			t.Fatalf("an ill-formed record was accepted: %+v", r)
		}
		if _, err := domain.ParseEnvironment(string(r.Env)); err != nil {
			t.Fatalf("an ill-formed record was accepted: %+v", r)
		}
	})
}
