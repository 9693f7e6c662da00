// Package project knows the layout of a SoccerPredictAI repository: where the Python project
// sits in the source, its files, and the command line of every tool a gate runs.
package project

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// SampleDir is the bundled sample project, used when the source has no pyproject.toml at its root.
const SampleDir = "tests/testdata/soccerpredict"

// Files and paths inside the project.
const (
	Pyproject        = "pyproject.toml"
	PDMLock          = "pdm.lock"
	DevRequirements  = "requirements-dev.txt"
	DataRequirements = "requirements-data.txt"
	ChampionMetrics  = "metrics/champion.json"
	Dataset          = "data/raw/matches.csv"
	SmokeDataset     = "data/sample/matches_small.csv"
	ReferenceDataset = "data/raw/matches.csv"
	CurrentDataset   = "data/sample/matches_small.csv"
	ValidRequest     = "contracts/predict_valid.json"
	InvalidRequest   = "contracts/predict_invalid.json"
	GESuite          = "great_expectations/expectations/matches_suite.json"
)

// API facts used by the contract test and the chart.
const (
	APIPort      = 8000
	PredictPath  = "/predict"
	OpenAPIPath  = "/openapi.json"
	ReadinessURL = "/healthz"
)

// Resolve returns the directory of the Python project inside the source. explicit wins
// (validated: relative, inside the source); otherwise "." when the source root has a
// pyproject.toml, else the bundled sample.
func Resolve(explicit string, rootHasPyproject bool) (string, error) {
	if explicit != "" {
		clean := path.Clean(explicit)
		if path.IsAbs(explicit) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", fmt.Errorf("--project=%q must be a path relative to --source and inside it, e.g. --project=. or --project=services/ml", explicit)
		}
		return clean, nil
	}
	if rootHasPyproject {
		return ".", nil
	}
	return SampleDir, nil
}

// PDMVersion is the pinned PDM release the requirements check exports with (pinned by
// version; its wheel hash is not recorded here because it cannot be verified offline).
const PDMVersion = "2.22.3"

// PDMExport prints a service's requirements as `pdm export` resolves them from pdm.lock: the
// default dependencies and the service's group, without the dev groups (--prod).
func PDMExport(svc domain.Service) []string {
	return []string{"pdm", "export", "--prod", "--group", string(svc), "--without-hashes"}
}

func pipInstall(args ...string) []string {
	return append([]string{"pip", "install", "--no-input", "--progress-bar", "off"}, args...)
}

// PipInstall installs pinned requirements files.
func PipInstall(files ...string) []string {
	var args []string
	for _, f := range files {
		args = append(args, "-r", f)
	}
	return pipInstall(args...)
}

// RuffVersion prints the version of the ruff on PATH ("ruff X.Y.Z"), or exits 127 when there is
// none, so that a missing ruff is something the lint gate can name rather than an exec that
// cannot start.
func RuffVersion() []string {
	return []string{"sh", "-c", "command -v ruff >/dev/null 2>&1 || exit 127; exec ruff --version"}
}

// RuffInstall installs one ruff release (SP_RUFF_VERSION, for a project whose
// requirements-dev.txt does not list ruff).
func RuffInstall(version string) []string { return pipInstall("ruff==" + version) }

// RuffCheck lints with machine-readable output (the exit code says whether issues exist).
func RuffCheck() []string { return []string{"ruff", "check", "--output-format=json", "."} }

// RuffFormat checks formatting without changing files. asJSON asks for the JSON list of files
// to reformat (--output-format=json, honoured without --preview from ruff 0.16 on); otherwise
// ruff prints text.
func RuffFormat(asJSON bool) []string {
	if asJSON {
		return []string{"ruff", "format", "--check", "--output-format=json", "."}
	}
	return []string{"ruff", "format", "--check", "."}
}

// Pytest runs the test suite (Hypothesis included) writing JUnit XML and cobertura coverage.
func Pytest(reportsDir string) []string {
	return []string{
		"python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
		"--junitxml=" + path.Join(reportsDir, "junit.xml"),
		"--cov=soccerpredict", "--cov-report=xml:" + path.Join(reportsDir, "coverage.xml"),
	}
}

// GECheckpoint runs the Great Expectations suite on the dataset, writing the native result JSON.
func GECheckpoint(out string) []string {
	return []string{"python", "data_contracts/run_checkpoint.py", "--data", Dataset, "--suite", GESuite, "--out", out}
}

// DVCDry checks that the DVC pipeline resolves without running it.
func DVCDry() []string { return []string{"dvc", "repro", "--dry"} }

// Placeholders of a project command (SP_TRAIN_COMMAND, SP_SMOKE_COMMAND): the module puts the
// paths it reads back in their place.
const (
	// MetricsPlaceholder is where the command writes its metrics JSON. Required: the gates read it.
	MetricsPlaceholder = "{metrics}"
	// ModelPlaceholder is where the command saves the model. Optional: the gates do not keep it.
	ModelPlaceholder = "{model}"
)

