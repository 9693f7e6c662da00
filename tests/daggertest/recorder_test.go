package daggertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// query posts a GraphQL query the way the Dagger Go SDK does and returns data and errors.
func query(t *testing.T, r *Recorder, token, q string) (map[string]any, []map[string]any, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "operationName": "Query"})
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+strconv.Itoa(r.Port)+"/query", bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth(token, "")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	}
	return out.Data, out.Errors, resp.StatusCode
}

func start(t *testing.T) *Recorder {
	t.Helper()
	r, err := Start()
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

func TestRecorderRejectsAWrongSessionToken(t *testing.T) {
	r := start(t)
	_, _, code := query(t, r, "nope", `query Query {container{id}}`)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Empty(t, r.Queries())
}

func TestRecorderAnswersTheShapeAskedAndExpandsIDs(t *testing.T) {
	r := start(t)
	data, errs, _ := query(t, r, r.Token, `query Query {cacheVolume(key:"pip"){id}}`)
	require.Empty(t, errs)
	cacheID := data["cacheVolume"].(map[string]any)["id"].(string)

	data, errs, _ = query(t, r, r.Token, `query Query {container{from(address:"python:3.11"){withMountedCache(path:"/root/.cache/pip", cache:"`+cacheID+`"){withExec(args:["pytest","-q"], expect:ANY){exitCode}}}}}`)
	require.Empty(t, errs)
	exit := data["container"].(map[string]any)["from"].(map[string]any)["withMountedCache"].(map[string]any)["withExec"].(map[string]any)["exitCode"]
	assert.Nil(t, exit, "unanswered leaves are null, which the SDK decodes as zero values")

	e, ok := r.ExecWith("pytest", "-q")
	require.True(t, ok)
	assert.Equal(t, "ANY", e.Step.Str("expect"))
	mount, ok := e.Container.StepWhere("withMountedCache", "path", "/root/.cache/pip")
	require.True(t, ok)
	ref, ok := mount.Ref("cache")
	require.True(t, ok, "an ID argument expands to the chain that produced it")
	assert.Equal(t, `cacheVolume(key:"pip")`, ref.Chain.String())
}

func TestRecorderFollowsNodeAndLoadFromID(t *testing.T) {
	r := start(t)
	data, _, _ := query(t, r, r.Token, `query Query {container{from(address:"alpine:3"){sync}}}`)
	id := data["container"].(map[string]any)["from"].(map[string]any)["sync"].(string)
	_, errs, _ := query(t, r, r.Token, `query Query {node(id:"`+id+`"){... on Container{withExec(args:["true"]){stdout}}}}`)
	require.Empty(t, errs)
	e, ok := r.ExecWith("true")
	require.True(t, ok)
	assert.Equal(t, `container.from(address:"alpine:3")`, e.Container.String(), "node(id) continues the chain of the object it names")
}

func TestRecorderRespondersAndExecErrors(t *testing.T) {
	r := start(t)
	r.Respond(OnExec([]string{"ruff"}, map[string]any{"stdout": "[]", "exitCode": 1}))
	r.Respond(func(c Call) (any, bool) {
		if args, ok := c.ExecArgs(); ok && args[0] == "boom" && c.Leaf == "sync" {
			return &ExecError{Cmd: args, ExitCode: 3, Stderr: "kaput"}, true
		}
		return nil, false
	})
	data, _, _ := query(t, r, r.Token, `query Query {container{withExec(args:["ruff","check"]){stdout}}}`)
	assert.Equal(t, "[]", data["container"].(map[string]any)["withExec"].(map[string]any)["stdout"])
	_, errs, _ := query(t, r, r.Token, `query Query {container{withExec(args:["boom"]){sync}}}`)
	require.Len(t, errs, 1)
	ext := errs[0]["extensions"].(map[string]any)
	assert.Equal(t, "EXEC_ERROR", ext["_type"])
	assert.Equal(t, 3.0, ext["exitCode"])
	assert.Equal(t, "kaput", ext["stderr"])
}

func TestLeakedIgnoresOnlyTheSecretsOwnCreation(t *testing.T) {
	r := start(t)
	query(t, r, r.Token, `query Query {setSecret(name:"pw", plaintext:"hunter2"){id}}`)
	data, _, _ := query(t, r, r.Token, `query Query {setSecret(name:"pw", plaintext:"hunter2"){plaintext}}`)
	assert.Equal(t, "hunter2", data["setSecret"].(map[string]any)["plaintext"], "a module reading the secret gets it back")
	assert.Empty(t, r.Leaked("hunter2"))
	query(t, r, r.Token, `query Query {container{withEnvVariable(name:"PW", value:"hunter2"){sync}}}`)
	assert.Len(t, r.Leaked("hunter2"), 1, "a plaintext in any other query is a leak")
}

func TestFilesListsWhatADirectoryChainWrites(t *testing.T) {
	r := start(t)
	data, _, _ := query(t, r, r.Token, `query Query {directory{withNewFile(path:"a.txt", contents:"A"){id}}}`)
	inner := data["directory"].(map[string]any)["withNewFile"].(map[string]any)["id"].(string)
	data, _, _ = query(t, r, r.Token, `query Query {directory{withDirectory(path:"sub", source:"`+inner+`"){withNewFile(path:"/b.txt", contents:"B"){id}}}}`)
	outer := data["directory"].(map[string]any)["withDirectory"].(map[string]any)["withNewFile"].(map[string]any)["id"].(string)
	chain, ok := r.Chain(outer)
	require.True(t, ok)
	assert.Equal(t, map[string]string{"sub/a.txt": "A", "b.txt": "B"}, chain.Files())
}

func TestUnparsableQueriesAreErrors(t *testing.T) {
	r := start(t)
	_, errs, _ := query(t, r, r.Token, `query Query {container{`)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0]["message"], "does not parse")
}

