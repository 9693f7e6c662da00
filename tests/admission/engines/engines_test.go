// Package engines evaluates the admission policies docs/evidence.md ships with the engines they
// are written for, against attestations the project's own code signs and attaches:
//
//   - the Kyverno ClusterPolicy with Kyverno's CLI (`kyverno apply --registry`, v1.19.1);
//   - the Sigstore policy-controller ClusterImagePolicy with the policy-controller's tester
//     (`policy-tester`, v0.13.1), which runs the webhook's own policy compilation and
//     verification on one image reference.
//
// Both are built from their releases on the Go module proxy (cached by version under the user's
// cache directory) and read a real registry (go-containerregistry's, on loopback, OCI 1.1
// referrers). The evidence is signed keylessly by sigstoretest's virtual Sigstore (a Fulcio CA
// and a Rekor log generated in memory) and attached by ci/artifact/attest/sigstore and
// ci/artifact/registry, as publish does. Each engine trusts that Sigstore as it trusts the
// public good instance: through a TUF repository (served on loopback) whose trusted_root.json
// target holds the virtual CA and log.
//
// What the tests change in the shipped policies, and why, is listed at kyvernoPolicy
// (kyverno_test.go) and clusterImagePolicy (policycontroller_test.go); nothing else is changed.
// The registry's referrers listing is corrected to the OCI 1.1 spec (referrersByArtifactType).
//
// This is a Go module of its own (tests/admission/engines) so that sigstore-go and go-tuf never
// enter the root module's, and so the Dagger module's, build graph.
package engines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	sigstoretuf "github.com/sigstore/sigstore/pkg/tuf"
	"github.com/stretchr/testify/require"
	tuf "github.com/theupdateframework/go-tuf"
	"gopkg.in/yaml.v3"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore/sigstoretest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// engine is an admission engine's CLI, built from its release's module on the Go module proxy.
type engine struct {
	bin     string // the binary's name
	module  string // the release's module
	version string
	pkg     string // the CLI's package, relative to the module
}

var (
	kyvernoCLI    = engine{"kyverno", "github.com/kyverno/kyverno", "v1.19.1", "./cmd/cli/kubectl-kyverno"}
	policyTester  = engine{"policy-tester", "github.com/sigstore/policy-controller", "v0.13.1", "./cmd/tester"}
	buildMu       sync.Mutex
	builtEngines  = map[string]string{}
	buildFailures = map[string]error{}
)

// build returns the engine's binary, building it once per cache: it is kept under the user's
// cache directory by version, and Go's build cache makes a rebuild a link. Both releases'
// go.mod files carry replace directives, so `go install mod@version` refuses them: the module
// is downloaded (go mod download), copied to a scratch directory and built there with its own
// go.mod and go.sum.
//
// Building both engines cold costs about 39 CPU-minutes (measured: tests/run.sh took 40 min on
// 2 cores with them, 17.5 min without), more than CI's 30-minute budget for a cold run. So an
// engine that is not built yet is built only when SP_ADMISSION_ENGINES=build asks for it;
// otherwise the test skips and says how to run it. Once built (a developer's machine, a CI
// runner with a kept cache) it always runs, in seconds. A failed build fails the test.
func (e engine) build(t *testing.T) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := e.module + "@" + e.version
	if bin, ok := builtEngines[key]; ok {
		return bin
	}
	require.NoError(t, buildFailures[key], "build %s from the Go module proxy", key)
	if bin, err := e.cached(); err == nil && !exists(bin) && os.Getenv(buildEnginesVar) != "build" {
		t.Skipf("%s %s is not built: run %s=build bash tests/run.sh (or, in tests/admission/engines, %s=build go test -timeout 40m ./...) to build it from the Go module proxy (about 39 CPU-minutes for both engines, once per machine) and evaluate the shipped policy with it",
			e.bin, e.version, buildEnginesVar, buildEnginesVar)
	}
	bin, err := e.buildOnce(t)
	if err != nil {
		buildFailures[key] = err
	}
	require.NoError(t, err, "build %s from the Go module proxy", key)
	builtEngines[key] = bin
	return bin
}

