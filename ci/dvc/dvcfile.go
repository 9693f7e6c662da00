package dvc

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// DVCFileExt is the extension of the pointer file `dvc add <path>` writes next to <path>.
const DVCFileExt = ".dvc"

// DVCFile is the part of a .dvc pointer file (written by `dvc add`) this package uses.
type DVCFile struct {
	// Out is the one tracked output. Its Path is relative to the directory of the .dvc
	// file, "/"-separated and cleaned, never leaving that directory.
	Out Entry
}

type rawDVCFile struct {
	Outs []rawEntry `yaml:"outs"`
	Deps []rawEntry `yaml:"deps"`
	Wdir *string    `yaml:"wdir"`
}

// ParseDVCFile parses a .dvc pointer file as `dvc add` writes it (DVC 2 and 3):
//
//	outs:
//	- md5: 728b492a238a6a598afb0e51d7bac1c4
//	  size: 186693
//	  hash: md5        # DVC 3 only
//	  path: matches.csv
//
// It must track exactly one output with an md5 ("<32 hex>", or "<32 hex>.dir" for a
// directory) and a relative path inside the file's directory. Files of `dvc import` /
// `dvc import-url` (with deps) and a wdir other than "." are refused: their data version
// is the source's, not a local md5.
func ParseDVCFile(name string, data []byte) (DVCFile, error) {
	fix := fmt.Sprintf("re-create it with `dvc add %s` (DVC 2 or later) and commit it", strings.TrimSuffix(name, DVCFileExt))
	if len(bytes.TrimSpace(data)) == 0 {
		return DVCFile{}, fmt.Errorf("%s is empty: %s", name, fix)
	}
	var raw rawDVCFile
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return DVCFile{}, fmt.Errorf("%s is not valid YAML of the expected shape (%v): %s", name, err, fix)
	}
	if raw.Wdir != nil && path.Clean(*raw.Wdir) != "." {
		return DVCFile{}, fmt.Errorf("%s sets wdir %q: only pointer files written by `dvc add` (no wdir) are read; %s", name, *raw.Wdir, fix)
	}
	if len(raw.Deps) > 0 {
		return DVCFile{}, fmt.Errorf("%s has deps (a `dvc import` file): the dataset must be tracked with `dvc add`, whose md5 is the data's own", name)
	}
	if len(raw.Outs) != 1 {
		return DVCFile{}, fmt.Errorf("%s tracks %d outputs, expected exactly one (outs: - md5: …, path: …): %s", name, len(raw.Outs), fix)
	}
	e, err := convertEntry(raw.Outs[0], true)
	if err != nil {
		return DVCFile{}, fmt.Errorf("%s outs[0]: %w: %s", name, err, fix)
	}
	if strings.Contains(e.Path, "://") || path.IsAbs(e.Path) || e.Path == ".." || strings.HasPrefix(e.Path, "../") {
		return DVCFile{}, fmt.Errorf("%s tracks %q, outside its directory: %s", name, e.Path, fix)
	}
	return DVCFile{Out: e}, nil
}

// DatasetPointerFiles returns, most specific first, the .dvc files that can track the dataset
// at datasetPath (relative to the project): "<datasetPath>.dvc" (`dvc add data/raw/matches.csv`),
// then one for each enclosing directory ("data/raw.dvc", "data.dvc": `dvc add data/raw`).
func DatasetPointerFiles(datasetPath string) []string {
	p := path.Clean(datasetPath)
	var out []string
	for p != "." && p != "/" && p != "" {
		out = append(out, p+DVCFileExt)
		p = path.Dir(p)
	}
	return out
}

// Dataset is the version of the dataset the model was trained on and where it was read.
type Dataset struct {
	// Version is "md5:<32 hex>" ("md5:<32 hex>.dir" for a directory): the md5 DVC recorded,
	// the value `dvc status` and the DVC remote use.
	Version string
	// Pointer is the file the version was read from, relative to the project: the dataset's
	// .dvc file (e.g. "data/raw/matches.csv.dvc") or "dvc.lock".
	Pointer string
}

