// Package dvc knows the DVC pointer files of a project: which git pathspecs name them, and how
// the output of `git diff --no-renames --name-status <rev> --` (rev → work tree) splits into the
// files to restore from rev and the files to delete.
//
// It also reads dvc.lock and .dvc files (dvclock.go, dvcfile.go)
// to compute the dataset version stamped on images.
//
// Dataset version. When the dataset is tracked with `dvc add` (data/raw/matches.csv.dvc, or a
// .dvc file of an enclosing directory), the version is the md5 of that pointer file,
// "md5:<hex>"; a dvc.lock that records the same path must agree. Otherwise it comes from
// dvc.lock (ProjectDataset, ResolveDataset). With a dataset path (the raw dataset tracked by DVC, e.g.
// "data/raw"), the version is the md5 DVC recorded for that path in dvc.lock, written
// "md5:<hex>" (or "md5:<hex>.dir" for a directory): the same value `dvc status` and the
// DVC remote use, so it can be looked up directly. Without a dataset path, the version is
// "sha256:<hex>" of every stage output: the lines "<path> <md5>\n" sorted by path, which
// changes whenever any tracked output changes. The dataset path is preferred because it
// does not move when only the model is retrained.
//
// It depends on the standard library and gopkg.in/yaml.v3 only, so the Dagger module can import it.
package dvc

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// LockFile is the name of the file that pins the outputs of a DVC pipeline.
const LockFile = "dvc.lock"

// PointerPathspecs returns the git pathspecs of the DVC pointer files of the project in the
// directory project (relative to the repository root, "." for the root): its dvc.lock and every
// *.dvc file below it.
func PointerPathspecs(project string) []string {
	return []string{path.Join(project, LockFile), ":(glob)" + path.Join(project, "**", "*.dvc")}
}

// ParseNameStatus reads the output of `git diff --no-renames --name-status <rev> --` (rev → work
// tree), one "<status>\t<path>" line a file, and splits it, in the order git listed them, into
// the files to restore from rev (M modified, D deleted or T type changed since rev) and the files
// to delete (A added since rev). Empty lines are skipped; git's C-quoted paths ("...") are
// unquoted.
//
// Anything else is an error naming the line, and nothing is returned: another status (R and C
// cannot appear with --no-renames), a line without a tab, a NUL byte (output of -z), and a path
// that is empty, absolute, not clean, has a ".." component, holds a control character, appears
// twice or that git would read as a pattern (a leading ':' or one of * ? [ \), since the paths
// are handed to git restore as pathspecs.
func ParseNameStatus(out string) (restore, remove []string, err error) {
	seen := map[string]bool{}
	for i, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		file, deleteIt, err := parseLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("git diff --name-status line %d %q: %w", i+1, line, err)
		}
		if seen[file] {
			return nil, nil, fmt.Errorf("git diff --name-status line %d %q: %s is listed twice: pass the output of a single git diff --no-renames --name-status", i+1, line, file)
		}
		seen[file] = true
		if deleteIt {
			remove = append(remove, file)
		} else {
			restore = append(restore, file)
		}
	}
	return restore, remove, nil
}

// parseLine reads one "<status>\t<path>" line: the path, and whether it is to be deleted.
func parseLine(line string) (file string, deleteIt bool, err error) {
	if strings.ContainsRune(line, 0) {
		return "", false, fmt.Errorf("holds a NUL byte: run git diff without -z")
	}
	status, file, ok := strings.Cut(line, "\t")
	if !ok {
		return "", false, fmt.Errorf("has no tab between status and path: pass the output of git diff --no-renames --name-status")
	}
	switch status {
	case "A":
		deleteIt = true
	case "M", "D", "T":
	default:
		if status != "" && (status[0] == 'R' || status[0] == 'C') {
			return "", false, fmt.Errorf("status %q is a rename or copy, which git reports only without --no-renames: run git diff --no-renames --name-status", status)
		}
		return "", false, fmt.Errorf("unknown status %q: expected A, M, D or T from git diff --no-renames --name-status (resolve any merge conflict first)", status)
	}
	if strings.HasPrefix(file, `"`) {
		unquoted, err := strconv.Unquote(file)
		if err != nil {
			return "", false, fmt.Errorf("path %s is not a C-quoted string as git writes it", file)
		}
		file = unquoted
	}
	if err := checkPath(file); err != nil {
		return "", false, err
	}
	return file, deleteIt, nil
}

// checkPath accepts a clean path relative to the repository root that git restore reads
// literally.
func checkPath(file string) error {
	switch {
	case file == "":
		return fmt.Errorf("has no path after the status")
	case strings.ContainsRune(file, 0):
		return fmt.Errorf("path holds a NUL byte: run git diff without -z")
	case path.IsAbs(file):
		return fmt.Errorf("path %q is absolute: git names paths relative to the repository root", file)
	case file == ".." || strings.HasPrefix(file, "../") || strings.HasSuffix(file, "/..") || strings.Contains(file, "/../"):
		return fmt.Errorf("path %q has a .. component: it would leave the repository", file)
	case path.Clean(file) != file || file == ".":
		return fmt.Errorf("path %q is not a clean file path (%q): git names files without ./, // or a trailing /", file, path.Clean(file))
	case strings.HasPrefix(file, ":") || strings.ContainsAny(file, `*?[\`):
		return fmt.Errorf("path %q would be read as a pathspec pattern (: * ? [ \\): rename the file", file)
	}
	for _, c := range []byte(file) {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("path %q holds a control character: rename the file", file)
		}
	}
	return nil
}
