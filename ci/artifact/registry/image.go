package registry

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ErrBadTarball: an image tarball is not a single-image OCI layout archive.
var ErrBadTarball = errors.New("not a single-image OCI layout tarball")

// ReadImageTarball reads the OCI image-layout archive Dagger's Container.asTarball writes
// (index.json, oci-layout, blobs/sha256/…) holding exactly one image manifest. The image
// keeps the archive's bytes: its digest is the manifest digest recorded in index.json.
// dir is a scratch directory the archive is unpacked into (it must exist and be empty).
func ReadImageTarball(tarPath, dir string) (v1.Image, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, newError(ErrBadTarball, err, "open image tarball: %v", err)
	}
	defer f.Close()
	if err := untar(f, dir); err != nil {
		return nil, newError(ErrBadTarball, err, "image tarball %s: %v: pass the file `build … as-tarball` (OCI layout) returns", tarPath, err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, newError(ErrBadTarball, err, "image tarball %s has no OCI index.json: %v: pass the file `build … as-tarball` returns", tarPath, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, newError(ErrBadTarball, err, "image tarball %s: %v", tarPath, err)
	}
	if len(im.Manifests) != 1 || !im.Manifests[0].MediaType.IsImage() {
		return nil, newError(ErrBadTarball, nil, "image tarball %s holds %d manifests: want exactly one single-platform image", tarPath, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return nil, newError(ErrBadTarball, err, "image tarball %s: %v", tarPath, err)
	}
	return img, nil
}

// untar unpacks regular files and directories only, refusing absolute paths, "..",
// links and devices: the archive comes from a build and is not trusted with the filesystem.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		clean := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if clean == "." {
			continue
		}
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("entry %q escapes the archive", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q is not a regular file or directory", h.Name)
		}
	}
}

// Normalize makes every timestamp in the image a function of the commit time created:
//
//   - the config's `created` and each history entry's `created` become created (Dagger v0.21.8
//     fills them from the engine's snapshot creation times: when this engine first built each
//     layer);
//   - in a layer holding an entry whose mtime is after created (files a build step wrote, or
//     COPY'd from a fresh checkout), every such mtime is clamped to created, access and change
//     times are dropped, and the layer is recompressed with gzip; that is BuildKit's
//     rewrite-timestamp rule, which Dagger v0.21.8 does not turn on. Layers with no such entry
//     (base image layers older than the commit) keep their blobs byte for byte.
//
// scratch is a directory for the rewritten layers; they must outlive the returned image.
// The result depends only on the input image's content and created.
func Normalize(img v1.Image, created time.Time, scratch string) (v1.Image, error) {
	if created.IsZero() || created.Before(time.Unix(0, 0)) {
		return nil, fmt.Errorf("normalize: the commit time %s is not a valid image timestamp: pass --commit-time=$CI_COMMIT_TIMESTAMP", created)
	}
	t := created.UTC().Truncate(time.Second)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("normalize: read image config: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("normalize: read manifest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("normalize: read layers: %w", err)
	}
	out := mutate.ConfigMediaType(mutate.MediaType(empty.Image, m.MediaType), m.Config.MediaType)
	var diffIDs []v1.Hash
	for i, l := range layers {
		nl, err := clampLayer(l, t, filepath.Join(scratch, fmt.Sprintf("layer-%d.tar", i)))
		if err != nil {
			return nil, fmt.Errorf("normalize: layer %d: %w", i, err)
		}
		d, err := nl.DiffID()
		if err != nil {
			return nil, fmt.Errorf("normalize: layer %d: %w", i, err)
		}
		diffIDs = append(diffIDs, d)
		if out, err = mutate.AppendLayers(out, nl); err != nil {
			return nil, fmt.Errorf("normalize: %w", err)
		}
	}
	cfg := cf.DeepCopy()
	cfg.RootFS.DiffIDs = diffIDs
	cfg.Created = v1.Time{Time: t}
	for i := range cfg.History {
		cfg.History[i].Created = v1.Time{Time: t}
	}
	if out, err = mutate.ConfigFile(out, cfg); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	if len(m.Annotations) > 0 {
		out = mutate.Annotations(out, m.Annotations).(v1.Image)
	}
	return out, nil
}

// clampLayer returns l itself when none of its entries is newer than t, else the layer with
// those mtimes clamped to t (written uncompressed to path, gzip-compressed on read).
func clampLayer(l v1.Layer, t time.Time, path string) (v1.Layer, error) {
	newer := false
	if err := eachEntry(l, func(h *tar.Header, _ io.Reader) error {
		if h.ModTime.After(t) {
			newer = true
			return errStop
		}
		return nil
	}); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if !newer {
		return l, nil
	}
	mt, err := l.MediaType()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(f)
	err = eachEntry(l, func(h *tar.Header, body io.Reader) error {
		if h.ModTime.After(t) {
			h.ModTime = t
		}
		h.AccessTime, h.ChangeTime = time.Time{}, time.Time{}
		for _, k := range []string{"mtime", "atime", "ctime"} {
			delete(h.PAXRecords, k)
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := io.Copy(tw, body)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromFile(path, tarball.WithMediaType(mt))
}

var errStop = errors.New("stop")

// eachEntry calls fn on every entry of the layer's uncompressed tar stream.
func eachEntry(l v1.Layer, fn func(*tar.Header, io.Reader) error) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

// WriteImageTarball writes img as an OCI image-layout archive with one manifest, the form
// ReadImageTarball and Trivy's `--input` read. The archive is deterministic: entries sorted,
// owner root, fixed modes, every mtime set to mtime.
func WriteImageTarball(img v1.Image, tarPath, scratch string, mtime time.Time) error {
	p, err := layout.Write(scratch, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	// Also a docker-archive manifest.json (as containerd's exporter, hence Dagger's asTarball,
	// writes): Trivy's `--input` opens a tar as a docker archive first.
	dm, err := dockerManifest(img)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(scratch, "manifest.json"), dm, 0o644); err != nil {
		return err
	}
	return tarDir(scratch, tarPath, mtime)
}

// dockerManifest is the docker-archive manifest.json of img, pointing into blobs/sha256/.
func dockerManifest(img v1.Image) ([]byte, error) {
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	cfg, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	entry := tarball.Descriptor{Config: blob(cfg), RepoTags: []string{}}
	for _, l := range m.Layers {
		entry.Layers = append(entry.Layers, blob(l.Digest))
	}
	return json.Marshal(tarball.Manifest{entry})
}

// tarDir archives dir deterministically: entries sorted, owner root, fixed modes, every
// mtime set to mtime.
func tarDir(scratch, tarPath string, mtime time.Time) error {
	var files []string
	if err := filepath.WalkDir(scratch, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != scratch {
			files = append(files, p)
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(files)
	out, err := os.Create(tarPath)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	mt := mtime.UTC().Truncate(time.Second)
	for _, f := range files {
		rel, err := filepath.Rel(scratch, f)
		if err != nil {
			out.Close()
			return err
		}
		st, err := os.Stat(f)
		if err != nil {
			out.Close()
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mt, Format: tar.FormatPAX}
		if st.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		} else {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, st.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			out.Close()
			return err
		}
		if !st.IsDir() {
			in, err := os.Open(f)
			if err != nil {
				out.Close()
				return err
			}
			_, err = io.Copy(tw, in)
			in.Close()
			if err != nil {
				out.Close()
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