// ResolveDataset returns the version of the dataset at datasetPath (relative to the project,
// e.g. "data/raw/matches.csv").
//
// pointerName/pointer are the dataset's .dvc file, when the project has one (the first of
// DatasetPointerFiles that exists; empty name when none): the version is its md5, and the file
// must track datasetPath or a directory holding it. lock is dvc.lock (nil when there is none):
// without a .dvc file, the version is the md5 its stages record for datasetPath (see
// DatasetVersion). With both, a dvc.lock that records datasetPath must agree with the .dvc file
// (otherwise the pipeline was last run on other data). With neither, the version is empty.
func ResolveDataset(datasetPath, pointerName string, pointer, lock []byte) (Dataset, error) {
	want, err := cleanPath(datasetPath)
	if err != nil {
		return Dataset{}, fmt.Errorf("dataset path: %w: set the DVC-tracked raw data path, e.g. data/raw/matches.csv", err)
	}
	var parsedLock *DVCLock
	if lock != nil {
		l, err := ParseDVCLock(lock)
		if err != nil {
			return Dataset{}, err
		}
		parsedLock = &l
	}
	if pointerName == "" {
		if parsedLock == nil {
			return Dataset{}, nil
		}
		v, err := DatasetVersion(*parsedLock, want)
		if err != nil {
			return Dataset{}, fmt.Errorf("%w; or track the dataset with `dvc add %s` and commit %s%s", err, want, want, DVCFileExt)
		}
		return Dataset{Version: v, Pointer: LockFile}, nil
	}
	f, err := ParseDVCFile(pointerName, pointer)
	if err != nil {
		return Dataset{}, err
	}
	tracked := path.Join(path.Dir(pointerName), f.Out.Path)
	if tracked != want && !strings.HasPrefix(want, tracked+"/") {
		return Dataset{}, fmt.Errorf("%s tracks %s, not the dataset %s: track the dataset with `dvc add %s`", pointerName, tracked, want, want)
	}
	if tracked != want && !strings.HasSuffix(f.Out.MD5, ".dir") {
		return Dataset{}, fmt.Errorf("%s tracks %s as a file, but the dataset %s is inside it: fix the dataset path or re-run `dvc add %s`", pointerName, tracked, want, tracked)
	}
	version := "md5:" + f.Out.MD5
	if parsedLock != nil {
		if lv, err := pathVersion(*parsedLock, tracked); err == nil && lv != version {
			return Dataset{}, fmt.Errorf("dvc.lock records %s for %s but %s says %s: the pipeline last ran on other data; run `dvc repro` and commit dvc.lock (or restore %s)",
				lv, tracked, pointerName, version, pointerName)
		}
	}
	return Dataset{Version: version, Pointer: pointerName}, nil
}

// ReadFunc reads a project file by its path relative to the project; ok is false when the
// file does not exist.
type ReadFunc func(name string) (data []byte, ok bool, err error)

// ProjectDataset resolves the dataset version of a project (see ResolveDataset): it reads
// the first of DatasetPointerFiles(datasetPath) that exists, and dvc.lock, with read.
func ProjectDataset(datasetPath string, read ReadFunc) (Dataset, error) {
	var pointerName string
	var pointer []byte
	for _, name := range DatasetPointerFiles(datasetPath) {
		data, ok, err := read(name)
		if err != nil {
			return Dataset{}, fmt.Errorf("read %s: %w", name, err)
		}
		if ok {
			pointerName, pointer = name, data
			break
		}
	}
	lock, ok, err := read(LockFile)
	if err != nil {
		return Dataset{}, fmt.Errorf("read dvc.lock: %w", err)
	}
	if !ok {
		lock = nil
	} else if lock == nil {
		lock = []byte{}
	}
	return ResolveDataset(datasetPath, pointerName, pointer, lock)
}

// maxPointerLength bounds a dataset pointer's path.
const maxPointerLength = 256

// ValidatePointer checks the name of the DVC file a dataset version was read from (the trace
// record's dataset pointer):
// "dvc.lock" or a clean relative path ending in ".dvc" (e.g. data/raw/matches.csv.dvc).
func ValidatePointer(p string) error {
	clean := p == path.Clean(p) && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../") && len(p) <= maxPointerLength
	for _, c := range p {
		if c <= ' ' || c == 0x7f || c > '~' {
			clean = false
		}
	}
	if !clean || (p != LockFile && (!strings.HasSuffix(p, DVCFileExt) || p == DVCFileExt || strings.HasSuffix(p, "/"+DVCFileExt))) {
		return fmt.Errorf("dataset pointer %q is neither dvc.lock nor a project-relative .dvc file: it names the DVC file the dataset version was read from, e.g. data/raw/matches.csv.dvc", p)
	}
	return nil
}
