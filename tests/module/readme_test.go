//go:build daggerharness

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/tests/daggertest"
	"gitlab.com/soccerpredictai/pipeline/tests/gitlabci"
)

// readmeCommands returns every `dagger call` example of README.md: inline code and the lines
// of shell blocks (continuations joined).
func readmeCommands(t *testing.T) (cmds []string, dotenv map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(raw)
	dotenv = map[string]string{}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1)
	for _, b := range blocks {
		body := strings.ReplaceAll(b[1], "\\\n", " ")
		isEnv := strings.HasPrefix(body, "# .env")
		for _, line := range strings.Split(body, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case isEnv && line != "" && !strings.HasPrefix(line, "#"):
				k, v, ok := strings.Cut(line, "=")
				require.True(t, ok, "README .env line %q", line)
				dotenv[k] = v
			case regexp.MustCompile(`^dagger (-m \S+ )?call `).MatchString(line):
				cmds = append(cmds, strings.Join(strings.Fields(line), " "))
			}
		}
		text = strings.Replace(text, b[0], "", 1)
	}
	for _, m := range regexp.MustCompile("`(dagger (?:-m \\S+ )?call [^`]*)`").FindAllStringSubmatch(text, -1) {
		cmds = append(cmds, m[1])
	}
	require.NotEmpty(t, dotenv, "README documents the .env user defaults")
	return cmds, dotenv
}

// placeholders are the README's elisions and shell substitutions, and what a reader types.
var placeholders = []struct{ from, to string }{
	{"$(git rev-parse HEAD)", commitSHA},
	{"$(git show -s --format=%cI HEAD)", "2025-03-01T09:00:00+01:00"},
	{"--commit-time=…", "--commit-time=2025-03-01T09:00:00+01:00"},
	{"$(git branch --show-current)", "main"},
	{"$(grep API_IMAGE images/images.env | cut -d= -f2)", registry + "/api@" + digestOf(1)},
	{"--commit=…", "--commit=" + commitSHA},
	{"--kubeconfig=…", "--kubeconfig=file:$HOME/.kube/config"},
	{"--api-image=…", "--api-image=" + registry + "/api@" + digestOf(1)},
	{"--worker-image=…", "--worker-image=" + registry + "/worker@" + digestOf(2)},
	{"--airflow-image=…", "--airflow-image=" + registry + "/airflow@" + digestOf(3)},
	{`--reason="…"`, "--reason=reviewed-in-merge-request-12"},
}

// parseExample turns a README command into a DaggerCall: placeholders filled, quotes removed,
// `-m module` dropped, a flag without a value is a boolean set to true.
func parseExample(cmd string) (gitlabci.DaggerCall, error) {
	line := cmd
	for _, p := range placeholders {
		line = strings.ReplaceAll(line, p.from, p.to)
	}
	line = regexp.MustCompile(`"([^"]*)"`).ReplaceAllStringFunc(line, func(q string) string {
		return strings.ReplaceAll(strings.Trim(q, `"`), " ", "_")
	})
	if strings.Contains(line, "…") {
		return gitlabci.DaggerCall{}, fmt.Errorf("README example %q elides something the reader cannot guess: write it out", cmd)
	}
	f := strings.Fields(line)
	if len(f) > 3 && f[1] == "-m" {
		f = append(f[:1], f[3:]...)
	}
	d := gitlabci.DaggerCall{Line: line}
	for _, tok := range f[2:] {
		if strings.HasPrefix(tok, "--") {
			name, value, ok := strings.Cut(strings.TrimPrefix(tok, "--"), "=")
			if !ok {
				value = "true"
			}
			a := gitlabci.Arg{Name: name, Value: value}
			if len(d.Chain) == 0 {
				d.Ctor = append(d.Ctor, a)
			} else {
				d.Chain[len(d.Chain)-1].Args = append(d.Chain[len(d.Chain)-1].Args, a)
			}
			continue
		}
		d.Chain = append(d.Chain, gitlabci.Call{Name: tok})
	}
	if len(d.Chain) == 0 {
		return d, fmt.Errorf("README example %q calls no function", cmd)
	}
	return d, nil
}

