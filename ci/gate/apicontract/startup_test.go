package apicontract

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

func TestStartupCommandRunsTheImagesOwnCommand(t *testing.T) {
	assert.Equal(t, []string{"timeout", "-s", "INT", "20", "uvicorn", "soccerpredict.api.app:app", "--port", "8000"},
		StartupCommand(nil, []string{"uvicorn", "soccerpredict.api.app:app", "--port", "8000"}))
	assert.Equal(t, []string{"timeout", "-s", "INT", "20", "/entry.sh", "serve"}, StartupCommand([]string{"/entry.sh"}, []string{"serve"}))
}

// The reason the service did not serve comes from the service itself.
func TestServiceFailedCarriesTheServicesOwnLastLines(t *testing.T) {
	crash := "INFO:     Started server process [1]\n" +
		"Traceback (most recent call last):\n" +
		"  File \"/app/src/soccerpredict/api/app.py\", line 3, in <module>\n" +
		"    from soccerpredict.model import load_predictor\n" +
		"ImportError: cannot import name 'load_predictor' from 'soccerpredict.model'\n"
	r := ServiceFailed("API never became ready on /healthz", 1, crash)
	assert.Equal(t, gate.Fail, r.Status)
	assert.Equal(t, gate.APIContract, r.Name)
	assert.Contains(t, r.Summary, "exited 1 at start")
	assert.Contains(t, r.Summary, "ImportError: cannot import name 'load_predictor'")
	details := strings.Join(r.Details, "\n")
	assert.Contains(t, details, "probe: API never became ready on /healthz")
	assert.Contains(t, details, "Traceback (most recent call last):")
	assert.Contains(t, details, "from soccerpredict.model import load_predictor")

	long := strings.Repeat("noise\n", 100) + "the reason\n"
	r = ServiceFailed("probe", 3, long)
	assert.Len(t, r.Details, 2+20, "the last 20 lines after the probe line and the header")
	assert.Equal(t, "the reason", r.Details[len(r.Details)-1])
}

func TestServiceFailedClassifies(t *testing.T) {
	cases := []struct {
		name    string
		code    int
		out     string
		status  gate.Status
		summary string
	}{
		{"uvicorn not installed", 127, "timeout: failed to run command 'uvicorn': No such file or directory", gate.Error, "could not run"},
		{"module missing", 1, "/usr/local/bin/python: No module named uvicorn", gate.Error, "could not run"},
		{"still running, wrong port", 124, "INFO:     Uvicorn running on http://0.0.0.0:9000", gate.Fail, "kept running"},
		{"exits at once", 0, "", gate.Fail, "exited 0"},
		{"crash in the project", 1, "RuntimeError: model file is corrupt", gate.Fail, "RuntimeError: model file is corrupt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ServiceFailed("probe exited 1", c.code, c.out)
			assert.Equal(t, c.status, r.Status, r.Summary)
			assert.Contains(t, r.Summary, c.summary)
			assert.True(t, r.Blocks())
		})
	}
	assert.Contains(t, ServiceFailed("p", 0, "").Details, "(no output)")
}