// buildEnginesVar asks the test to build an engine that is not built yet.
const buildEnginesVar = "SP_ADMISSION_ENGINES"

// cached is where the engine's binary is kept: the user's cache directory, by version.
func (e engine) cached() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, "soccerpredict-tests", e.bin+"-"+e.version, e.bin), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (e engine) buildOnce(t *testing.T) (string, error) {
	bin, err := e.cached()
	if err != nil {
		return "", err
	}
	if exists(bin) {
		return bin, nil
	}
	dir := filepath.Dir(bin)
	cmd := exec.Command("go", "mod", "download", "-json", e.module+"@"+e.version)
	cmd.Dir = os.TempDir() // outside any module
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s", e.module, e.version, err, out)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s", e.module, e.version, err, info.Error)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(info.Dir)); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	start := time.Now()
	tmp := bin + ".building"
	// nice: the machine's cores are shared with the rest of the suite.
	build := exec.Command("nice", "-n", "10", "go", "build", "-trimpath", "-o", tmp, e.pkg)
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false -mod=readonly", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in a copy of %s@%s: %v: %s", e.pkg, e.module, e.version, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	t.Logf("built %s %s in %s", e.bin, e.version, time.Since(start).Round(time.Second))
	return bin, nil
}

// shipped returns the YAML block of docs/evidence.md whose kind is kind, as text (the same
// extraction as tests/admission).
func shipped(t *testing.T, kind string) string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "evidence.md"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(page), -1) {
		if strings.Contains(m[1], "\nkind: "+kind+"\n") {
			var doc map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(m[1]), &doc))
			return m[1]
		}
	}
	t.Fatalf("docs/evidence.md ships no %s", kind)
	return ""
}

// substitute replaces old by new in text, exactly count times: a substitution that no longer
// finds its text (the shipped policy changed) fails the test instead of passing silently.
func substitute(t *testing.T, text, old, new string, count int) string {
	t.Helper()
	require.Equal(t, count, strings.Count(text, old), "the shipped policy has %d× %q", count, old)
	return strings.ReplaceAll(text, old, new)
}

// shippedRegistry is the registry host of the shipped policies' image patterns; the tests push
// to a loopback registry under the same repository path.
const (
	shippedRegistry = "registry.gitlab.com"
	shippedPath     = "soccerpredictai/soccerpredict"
	repository      = shippedPath + "/api"
)

// world is one registry and one Sigstore that both engines trust, with the trust the engines
// read: a TUF repository (served on loopback) whose trusted_root.json is the virtual
// Sigstore's, and sigstore's TUF cache (TUF_ROOT) initialised from it.
type world struct {
	registryHost string // host:port of the loopback registry
	sigstore     *sigstoretest.Sigstore
	tufMirror    string // URL of the TUF repository
	tufCache     string // a TUF_ROOT initialised from the mirror
	pipeline     *sigstore.Signer
	servers      []*httptest.Server
}

