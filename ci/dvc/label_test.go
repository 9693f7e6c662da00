package dvc_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
)

// Every dataset version DatasetVersion computes is a value the image labels and the trace record
// accept (ci/trace's version rule).
func FuzzDatasetVersionIsALabelValue(f *testing.F) {
	b, err := os.ReadFile("testdata/dvc.lock")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "data/raw")
	f.Add(b, "")
	f.Add([]byte("schema: '2.0'\nstages:\n  s:\n    outs:\n    - path: a\n      md5: 33333333333333333333333333333333.dir\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, datasetPath string) {
		lock, err := dvc.ParseDVCLock(data)
		if err != nil {
			return
		}
		v, err := dvc.DatasetVersion(lock, datasetPath)
		if err != nil {
			return
		}
		_, err = trace.Labels(trace.Info{Revision: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", Source: "https://gitlab.com/soccerpredictai/pipeline", Created: "2025-03-01T10:00:00Z", Version: "v1.4.0", Title: "soccer-predict-api", DatasetVersion: v, DatasetPointer: dvc.LockFile})
		require.NoError(t, err, "a dataset version is always a valid label value")
	})
}

func TestValidatePointer(t *testing.T) {
	for _, ok := range []string{"dvc.lock", "data/raw/matches.csv.dvc", "data/raw.dvc"} {
		require.NoError(t, dvc.ValidatePointer(ok), ok)
	}
	for _, bad := range []string{"/abs/x.dvc", "../x.dvc", "data/../../x.dvc", "./x.dvc", "data//x.dvc", "x.csv", ".dvc", "data/.dvc", "dvc.lock.bak", "a b.dvc", "data/raw/matches.csv.dvc\n", "DVC.LOCK"} {
		err := dvc.ValidatePointer(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "e.g. data/raw/matches.csv.dvc")
	}
}
