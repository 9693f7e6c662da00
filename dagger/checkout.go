package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"dagger/soccer-predict/internal/dagger"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact"
	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/toolchain"
)

// atCheckout returns the pipeline for the checkout's HEAD when --commit (and, when the images
// must be looked up, --ref) are not set: the commit is HEAD's, the branch the one HEAD is on.
// Flags and the settings file always win.
func (m *SoccerPredict) atCheckout(ctx context.Context, head *dagger.GitRef, needBranch bool) (*SoccerPredict, error) {
	values := configpkg.FromEnviron(m.Settings)
	needCommit := values["CI_COMMIT_SHA"] == ""
	needBranch = needBranch && values["CI_COMMIT_REF_NAME"] == ""
	if !needCommit && !needBranch {
		return m, nil
	}
	if head == nil {
		return nil, fmt.Errorf("no commit to deploy: pass --commit=$(git rev-parse HEAD) and --ref=$(git branch --show-current), or run from a git checkout")
	}
	if needCommit {
		sha, err := head.Commit(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the checkout's HEAD commit (or pass --commit): %w", err)
		}
		values["CI_COMMIT_SHA"] = sha
	}
	if needBranch {
		ref, err := head.Ref(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the checkout's branch (or pass --ref): %w", err)
		}
		branch, err := artifact.BranchFromGitRef(ref)
		if err != nil {
			return nil, err
		}
		values["CI_COMMIT_REF_NAME"] = branch
	}
	if _, err := configpkg.Load(ctx, values); err != nil {
		return nil, err
	}
	c := *m
	c.Settings = configpkg.Environ(values)
	return &c, nil
}

// publishedImages completes given with the image of each missing service: the one publish pushed
// for the commit of s, <registry>/<service>:<branch tag> (ci/artifact), resolved to its digest in
// the registry by the registry tool ci/cmd/oci (go-containerregistry), so the deploy is pinned by
// digest like CI's. insecure are the --insecure-registry opt-ins (deploy.Check refused them for
// production).
func (m *SoccerPredict) publishedImages(ctx context.Context, s configpkg.Settings, given map[domain.Service]string, missing []domain.Service, username string, password *dagger.Secret, insecure []string) (map[domain.Service]string, error) {
	if len(missing) == 0 {
		return given, nil
	}
	commit, err := settingsCommit(s)
	if err != nil {
		return nil, err
	}
	tag, err := artifact.BranchTag(s.Ref, commit)
	if err != nil {
		return nil, fmt.Errorf("find the images published for this commit: %w", err)
	}
	refs := map[domain.Service]domain.ImageRef{}
	var reach []domain.ImageRef
	for _, svc := range missing {
		if refs[svc], err = serviceImage(s, svc, tag); err != nil {
			return nil, err
		}
		reach = append(reach, refs[svc])
	}
	ctr, creds, err := m.toolContainer(ctx, toolchain.OCI, ociBin, username, password, reach...)
	if err != nil {
		return nil, err
	}
	args := []string{ociBin, "resolve"}
	for _, svc := range missing {
		args = append(args, "--ref", refs[svc].String())
	}
	args = append(args, creds...)
	// The --insecure-registry opt-ins that name the registry looked up.
	args = append(args, insecureArgs(insecure, reach...)...)
	// A tag can move: read the registry every time.
	out, err := ctr.
		WithEnvVariable("SP_RESOLVE_AT", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(args).
		Stdout(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up the images published for %s (tag %s); pass --api-image/--worker-image/--airflow-image to deploy others: %w", s.Commit.Short(), tag, toolFailure("oci resolve", err))
	}
	var resolved map[string]string
	if err := json.Unmarshal([]byte(out), &resolved); err != nil {
		return nil, fmt.Errorf("oci resolve printed %q: %w", strings.TrimSpace(out), err)
	}
	res := map[domain.Service]string{}
	for k, v := range given {
		res[k] = v
	}
	for _, svc := range missing {
		d, ok := resolved[refs[svc].String()]
		if !ok {
			return nil, fmt.Errorf("oci resolve did not resolve %s", refs[svc])
		}
		if _, err := domain.ParsePinnedRef(d); err != nil {
			return nil, fmt.Errorf("oci resolve answered %q for %s: %w", d, refs[svc], err)
		}
		res[svc] = d
	}
	return res, nil
}
