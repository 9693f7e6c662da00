package config

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestLoadDefaults(t *testing.T) {
	s, err := Load(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "main", s.DefaultBranch)
	assert.Equal(t, 4, s.GateConcurrency)
	assert.Equal(t, []string{"HIGH", "CRITICAL"}, s.ScanSeverities)
	assert.Equal(t, 10*time.Minute, s.HelmTimeout)
	assert.Equal(t, domain.Repository("registry.gitlab.com/soccerpredictai/soccerpredict"), s.Registry)
}

func TestLoadValues(t *testing.T) {
	s, err := Load(context.Background(), map[string]string{
		"CI_COMMIT_SHA": sha, "CI_COMMIT_REF_NAME": "feature/x", "SP_GATE_CONCURRENCY": "2",
		"SP_SCAN_SEVERITIES": "MEDIUM,HIGH,CRITICAL", "SP_HELM_TIMEOUT": "90s", "SP_RUFF_VERSION": "0.16.4",
	})
	require.NoError(t, err)
	assert.Equal(t, domain.Commit(sha), s.Commit)
	assert.Equal(t, "01234567", s.Commit.Short())
	assert.Equal(t, 2, s.GateConcurrency)
	assert.Equal(t, []string{"MEDIUM", "HIGH", "CRITICAL"}, s.ScanSeverities)
	assert.Equal(t, 90*time.Second, s.HelmTimeout)
	assert.Equal(t, "0.16.4", s.RuffVersion)
}