// laptop is the shell a README reader runs the examples in.
func laptop() map[string]string {
	return map[string]string{
		"HOME": "/home/dev", "USER": "dev", "REGISTRY_USER": "dev",
		"API_IMAGE": registry + "/api@" + digestOf(1), "WORKER_IMAGE": registry + "/worker@" + digestOf(2), "AIRFLOW_IMAGE": registry + "/airflow@" + digestOf(3),
		"REGISTRY_PASSWORD": "registry-pw-plaintext", "SOPS_AGE_KEY": ageKeyPlain, "GITLAB_TOKEN": gitlabTokenPln,
		"MLFLOW_TOKEN": "mlflow-token-plaintext", "MLFLOW_TRACKING_TOKEN": "mlflow-token-plaintext",
		"SP_SIGNING_KEY": signingKeyPlain,
	}
}

// Every `dagger call` example of the README must parse against the module's functions and
// flags and get to its first outside call with the bundled project (the .env example applied
// as Dagger's user defaults), on a laptop whose commit's pipeline was green and approved.
func TestReadmeExamplesRun(t *testing.T) {
	cmds, dotenv := readmeCommands(t)
	pending := modelVersionPending(t)
	ran := map[string]bool{}
	for _, cmd := range cmds {
		if strings.Contains(cmd, "--help") {
			continue // the CLI's help, not a call
		}
		t.Run(cmd, func(t *testing.T) {
			d, err := parseExample(cmd)
			require.NoError(t, err)
			rec.Reset()
			artifactsOfAGreenPipeline(t)
			noTrustKey(t) // the repository ships no attestation key (docs/evidence.md)
			world := &outsideWorld{}
			gitlabComFake(t, world)
			mlflow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				world.mu.Lock()
				world.http = append(world.http, r.Method+" "+r.URL.RequestURI())
				world.mu.Unlock()
				http.NotFound(w, r)
			}))
			t.Cleanup(mlflow.Close)
			rec.Respond(daggertest.OnFile("ci.env", "MLFLOW_TRACKING_URI="+mlflow.URL+"\n"))
			rec.Respond(daggertest.Always("commit", commitSHA))
			rec.Respond(daggertest.Always("ref", "refs/heads/main"))
			publishedFor(registry, "main-01234567")
			publishedFor("registry.gitlab.com/soccerpredictai/soccerpredict", "main-01234567")
			rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "HEAD"}, map[string]any{"exitCode": 0, "stdout": rbHead + "\n"}))
			rec.Respond(daggertest.OnExec([]string{"git", "rev-parse", "--verify", "--quiet"}, map[string]any{"exitCode": 0, "stdout": rbTarget + "\n"}))
			rec.Respond(daggertest.OnExec([]string{"git", "diff", "--stat"}, map[string]any{"exitCode": 0, "stdout": " " + rbProject + "/dvc.lock | 4 ++--\n 1 file changed\n"}))
			rec.Respond(daggertest.OnExec([]string{"git", "diff", "--no-renames", "--name-status"}, map[string]any{"exitCode": 0, "stdout": rbChanged}))

			env := callEnv{vars: laptop(), userDefaults: dotenv}
			err = env.runLine(t, d)
			if envFlag, _ := d.Chain[0].Arg("env"); pending && (d.Function() == "deploy" || d.Function() == "plan") && envFlag != "dev" {
				require.Error(t, err, "the bundled champion now says its model version: remove modelVersionPending")
				assert.Contains(t, err.Error(), "model version")
				ran[d.Function()] = true
				return
			}
			if err != nil {
				mustReachTheWorld(t, d, world, err)
			}
			ran[d.Function()] = true
			for _, p := range []string{ageKeyPlain, gitlabTokenPln, "registry-pw-plaintext", "mlflow-token-plaintext", "SIGNING-KEY-PLAINTEXT"} {
				assert.Empty(t, rec.Leaked(p))
			}
		})
	}
	assert.True(t, ran["deploy"] && ran["gate-report"], "the README's two main commands are among the examples")
}
