//go:build daggerharness

// Offline tests of the Dagger module. tests/harness overlays these files into dagger/ as
// zz_*_test.go for the test build only, next to the generated-bindings stand-in; `dag` is
// connected to a recording GraphQL endpoint and each test asserts the queries a function sends.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	upstream "dagger.io/dagger"
	"dagger/soccer-predict/internal/dagger"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
)

var rec *daggertest.Recorder

func TestMain(m *testing.M) {
	var err error
	rec, err = daggertest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start recorder:", err)
		os.Exit(1)
	}
	for k, v := range rec.Env() {
		os.Setenv(k, v)
	}
	dag, err = upstream.Connect(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect to recorder:", err)
		os.Exit(1)
	}
	code := m.Run()
	rec.Close()
	os.Exit(code)
}

// fresh resets the recorder and returns a pipeline on a recorded source directory, as the
// constructor would with its defaults.
func fresh(t *testing.T, opts ...func(*newArgs)) *SoccerPredict {
	t.Helper()
	rec.Reset()
	a := newArgs{source: dag.Host().Directory("/work/repo")}
	for _, o := range opts {
		o(&a)
	}
	m, err := New(context.Background(), a.source, a.project, a.config, a.commit, a.ref, a.tag, a.commitTime,
		a.registry, a.registryMirror, a.python, a.golang, a.trivy, a.helm, "", "", a.mlflowToken, nil, a.localRegistry)
	require.NoError(t, err)
	return m
}

type newArgs struct {
	source                              *dagger.Directory
	config                              *dagger.File
	project, commit, ref, tag, registry string
	registryMirror, python              string
	golang, trivy, helm                 string
	commitTime                          string
	mlflowToken                         *dagger.Secret
	localRegistry                       *dagger.Service
}

// execsText renders every exec with its container chain, for failure messages.
func execsText() string {
	var b strings.Builder
	for _, e := range rec.Execs() {
		fmt.Fprintf(&b, "%s\n   on %s\n", e.Line(), e.Container)
	}
	return b.String()
}