// TestMain stops the world's servers and removes its TUF cache once every test ran.
func TestMain(m *testing.M) {
	code := m.Run()
	if theWorld != nil {
		for _, s := range theWorld.servers {
			s.Close()
		}
		os.RemoveAll(theWorld.tufCache)
	}
	os.Exit(code)
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

// trustedIdentity is the committed keyless policy's identity and issuer: the default branch's
// pipeline.
func trustedIdentity(t *testing.T) (string, string) {
	t.Helper()
	p, ok, err := attest.TrustedSigstorePolicy()
	require.NoError(t, err)
	require.True(t, ok)
	return p.Keyless.Identity(), p.Keyless.Issuer()
}

func theWorldOf(t *testing.T) *world {
	t.Helper()
	identity, issuer := trustedIdentity(t)
	worldOnce.Do(func() { theWorld, worldErr = newWorld(identity, issuer) })
	require.NoError(t, worldErr)
	return theWorld
}

func newWorld(identity, issuer string) (*world, error) {
	w := &world{}
	reg := httptest.NewServer(referrersByArtifactType(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)), ggcrregistry.WithReferrersSupport(true))))
	w.servers = append(w.servers, reg)
	w.registryHost = strings.TrimPrefix(reg.URL, "http://")
	ss, err := sigstoretest.New()
	if err != nil {
		return nil, err
	}
	w.sigstore = ss
	if w.pipeline, err = ss.Signer(identity, issuer); err != nil {
		return nil, err
	}
	trustedRoot, err := ss.TrustedRootJSON()
	if err != nil {
		return nil, err
	}
	files, rootJSON, err := tufRepository(map[string][]byte{"trusted_root.json": trustedRoot})
	if err != nil {
		return nil, err
	}
	mirror := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(path.Clean(r.URL.Path), "/")]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		_, _ = rw.Write(b)
	}))
	w.servers = append(w.servers, mirror)
	w.tufMirror = mirror.URL
	// sigstore's TUF client, which both engines read trusted_root.json through, keeps its trust
	// in TUF_ROOT: initialise one from the mirror, as their controllers do at start from
	// --tufMirror/--tufRoot (Kyverno) and --tuf-mirror/--tuf-root (policy-controller).
	w.tufCache, err = os.MkdirTemp("", "tuf-root-")
	if err != nil {
		return nil, err
	}
	prev, had := os.LookupEnv(sigstoretuf.TufRootEnv)
	os.Setenv(sigstoretuf.TufRootEnv, w.tufCache)
	err = sigstoretuf.Initialize(context.Background(), w.tufMirror, rootJSON)
	if had {
		os.Setenv(sigstoretuf.TufRootEnv, prev)
	} else {
		os.Unsetenv(sigstoretuf.TufRootEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("initialise a TUF cache from the test's mirror: %w", err)
	}
	return w, nil
}

// referrersByArtifactType makes go-containerregistry's in-process registry list referrers as
// the OCI 1.1 distribution spec says a registry does: a descriptor's artifactType is the
// manifest's artifactType when it has one, and its config's mediaType otherwise. The registry
// (v0.22.1) always gives the config's mediaType, which for cosign's bundle layout (and ours) is
// application/vnd.oci.empty.v1+json; Kyverno keeps only the referrers listed as
// application/vnd.dev.sigstore.bundle*, so on that registry it finds no bundle at all and
// refuses every image, signed or not. The manifests themselves are served untouched.
func referrersByArtifactType(registry http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		repo, _, isReferrers := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/referrers/")
		if r.Method != http.MethodGet || !isReferrers {
			registry.ServeHTTP(rw, r)
			return
		}
		listing := httptest.NewRecorder()
		registry.ServeHTTP(listing, r)
		var index v1.IndexManifest
		if listing.Code != http.StatusOK || json.Unmarshal(listing.Body.Bytes(), &index) != nil {
			copyResponse(rw, listing)
			return
		}
		for i, d := range index.Manifests {
			get := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/manifests/"+d.Digest.String(), nil)
			get.Header.Set("Accept", string(d.MediaType))
			manifest := httptest.NewRecorder()
			registry.ServeHTTP(manifest, get)
			var m struct {
				ArtifactType string `json:"artifactType"`
			}
			if manifest.Code == http.StatusOK && json.Unmarshal(manifest.Body.Bytes(), &m) == nil && m.ArtifactType != "" {
				index.Manifests[i].ArtifactType = m.ArtifactType
			}
		}
		body, err := json.Marshal(index)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", listing.Header().Get("Content-Type"))
		rw.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = rw.Write(body)
	})
}

func copyResponse(rw http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		rw.Header()[k] = v
	}
	rw.WriteHeader(rec.Code)
	_, _ = rw.Write(rec.Body.Bytes())
}

