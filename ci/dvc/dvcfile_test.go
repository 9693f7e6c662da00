package dvc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleDataset = "data/raw/matches.csv"

// dirReader reads project files from a directory on disk, as the module reads them from the
// project directory.
func dirReader(t *testing.T, dir string) ReadFunc {
	return func(name string) ([]byte, bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return b, err == nil, err
	}
}

func TestProjectDatasetOfBothShapes(t *testing.T) {
	cases := []struct {
		project string
		want    Dataset
	}{
		// dvc add data/raw/matches.csv, no dvc.lock at all.
		{"dvc-add", Dataset{Version: "md5:728b492a238a6a598afb0e51d7bac1c4", Pointer: "data/raw/matches.csv.dvc"}},
		// dvc add data/raw (a directory, DVC 2 format); dvc.lock lists no stage outputs.
		{"dvc-add-dir", Dataset{Version: "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir", Pointer: "data/raw.dvc"}},
		// No .dvc file: the md5 dvc.lock records for the dataset.
		{"pipeline", Dataset{Version: "md5:728b492a238a6a598afb0e51d7bac1c4", Pointer: "dvc.lock"}},
		// Both, agreeing: the .dvc file is the pointer.
		{"both", Dataset{Version: "md5:728b492a238a6a598afb0e51d7bac1c4", Pointer: "data/raw/matches.csv.dvc"}},
	}
	for _, c := range cases {
		t.Run(c.project, func(t *testing.T) {
			got, err := ProjectDataset(sampleDataset, dirReader(t, filepath.Join("testdata", "projects", c.project)))
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestProjectDatasetOfTheSampleProject(t *testing.T) {
	// The bundled sample has both pointers and they agree, and the md5 is the data's.
	got, err := ProjectDataset(sampleDataset, dirReader(t, filepath.Join("..", "..", "tests", "testdata", "soccerpredict")))
	require.NoError(t, err)
	assert.Equal(t, Dataset{Version: "md5:728b492a238a6a598afb0e51d7bac1c4", Pointer: "data/raw/matches.csv.dvc"}, got)
}

func TestProjectDatasetRefusals(t *testing.T) {
	t.Run("stale dvc.lock", func(t *testing.T) {
		_, err := ProjectDataset(sampleDataset, dirReader(t, "testdata/projects/stale"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "dvc.lock records md5:728b492a238a6a598afb0e51d7bac1c4 for data/raw/matches.csv but data/raw/matches.csv.dvc says md5:99999999999999999999999999999999")
		assert.Contains(t, err.Error(), "run `dvc repro` and commit dvc.lock")
	})
	t.Run("pointer tracks another file", func(t *testing.T) {
		_, err := ProjectDataset(sampleDataset, dirReader(t, "testdata/projects/other-file"))
		assert.ErrorContains(t, err, "data/raw/matches.csv.dvc tracks data/raw/odds.csv, not the dataset data/raw/matches.csv: track the dataset with `dvc add data/raw/matches.csv`")
	})
	t.Run("neither pointer", func(t *testing.T) {
		got, err := ProjectDataset(sampleDataset, dirReader(t, t.TempDir()))
		require.NoError(t, err)
		assert.Equal(t, Dataset{}, got, "no DVC pointer: no version (deploy then says what is missing)")
	})
	t.Run("dvc.lock without the dataset and no .dvc", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dvc.lock"), []byte("schema: '2.0'\nstages: {}\n"), 0o644))
		_, err := ProjectDataset(sampleDataset, dirReader(t, dir))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "dvc.lock has no md5 for data/raw/matches.csv")
		assert.Contains(t, err.Error(), "`dvc add data/raw/matches.csv` and commit data/raw/matches.csv.dvc")
	})
	t.Run("read error", func(t *testing.T) {
		_, err := ProjectDataset(sampleDataset, func(string) ([]byte, bool, error) { return nil, false, errors.New("engine down") })
		assert.ErrorContains(t, err, "read data/raw/matches.csv.dvc: engine down")
	})
	t.Run("empty dvc.lock is a parse error, not absent", func(t *testing.T) {
		_, err := ProjectDataset(sampleDataset, func(name string) ([]byte, bool, error) { return nil, name == "dvc.lock", nil })
		assert.ErrorContains(t, err, "dvc.lock is empty")
	})
}

func TestDatasetPointerFiles(t *testing.T) {
	assert.Equal(t, []string{"data/raw/matches.csv.dvc", "data/raw.dvc", "data.dvc"}, DatasetPointerFiles("data/raw/matches.csv"))
	assert.Equal(t, []string{"data/raw/matches.csv.dvc", "data/raw.dvc", "data.dvc"}, DatasetPointerFiles("./data/raw/matches.csv"))
	assert.Equal(t, []string{"matches.csv.dvc"}, DatasetPointerFiles("matches.csv"))
}

func TestParseDVCFile(t *testing.T) {
	// DVC 2 (no hash field), DVC 3 (hash: md5), a directory, extra fields DVC writes.
	for _, c := range []struct{ doc, path, md5 string }{
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  size: 186693\n  path: matches.csv\n", "matches.csv", "728b492a238a6a598afb0e51d7bac1c4"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  size: 186693\n  hash: md5\n  path: matches.csv\n", "matches.csv", "728b492a238a6a598afb0e51d7bac1c4"},
		{"outs:\n- md5: 0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir\n  size: 10\n  nfiles: 2\n  hash: md5\n  path: raw\n", "raw", "0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir"},
		{"md5: 11111111111111111111111111111111\nfrozen: true\nmeta: {owner: data}\nouts:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: ./matches.csv\n  desc: raw matches\n  cache: true\n  isexec: false\n", "matches.csv", "728b492a238a6a598afb0e51d7bac1c4"},
		{"wdir: .\nouts:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: sub/matches.csv\n", "sub/matches.csv", "728b492a238a6a598afb0e51d7bac1c4"},
	} {
		f, err := ParseDVCFile("x.dvc", []byte(c.doc))
		require.NoError(t, err, c.doc)
		assert.Equal(t, c.path, f.Out.Path)
		assert.Equal(t, c.md5, f.Out.MD5)
	}
}

func TestParseDVCFileErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"", "is empty"},
		{"  \n", "is empty"},
		{"- a\n- b\n", "not valid YAML of the expected shape"},
		{"outs: 3\n", "not valid YAML of the expected shape"},
		{"outs: []\n", "tracks 0 outputs, expected exactly one"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: a\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: b\n", "tracks 2 outputs"},
		{"outs:\n- path: matches.csv\n  size: 3\n", `output "matches.csv" has no md5`},
		{"outs:\n- md5: 728B492A238A6A598AFB0E51D7BAC1C4\n  path: matches.csv\n", "32 lowercase hex"},
		{"outs:\n- etag: abc\n  hash: etag\n  path: matches.csv\n", `hashed with "etag", expected md5`},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n", "has no path"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: ../matches.csv\n", "outside its directory"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: /data/matches.csv\n", "outside its directory"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: s3://bucket/matches.csv\n", "outside its directory"},
		{"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: matches.csv\n  size: -1\n", "negative size"},
		{"wdir: ..\nouts:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: matches.csv\n", `sets wdir ".."`},
		{"deps:\n- path: https://example.org/m.csv\n  etag: x\nouts:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: matches.csv\n", "`dvc import` file"},
	} {
		_, err := ParseDVCFile("data/raw/matches.csv.dvc", []byte(c.doc))
		require.Error(t, err, c.doc)
		assert.Contains(t, err.Error(), c.want, c.doc)
		assert.Contains(t, err.Error(), "data/raw/matches.csv", c.doc)
		assert.True(t, strings.Contains(err.Error(), "dvc add") || strings.Contains(err.Error(), "dvc import"), "the error says how to fix it: %v", err)
	}
}

