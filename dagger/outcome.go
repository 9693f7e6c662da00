package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/soccer-predict/internal/dagger"

	configpkg "gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
)

// outcome is what one gate produced: its results (a gate may yield a blocking result and a
// signal) and the report files worth keeping, even when it failed.
type outcome struct {
	Results []gate.Result
	Files   *dagger.Directory
}

func single(r gate.Result) outcome { return outcome{Results: []gate.Result{r}} }

func (o outcome) withFiles(files *dagger.Directory) outcome {
	o.Files = files
	return o
}

type gateFunc func(ctx context.Context) (outcome, error)

// enforce runs one gate for its `+check` function: a blocking failure becomes an error that
// names the gate, says what failed and shows the details; signals never fail it.
func enforce(ctx context.Context, fn gateFunc) error {
	o, err := fn(ctx)
	if err != nil {
		return err
	}
	return verdictError(o.Results)
}

func verdictError(results []gate.Result) error {
	var b strings.Builder
	for _, r := range results {
		if !r.Blocks() {
			continue
		}
		fmt.Fprintf(&b, "\n%s %s: %s", r.Name, r.Status.Label(), r.Summary)
		for _, d := range r.Details {
			fmt.Fprintf(&b, "\n    %s", d)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return fmt.Errorf("quality gate failed:%s", b.String())
}

// toolError is a tool that exited non-zero, with the tail of its output.
type toolError struct {
	tool string
	code int
	log  string
}

func (e *toolError) Error() string {
	return fmt.Sprintf("%s exited %d: %s", e.tool, e.code, strings.Join(gate.Tail(e.log, 5), " | "))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// secretText reads a token for an HTTP header inside the module (never into a query, an
// argument, a file or a log); "" for no secret.
func secretText(ctx context.Context, secret *dagger.Secret) (string, error) {
	if secret == nil {
		return "", nil
	}
	plain, err := secret.Plaintext(ctx)
	return strings.TrimSpace(plain), err
}

// gitlabClient is a client of the configured GitLab API authenticated with token.
func gitlabClient(ctx context.Context, s configpkg.Settings, token *dagger.Secret, opts ...gitlab.Option) (*gitlab.Client, error) {
	bearer, err := secretText(ctx, token)
	if err != nil {
		return nil, err
	}
	return gitlab.New(s.GitLabAPI, bearer, opts...)
}