// tufRepository is a TUF repository (go-tuf, one ed25519 key per role, no consistent
// snapshots) whose targets are targets: the files a mirror serves, by path, and its root.json.
func tufRepository(targets map[string][]byte) (map[string][]byte, []byte, error) {
	store := tuf.MemoryStore(nil, targets)
	repo, err := tuf.NewRepo(store)
	if err != nil {
		return nil, nil, err
	}
	if err := repo.Init(false); err != nil {
		return nil, nil, err
	}
	expires := time.Now().Add(24 * time.Hour)
	for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
		if _, err := repo.GenKeyWithExpires(role, expires); err != nil {
			return nil, nil, err
		}
	}
	var names []string
	for n := range targets {
		names = append(names, n)
	}
	if err := repo.AddTargetsWithExpires(names, nil, expires); err != nil {
		return nil, nil, err
	}
	if err := repo.SnapshotWithExpires(expires); err != nil {
		return nil, nil, err
	}
	if err := repo.TimestampWithExpires(expires); err != nil {
		return nil, nil, err
	}
	if err := repo.Commit(); err != nil {
		return nil, nil, err
	}
	meta, err := store.GetMeta()
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for n, b := range meta {
		files[n] = b
	}
	for n, b := range targets {
		files["targets/"+n] = b
	}
	return files, meta["root.json"], nil
}

// evidence is what publish attaches: a gate report and a Trivy report (plus the SBOM and the
// provenance, which the policies do not read).
type evidence struct {
	gateReport []byte
	trivy      []byte
}

// greenGate is a gate report of commit in which every gate passed (verdict pass).
func greenGate(t *testing.T) []byte {
	t.Helper()
	return gateReport(t, gate.Pass)
}

// redGate is a gate report in which one blocking gate failed (verdict fail).
func redGate(t *testing.T) []byte {
	t.Helper()
	return gateReport(t, gate.Fail)
}

func gateReport(t *testing.T, firstGate gate.Status) []byte {
	t.Helper()
	r := gate.Report{Commit: commit}
	for i, g := range gate.Catalog() {
		st := gate.Pass
		if i == 0 {
			st = firstGate
		}
		r.Results = append(r.Results, gate.NewResult(g.Name, st, "test"))
	}
	b, err := r.JSON()
	require.NoError(t, err)
	return b
}

