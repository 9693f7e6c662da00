package main

import (
	"context"
	"fmt"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

const (
	docsDir    = "/docs"
	siteOutDir = "/out"
	mkdocsYML  = "mkdocs.yml"
)

// Docs builds the documentation site from the repository's mkdocs.yml and docs/ with MkDocs
// (Material theme) in strict mode: a broken link or a page missing from the configuration
// fails the build. It returns the site, ready for GitLab Pages: `docs export --path=public`.
func (m *SoccerPredict) Docs(ctx context.Context) (_ *dagger.Directory, err error) {
	defer surface(&err)
	for _, p := range []string{mkdocsYML, "docs"} {
		ok, err := m.Source.Exists(ctx, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("the source has no %s at its root: docs builds the site from mkdocs.yml and docs/ (pass --source=<the repository>)", p)
		}
	}
	imgs, err := m.images(ctx)
	if err != nil {
		return nil, err
	}
	site := dag.Directory().
		WithFile(mkdocsYML, m.Source.File(mkdocsYML)).
		WithDirectory("docs", m.Source.Directory("docs"))
	return dag.Container().
		From(imgs.Ref(toolchain.MkDocs)).
		WithDirectory(docsDir, site).
		WithWorkdir(docsDir).
		WithExec([]string{"mkdocs", "build", "--strict", "--site-dir", siteOutDir}).
		Directory(siteOutDir), nil
}