func TestLoadRejectsBadValuesNamingTheVariable(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"short sha", "CI_COMMIT_SHA", "abc123", "CI_COMMIT_SHA=\"abc123\": commit \"abc123\" is an abbreviation"},
		{"mirror with a tag", "SP_REGISTRY_MIRROR", "mirror.example.com/x:1", "SP_REGISTRY_MIRROR="},
		{"uppercase sha", "CI_COMMIT_SHA", strings.ToUpper(sha), "CI_COMMIT_SHA="},
		{"concurrency zero", "SP_GATE_CONCURRENCY", "0", "SP_GATE_CONCURRENCY=0: want an integer from 1 to 16"},
		{"concurrency huge", "SP_GATE_CONCURRENCY", "64", "from 1 to 16"},
		{"concurrency not a number", "SP_GATE_CONCURRENCY", "four", "check the value's type"},
		{"severity", "SP_SCAN_SEVERITIES", "HIGH,SEVERE", `SP_SCAN_SEVERITIES has "SEVERE": want a comma-separated subset of UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL`},
		{"timeout too short", "SP_HELM_TIMEOUT", "5s", "SP_HELM_TIMEOUT=5s: want a duration from 30s to 1h"},
		{"registry with tag", "CI_REGISTRY_IMAGE", "registry.example.com/app:latest", "CI_REGISTRY_IMAGE="},
		{"registry uppercase", "CI_REGISTRY_IMAGE", "Registry.example.com/App", "CI_REGISTRY_IMAGE="},
		{"mirror", "SP_REGISTRY_MIRROR", "http://mirror", "SP_REGISTRY_MIRROR="},
		{"namespace", "SP_NAMESPACE", "Soccer_Predict", "SP_NAMESPACE="},
		{"release", "SP_RELEASE", "-bad", "SP_RELEASE="},
		{"release starting with a digit (helm refuses it)", "SP_RELEASE", "1sp", "SP_RELEASE=\"1sp\": want a Helm release name"},
		{"release leaving no room for its audit release", "SP_RELEASE", "s" + strings.Repeat("x", 47), "its rollback audit release sxx"},
		{"namespace prefix too long for production", "SP_NAMESPACE", strings.Repeat("n", 53), "leaves room for -production"},
		{"mlflow url", "MLFLOW_TRACKING_URI", "mlflow:5000", "MLFLOW_TRACKING_URI=\"mlflow:5000\": want an http(s) URL"},
		{"perf budget", "SP_PERF_BUDGET_PCT", "-3", "SP_PERF_BUDGET_PCT=-3"},
		{"ruff version with a v", "SP_RUFF_VERSION", "v0.16.4", `SP_RUFF_VERSION="v0.16.4": want a ruff release X.Y.Z`},
		{"ruff version range", "SP_RUFF_VERSION", ">=0.16", `SP_RUFF_VERSION=">=0.16"`},
		{"train command without {metrics}", "SP_TRAIN_COMMAND", "python train.py --out m.json", `SP_TRAIN_COMMAND="python train.py --out m.json": has no {metrics}`},
		{"train command through a shell", "SP_TRAIN_COMMAND", "python train.py --out {metrics} > log", `SP_TRAIN_COMMAND="python train.py --out {metrics} > log": ">" at character 33 is shell syntax, and the command runs without a shell`},
		{"train command with a variable", "SP_TRAIN_COMMAND", "python train.py --data $DATA --out {metrics}", "is a shell expansion"},
		{"smoke command with an unknown placeholder", "SP_SMOKE_COMMAND", "python train.py --smoke --out {metrics} --data {data}", `SP_SMOKE_COMMAND="python train.py --smoke --out {metrics} --data {data}": has the unknown placeholder {data}`},
		{"smoke command with an assignment", "SP_SMOKE_COMMAND", "PYTHONPATH=src python -m x --out {metrics}", "write `env PYTHONPATH=src python -m x --out {metrics}`"},
		{"smoke command unterminated", "SP_SMOKE_COMMAND", "python 'x --out {metrics}", "SP_SMOKE_COMMAND=\"python 'x --out {metrics}\": unterminated single quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), map[string]string{tt.key: tt.value})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// The training commands default to the bundled sample's pipeline (the argv the gates ran before
// they were settings); a project sets its own, and the same value from a settings file reads the same.
func TestTrainingCommands(t *testing.T) {
	s, err := Load(context.Background(), nil)
	require.NoError(t, err)
	train, err := s.TrainCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "-m", "soccerpredict.pipeline.train", "--full", "--out", "/reports/metrics/candidate.json", "--model-out", "/tmp/model/model.pkl"},
		train.Argv("/reports/metrics/candidate.json", "/tmp/model/model.pkl"))
	assert.Equal(t, TrainCommandSetting, train.Setting)
	smoke, err := s.SmokeCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "-m", "soccerpredict.pipeline.train", "--smoke", "--out", "m", "--model-out", "x"}, smoke.Argv("m", "x"))
	assert.Equal(t, SmokeCommandSetting, smoke.Setting)
	for _, c := range Catalog() {
		switch c.Name {
		case TrainCommandSetting:
			assert.Equal(t, s.TrainCmd, c.Default, "the documented default is the loaded one")
		case SmokeCommandSetting:
			assert.Equal(t, s.SmokeCmd, c.Default, "the documented default is the loaded one")
		}
	}

	file, err := ParseDotenv("SP_TRAIN_COMMAND=\"python scripts/train.py --out {metrics} --note 'full data'\"\nSP_SMOKE_COMMAND=python scripts/train.py --smoke --out {metrics}\n")
	require.NoError(t, err)
	s, err = Load(context.Background(), file)
	require.NoError(t, err)
	train, err = s.TrainCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "scripts/train.py", "--out", "m.json", "--note", "full data"}, train.Argv("m.json", "x"))
	smoke, err = s.SmokeCommand()
	require.NoError(t, err)
	assert.Equal(t, []string{"python", "scripts/train.py", "--smoke", "--out", "m.json"}, smoke.Argv("m.json", "x"))

	// Settings built without Load still refuse a bad command, naming the setting.
	_, err = Settings{TrainCmd: "python train.py"}.TrainCommand()
	require.ErrorContains(t, err, `SP_TRAIN_COMMAND="python train.py": has no {metrics}`)
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Load(context.Background(), map[string]string{"SP_GATE_CONCURRENCY": "0", "SP_NAMESPACE": "X", "CI_COMMIT_SHA": "z"})
	require.Error(t, err)
	for _, v := range []string{"SP_GATE_CONCURRENCY", "SP_NAMESPACE", "CI_COMMIT_SHA"} {
		assert.Contains(t, err.Error(), v)
	}
}