// The bundled sample project's training commands, the defaults of SP_TRAIN_COMMAND and
// SP_SMOKE_COMMAND. `--full` trains as the DVC pipeline does (params.yaml on the full dataset),
// the run that wrote metrics/champion.json; `--smoke` trains on the reduced dataset.
const (
	DefaultTrainCommand = "python -m soccerpredict.pipeline.train --full --out {metrics} --model-out {model}"
	DefaultSmokeCommand = "python -m soccerpredict.pipeline.train --smoke --out {metrics} --model-out {model}"
)

// Command is a project's own command line, from a setting: the module runs its words without a
// shell, with the placeholders replaced.
type Command struct {
	// Setting names the setting the command came from: where to fix it.
	Setting string
	words   []string
}

var placeholder = regexp.MustCompile(`\{[A-Za-z_][A-Za-z0-9_-]*\}`)

// ParseCommand splits line into words (see Split) and checks that the module can run it: a
// program first (not a variable assignment, which needs a shell), MetricsPlaceholder somewhere,
// and no placeholder but MetricsPlaceholder and ModelPlaceholder.
func ParseCommand(setting, line string) (Command, error) {
	words, err := Split(line)
	if err != nil {
		return Command{}, err
	}
	if len(words) == 0 {
		return Command{}, fmt.Errorf("is empty: set it to the project's command, with %s where it writes its metrics JSON", MetricsPlaceholder)
	}
	if name, _, ok := strings.Cut(words[0], "="); ok && name != "" && !strings.ContainsAny(name, "/{") {
		return Command{}, fmt.Errorf("starts with the variable assignment %q, which needs a shell: write `env %s`", words[0], Command{words: words}.String())
	}
	if placeholder.MatchString(words[0]) {
		return Command{}, fmt.Errorf("starts with the placeholder %s: start it with the program to run, e.g. python", placeholder.FindString(words[0]))
	}
	metrics := false
	for _, w := range words {
		for _, p := range placeholder.FindAllString(w, -1) {
			switch p {
			case MetricsPlaceholder:
				metrics = true
			case ModelPlaceholder:
			default:
				return Command{}, fmt.Errorf("has the unknown placeholder %s: the module fills %s (the metrics JSON it reads back) and %s (where to save the model)", p, MetricsPlaceholder, ModelPlaceholder)
			}
		}
	}
	if !metrics {
		return Command{}, fmt.Errorf("has no %s: the module reads the metrics JSON back from the path it puts there; add it where the command takes its metrics output, e.g. `--out %s`", MetricsPlaceholder, MetricsPlaceholder)
	}
	return Command{Setting: setting, words: words}, nil
}

// Argv is the command to run: its words with the placeholders replaced by the paths.
func (c Command) Argv(metrics, model string) []string {
	r := strings.NewReplacer(MetricsPlaceholder, metrics, ModelPlaceholder, model)
	out := make([]string, len(c.words))
	for i, w := range c.words {
		out[i] = r.Replace(w)
	}
	return out
}

// Rendered is the command line for a reader with MetricsPlaceholder replaced by metrics (e.g.
// how to write metrics/champion.json), any ModelPlaceholder left as it is.
func (c Command) Rendered(metrics string) string {
	return Command{words: c.Argv(metrics, ModelPlaceholder)}.String()
}

// String is the command line as configured, quoted as Split reads it, placeholders left bare.
func (c Command) String() string {
	q := make([]string, len(c.words))
	for i, w := range c.words {
		q[i] = Quote(w)
		if bare := placeholder.ReplaceAllString(w, "x"); Quote(bare) == bare {
			q[i] = w
		}
	}
	return strings.Join(q, " ")
}

// Drift compares the current sample with the reference (training) dataset and writes the
// drift JSON.
func Drift(out string) []string {
	return []string{"python", "monitoring/drift.py", "--reference", ReferenceDataset, "--current", CurrentDataset, "--out", out}
}

// ContractProbe is the shell script the API contract test runs in a curl container against
// the API service bound as host `api`. It records status codes and bodies under outDir.
func ContractProbe(outDir string) []string {
	base := "http://api:" + strconv.Itoa(APIPort)
	script := strings.Join([]string{
		"set -eu",
		"mkdir -p " + outDir,
		// Readiness first: the service may take a moment to import the model.
		"i=0; until curl -fsS " + base + ReadinessURL + " >/dev/null; do i=$((i+1)); [ $i -lt 60 ] || { echo 'API never became ready on " + ReadinessURL + "' >&2; exit 1; }; sleep 1; done",
		"curl -sS -o " + outDir + "/openapi.json " + base + OpenAPIPath,
		"curl -sS -o " + outDir + "/valid.body -w '%{http_code}' -H 'Content-Type: application/json' --data @/contracts/valid.json " + base + PredictPath + " > " + outDir + "/valid.status",
		"curl -sS -o " + outDir + "/invalid.body -w '%{http_code}' -H 'Content-Type: application/json' --data @/contracts/invalid.json " + base + PredictPath + " > " + outDir + "/invalid.status",
	}, "\n")
	return []string{"sh", "-c", script}
}
