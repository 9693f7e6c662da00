package registry

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"
)

// counters records what the client asked of a test registry.
type counters struct {
	mu sync.Mutex
	// uploadRequests counts POST/PATCH/PUT to /v2/<name>/blobs/uploads/ that were not
	// answered by a successful cross-repository mount.
	uploadRequests int
	// committed lists the digests of blobs whose upload was completed (PUT ...?digest=
	// or monolithic POST ...?digest=).
	committed []string
	// mounted lists the digests mounted from another repository.
	mounted []string
	// manifestPuts counts PUT /v2/<name>/manifests/<ref>.
	manifestPuts int
	// requests counts every request.
	requests int
}

func (c *counters) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uploadRequests, c.committed, c.mounted, c.manifestPuts, c.requests = 0, nil, nil, 0, 0
}

func (c *counters) snapshot() (uploads int, committed, mounted []string, manifestPuts, requests int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.uploadRequests, append([]string(nil), c.committed...), append([]string(nil), c.mounted...), c.manifestPuts, c.requests
}

// scopedBlobs is a blob store that keeps blobs per repository, like GitLab's or
// Docker's registries do, so that a cross-repository copy really needs a mount.
// (go-containerregistry's default in-memory store is global across repositories.)
type scopedBlobs struct {
	mu sync.Mutex
	m  map[string][]byte // repo + "@" + digest
}

// key normalises the repository: go-containerregistry's registry passes "<name>/blobs"
// instead of "<name>" when an upload is committed with PUT.
func (s *scopedBlobs) key(repo string, h v1.Hash) string {
	return strings.TrimSuffix(strings.Trim(repo, "/"), "/blobs") + "@" + h.String()
}

func (s *scopedBlobs) Get(_ context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[s.key(repo, h)]
	if !ok {
		return nil, ggcrregistry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *scopedBlobs) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[s.key(repo, h)]
	if !ok {
		return 0, ggcrregistry.ErrNotFound
	}
	return int64(len(b)), nil
}

func (s *scopedBlobs) Put(_ context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[s.key(repo, h)] = b
	return nil
}

// mount links digest from repo "from" into repo "to"; false when "from" lacks it.
func (s *scopedBlobs) mount(from, to, digest string) bool {
	h, err := v1.NewHash(digest)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[s.key(from, h)]
	if ok {
		s.m[s.key(to, h)] = b
	}
	return ok
}

type regOpts struct {
	scoped         bool   // per-repository blobs with mount support
	user, password string // when set, every request needs this basic auth
}

type testRegistry struct {
	host string
	c    *counters
}

// newRegistry starts go-containerregistry's in-process registry behind httptest with
// request counting, optional per-repository blobs and optional basic auth.
func newRegistry(t *testing.T, o regOpts) *testRegistry {
	t.Helper()
	var store *scopedBlobs
	var inner http.Handler
	if o.scoped {
		store = &scopedBlobs{m: map[string][]byte{}}
		inner = ggcrregistry.New(ggcrregistry.Logger(discardLogger()), ggcrregistry.WithBlobHandler(store))
	} else {
		inner = ggcrregistry.New(ggcrregistry.Logger(discardLogger()))
	}
	c := &counters{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		if o.user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != o.user || p != o.password {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
		}
		p := r.URL.Path
		if i := strings.Index(p, "/blobs/uploads"); i > 0 && strings.HasPrefix(p, "/v2/") {
			repo := p[len("/v2/"):i]
			q := r.URL.Query()
			if r.Method == http.MethodPost && store != nil && q.Get("mount") != "" && q.Get("from") != "" {
				if store.mount(q.Get("from"), repo, q.Get("mount")) {
					c.mu.Lock()
					c.mounted = append(c.mounted, q.Get("mount"))
					c.mu.Unlock()
					w.Header().Set("Location", "/v2/"+repo+"/blobs/"+q.Get("mount"))
					w.Header().Set("Docker-Content-Digest", q.Get("mount"))
					w.WriteHeader(http.StatusCreated)
					return
				}
			}
			if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
				c.mu.Lock()
				c.uploadRequests++
				if d := q.Get("digest"); d != "" && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
					c.committed = append(c.committed, d)
				}
				c.mu.Unlock()
			}
		}
		if r.Method == http.MethodPut && strings.Contains(p, "/manifests/") {
			c.mu.Lock()
			c.manifestPuts++
			c.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testRegistry{host: strings.TrimPrefix(srv.URL, "http://"), c: c}
}

// push writes img (or idx) to ref with the given auth and returns its digest; the
// counters are reset afterwards so tests only see the promotion's traffic.
func (r *testRegistry) push(t *testing.T, ref string, t1 remote.Taggable, auth authn.Authenticator) string {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	require.NoError(t, err)
	if auth == nil {
		auth = authn.Anonymous
	}
	switch x := t1.(type) {
	case v1.ImageIndex:
		require.NoError(t, remote.WriteIndex(tag, x, remote.WithAuth(auth)))
	case v1.Image:
		require.NoError(t, remote.Write(tag, x, remote.WithAuth(auth)))
	default:
		t.Fatalf("cannot push %T", t1)
	}
	d, err := remote.Head(tag, remote.WithAuth(auth))
	require.NoError(t, err)
	r.c.reset()
	return d.Digest.String()
}

// resolve returns the digest ref currently resolves to, or "" when it does not exist.
func resolve(t *testing.T, ref string, auth authn.Authenticator) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	if auth == nil {
		auth = authn.Anonymous
	}
	d, err := remote.Head(r, remote.WithAuth(auth))
	if err != nil {
		require.True(t, isNotFound(err), "unexpected error: %v", err)
		return ""
	}
	return d.Digest.String()
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(512, layers)
	require.NoError(t, err)
	return img
}

func blobDigests(t *testing.T, img v1.Image) (layers []string, config string) {
	t.Helper()
	ls, err := img.Layers()
	require.NoError(t, err)
	for _, l := range ls {
		d, err := l.Digest()
		require.NoError(t, err)
		layers = append(layers, d.String())
	}
	cn, err := img.ConfigName()
	require.NoError(t, err)
	return layers, cn.String()
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
