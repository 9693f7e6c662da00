// Package project knows the layout of a SoccerPredictAI repository: where the Python project
// sits in the source, its files, and the command line of every tool a gate runs.
package project

import (
	"fmt"
	"path"
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

// Smoke trains on the reduced dataset and writes the candidate metrics.
func Smoke(metricsOut, modelOut string) []string {
	return []string{"python", "-m", "soccerpredict.pipeline.train", "--smoke", "--out", metricsOut, "--model-out", modelOut}
}

// FullTrain is the real training run of the DVC pipeline (params.yaml on the full dataset), the
// same command that writes metrics/champion.json: the model gate's candidate.
func FullTrain(metricsOut, modelOut string) []string {
	return []string{"python", "-m", "soccerpredict.pipeline.train", "--full", "--out", metricsOut, "--model-out", modelOut}
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