func TestOwnSourceResolvesTheModulesContextPaths(t *testing.T) {
	r := start(t)
	data, errs, _ := query(t, r, r.Token, `query Query {currentModule{source{directory(path:".."){directory(path:"charts/soccer-predict"){id}}}}}`)
	require.Empty(t, errs)
	id := data["currentModule"].(map[string]any)["source"].(map[string]any)["directory"].(map[string]any)["directory"].(map[string]any)["id"].(string)
	chain, ok := r.Chain(id)
	require.True(t, ok)
	dir, filters, ok := chain.OwnSource("dagger")
	require.True(t, ok, chain.String())
	assert.Equal(t, "charts/soccer-predict", dir)
	assert.Empty(t, filters)

	data, errs, _ = query(t, r, r.Token, `query Query {currentModule{source{directory(path:".."){filter(include:["ci/**"]){id}}}}}`)
	require.Empty(t, errs)
	id = data["currentModule"].(map[string]any)["source"].(map[string]any)["directory"].(map[string]any)["filter"].(map[string]any)["id"].(string)
	chain, _ = r.Chain(id)
	dir, filters, ok = chain.OwnSource("dagger")
	require.True(t, ok)
	assert.Equal(t, "", dir, "the context root")
	require.Len(t, filters, 1)
	assert.Equal(t, []string{"ci/**"}, filters[0].Strings("include"))

	// Without "..": the source subpath itself; ".." past the root stays at the root.
	for q, want := range map[string]string{
		`query Query {currentModule{source{id}}}`:                             "dagger",
		`query Query {currentModule{source{directory(path:"../../.."){id}}}}`: "",
		`query Query {currentModule{source{directory(path:"/charts"){id}}}}`:  "dagger/charts",
	} {
		data, errs, _ = query(t, r, r.Token, q)
		require.Empty(t, errs, q)
		src := data["currentModule"].(map[string]any)["source"].(map[string]any)
		if d, ok := src["directory"].(map[string]any); ok {
			src = d
		}
		chain, _ = r.Chain(src["id"].(string))
		dir, _, ok = chain.OwnSource("dagger")
		require.True(t, ok, q)
		assert.Equal(t, want, dir, q)
	}

	// A host directory is not the module's source.
	data, _, _ = query(t, r, r.Token, `query Query {host{directory(path:"/work/repo"){id}}}`)
	chain, _ = r.Chain(data["host"].(map[string]any)["directory"].(map[string]any)["id"].(string))
	_, _, ok = chain.OwnSource("dagger")
	assert.False(t, ok)
}