// trivyReport is a Trivy JSON report of the image whose config digest is config, with one
// finding per severity given.
func trivyReport(t *testing.T, config string, severities ...string) []byte {
	t.Helper()
	type vuln struct {
		VulnerabilityID, PkgName, InstalledVersion, Severity string
	}
	var vulns []vuln
	for i, s := range severities {
		vulns = append(vulns, vuln{fmt.Sprintf("CVE-2026-%04d", i+1), "openssl", "3.0.11-1", s})
	}
	report := map[string]any{
		"SchemaVersion": 2, "CreatedAt": "2026-03-01T08:00:00Z", "ArtifactName": "/tmp/image.tar", "ArtifactType": "container_image",
		"Metadata": map[string]any{"ImageID": config, "OS": map[string]string{"Family": "debian", "Name": "12.5"}},
		"Results":  []any{map[string]any{"Target": "image (debian 12.5)", "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns}},
		"Trivy":    map[string]string{"Version": "0.69.3"},
	}
	b, err := json.Marshal(report)
	require.NoError(t, err)
	return b
}

// pushImage pushes a random image labelled with commit to the world's registry and returns it
// by digest and its config digest.
func (w *world) pushImage(t *testing.T) (image, config string) {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	img, err = mutate.Config(img, v1.Config{Labels: map[string]string{attest.LabelRevision: commit}})
	require.NoError(t, err)
	tag, err := name.NewTag(w.registryHost+"/"+repository+":main", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
	d, _ := img.Digest()
	c, _ := img.ConfigName()
	return tag.Context().String() + "@" + d.String(), c.String()
}

// attach signs the evidence for image with signer and attaches the bundles (with the SBOM and
// provenance publish attaches too), as publish does: ci/artifact/attest/sigstore's SignAll and
// ci/artifact/registry's Attach.
func (w *world) attach(t *testing.T, signer *sigstore.Signer, image, config string, ev evidence) {
	t.Helper()
	docs, err := sigstoretest.Documents(image, commit, config)
	require.NoError(t, err)
	docs[attest.TypeGateReport] = ev.gateReport
	docs[attest.TypeTrivy] = ev.trivy
	var list []registry.Attachment
	for _, typ := range attest.Types() {
		list = append(list, registry.Attachment{ArtifactType: typ, Data: docs[typ]})
	}
	bundles, err := sigstore.SignAll(context.Background(), signer, image, list)
	require.NoError(t, err)
	ref, err := domain.ParsePinnedRef(image)
	require.NoError(t, err)
	plain, err := registry.ParseInsecureRegistries(nil)
	require.NoError(t, err)
	_, err = registry.Attach(context.Background(), ref, bundles, registry.Options{PlainHTTP: plain})
	require.NoError(t, err)
}

// stranger is a signer of the same Sigstore for another project's pipeline.
func (w *world) stranger(t *testing.T) *sigstore.Signer {
	t.Helper()
	_, issuer := trustedIdentity(t)
	s, err := w.sigstore.Signer("https://gitlab.com/someone/else//.gitlab-ci.yml@refs/heads/main", issuer)
	require.NoError(t, err)
	return s
}

// The cases each engine decides: the positive twin (a green gate report and a scan whose
// findings are MEDIUM and LOW, signed by the default branch's pipeline) and one refusal per
// condition of the policies.
const (
	admitted          = "green gate, clean scan, the pipeline's identity"
	failingGate       = "failing gate report"
	highFinding       = "scan with a HIGH finding"
	criticalFinding   = "scan with a CRITICAL finding"
	anotherIdentity   = "signed by another identity"
	untrustedSigstore = "signed for the pipeline's identity by an untrusted Sigstore"
	noAttestations    = "no attestations"
)

// impostor signs for the pipeline's identity and issuer with another Sigstore: a CA and a log
// the engines do not trust.
func (w *world) impostor(t *testing.T) *sigstore.Signer {
	t.Helper()
	other, err := sigstoretest.New()
	require.NoError(t, err)
	identity, issuer := trustedIdentity(t)
	s, err := other.Signer(identity, issuer)
	require.NoError(t, err)
	return s
}

// admissionCase is one image, pushed to the world's registry with its evidence attached.
type admissionCase struct {
	name  string
	image string
}

func (c admissionCase) admit() bool { return c.name == admitted }

// cases pushes one image per case and attaches its evidence.
func (w *world) cases(t *testing.T) []admissionCase {
	t.Helper()
	var out []admissionCase
	add := func(name string, signer *sigstore.Signer, gateDoc []byte, severities ...string) {
		img, config := w.pushImage(t)
		if signer != nil {
			w.attach(t, signer, img, config, evidence{gateReport: gateDoc, trivy: trivyReport(t, config, severities...)})
		}
		out = append(out, admissionCase{name, img})
	}
	add(admitted, w.pipeline, greenGate(t), "MEDIUM", "LOW")
	add(failingGate, w.pipeline, redGate(t), "MEDIUM")
	add(highFinding, w.pipeline, greenGate(t), "MEDIUM", "HIGH")
	add(criticalFinding, w.pipeline, greenGate(t), "CRITICAL")
	add(anotherIdentity, w.stranger(t), greenGate(t))
	add(untrustedSigstore, w.impostor(t), greenGate(t))
	add(noAttestations, nil, nil)
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// isolatedEnv is the environment of an engine's run: a private home and Docker config (no
// credentials or cached trust of the machine running the test), with TUF_ROOT as given.
func isolatedEnv(t *testing.T, tufRoot string) []string {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "HOME" || k == "DOCKER_CONFIG" || k == "TUF_ROOT" || k == "KUBECONFIG" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "DOCKER_CONFIG="+home, "TUF_ROOT="+tufRoot, "KUBECONFIG="+filepath.Join(home, "no-cluster"))
}

// run runs bin with args in env, bounded in time, and returns its standard output and error
// and whether it exited 0.
func run(t *testing.T, env []string, bin string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s timed out:\n%s%s", filepath.Base(bin), o.String(), e.String())
	return o.String(), e.String(), err == nil
}