func TestResolveDatasetDirectoryPointer(t *testing.T) {
	dir := []byte("outs:\n- md5: 0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir\n  path: raw\n")
	d, err := ResolveDataset("data/raw/matches.csv", "data/raw.dvc", dir, nil)
	require.NoError(t, err)
	assert.Equal(t, Dataset{Version: "md5:0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir", Pointer: "data/raw.dvc"}, d)

	// A file pointer cannot hold the dataset.
	file := []byte("outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: raw\n")
	_, err = ResolveDataset("data/raw/matches.csv", "data/raw.dvc", file, nil)
	assert.ErrorContains(t, err, "tracks data/raw as a file")

	// A directory pointer and a dvc.lock that records the directory with another md5.
	lock := []byte("schema: '2.0'\nstages:\n  prepare:\n    cmd: x\n    deps:\n    - path: data/raw\n      md5: 66666666666666666666666666666666.dir\n")
	_, err = ResolveDataset("data/raw/matches.csv", "data/raw.dvc", dir, lock)
	assert.ErrorContains(t, err, "the pipeline last ran on other data")

	_, err = ResolveDataset("", "", nil, nil)
	assert.ErrorContains(t, err, "dataset path")
}

func FuzzParseDVCFile(f *testing.F) {
	for _, seed := range []string{
		"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  size: 186693\n  hash: md5\n  path: matches.csv\n",
		"outs:\n- md5: 0f1e2d3c4b5a69788796a5b4c3d2e1f0.dir\n  nfiles: 2\n  path: raw\n",
		"outs:\n- md5: 728b492a238a6a598afb0e51d7bac1c4\n  path: ../x\n",
		"wdir: ..\nouts: []\n",
		"deps: [{path: a}]\n",
		"outs: {}\n",
		"",
		"\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDVCFile("data/raw/matches.csv.dvc", data)
		if err != nil {
			return
		}
		// Whatever is accepted is one md5 and one relative path inside the directory.
		if !md5Pattern.MatchString(d.Out.MD5) {
			t.Fatalf("accepted md5 %q", d.Out.MD5)
		}
		if d.Out.Path == "" || strings.HasPrefix(d.Out.Path, "/") || strings.HasPrefix(d.Out.Path, "../") || d.Out.Path == ".." || strings.Contains(d.Out.Path, "://") {
			t.Fatalf("accepted path %q", d.Out.Path)
		}
		v, err := ResolveDataset("data/raw/"+d.Out.Path, "data/raw/matches.csv.dvc", data, nil)
		if err == nil && v.Version != "md5:"+d.Out.MD5 {
			t.Fatalf("version %q from md5 %q", v.Version, d.Out.MD5)
		}
	})
}