func TestParseDotenv(t *testing.T) {
	m, err := ParseDotenv("# pipeline settings\nSP_GATE_CONCURRENCY=2\nCI_REGISTRY_IMAGE=\"registry.example.com/sp\"\n")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"SP_GATE_CONCURRENCY": "2", "CI_REGISTRY_IMAGE": "registry.example.com/sp"}, m)

	_, err = ParseDotenv("SP_GATE_CONCURENCY=2\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown setting(s) SP_GATE_CONCURENCY")
	assert.Contains(t, err.Error(), "SP_GATE_CONCURRENCY")
}

func TestMergeLaterWinsAndEmptyNeverOverrides(t *testing.T) {
	got := Merge(map[string]string{"A": "file", "B": "file"}, map[string]string{"A": "flag", "B": ""})
	assert.Equal(t, map[string]string{"A": "flag", "B": "file"}, got)
}

func TestEnvironRoundTrip(t *testing.T) {
	in := map[string]string{"B": "2", "A": "x=y", "C": ""}
	lines := Environ(in)
	assert.Equal(t, []string{"A=x=y", "B=2", "C="}, lines)
	assert.Equal(t, in, FromEnviron(lines))
}

func TestCatalogCoversEveryField(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Catalog() {
		assert.False(t, names[s.Name], "duplicate %s", s.Name)
		names[s.Name] = true
		assert.NotEmpty(t, s.Description)
	}
	// Every settable variable is documented, and nothing undocumented is accepted.
	for _, tag := range envTags(t) {
		assert.True(t, names[tag], "%s is a setting but not in Catalog()", tag)
	}
	assert.Len(t, names, len(envTags(t)))
}

func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if os.IsNotExist(err) {
		t.Skip("README.md not present")
	}
	require.NoError(t, err)
	for _, s := range Catalog() {
		def := "—"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		row := "| `" + s.Name + "` | " + def + " | " + s.Description + " |"
		assert.Contains(t, string(readme), row, "README settings table must document %s with its Catalog default and meaning", s.Name)
	}
}

// The README's settings-file example for a project without --full loads as written.
func TestREADMESettingsFileExampleLoads(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if os.IsNotExist(err) {
		t.Skip("README.md not present")
	}
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "```sh\n# ci.env")
	require.True(t, ok, "README has a ci.env example block")
	block, _, _ := strings.Cut(rest, "```")
	values, err := ParseDotenv("# ci.env" + block)
	require.NoError(t, err)
	s, err := Load(context.Background(), values)
	require.NoError(t, err)
	train, err := s.TrainCommand()
	require.NoError(t, err)
	assert.NotContains(t, train.Argv("m", "x"), "--full")
	assert.Equal(t, []string{"python", "-m", "soccerpredict.pipeline.train", "--out", "m", "--model-out", "x"}, train.Argv("m", "x"))
}

func FuzzParseDotenv(f *testing.F) {
	f.Add("SP_GATE_CONCURRENCY=2\n")
	f.Add("# c\nCI_COMMIT_SHA='" + sha + "'\n")
	f.Add("export SP_RELEASE=x")
	f.Add("=\n\"")
	f.Fuzz(func(t *testing.T, content string) {
		m, err := ParseDotenv(content)
		if err != nil {
			return
		}
		// Whatever parses must only hold known settings, and loading it never panics.
		known := map[string]bool{}
		for _, s := range Catalog() {
			known[s.Name] = true
		}
		for k := range m {
			if !known[k] {
				t.Fatalf("unknown key %q accepted", k)
			}
		}
		_, _ = Load(context.Background(), m)
	})
}
