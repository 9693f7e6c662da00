package gitlab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A token goes over https, or to a loopback host (a test server, a port-forward): plain http to
// anything else would hand it to whoever is on the path.
func TestTokensTravelOverHTTPSOnlyExceptToLoopback(t *testing.T) {
	for _, base := range []string{"http://gitlab.example.com", "http://10.0.0.7:8080/api/v4"} {
		_, err := New(base, testToken)
		require.Error(t, err, base)
		assert.Contains(t, err.Error(), "plain http: a GitLab token is sent only over https, or to a loopback host (localhost, 127.0.0.1, ::1): use the https URL of the instance", base)
		assert.NotContains(t, err.Error(), testToken)
	}
	for _, base := range []string{"https://gitlab.example.com", "http://localhost:8080", "http://127.0.0.1:3000", "http://[::1]:3000"} {
		_, err := New(base, testToken)
		assert.NoError(t, err, "the positive twin: %s", base)
	}
}

// recorder records the token headers it was sent.
type recorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id": 1, "username": "mallory", "name": "Mallory"}`))
}

// GitLab never redirects an API call to another host; a server that does must not receive the
// token there: Go's client forwards custom headers (PRIVATE-TOKEN, JOB-TOKEN) to any host.
func TestNoRedirectToAnotherHostCarriesTheToken(t *testing.T) {
	elsewhere := &recorder{}
	other := httptest.NewServer(elsewhere)
	t.Cleanup(other.Close)
	for _, opts := range [][]Option{nil, {WithJobToken()}} {
		redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		}))
		c, err := New(redirecting.URL, testToken, opts...)
		require.NoError(t, err)
		_, err = c.CurrentUser(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GitLab redirected GET /api/v4/user to "+other.URL+": the token is never sent to another host; pass the URL it redirects to")
		redirecting.Close()
	}
	assert.Empty(t, elsewhere.headers, "the other host was never asked")

	// The positive twin: a redirect within the instance keeps the token.
	same := &recorder{}
	mux := http.NewServeMux()
	mux.Handle("/api/v4/moved/user", same)
	mux.Handle("/api/v4/user", http.RedirectHandler("/api/v4/moved/user", http.StatusMovedPermanently))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken)
	require.NoError(t, err)
	u, err := c.CurrentUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "mallory", u.Username)
	require.Len(t, same.headers, 1)
	assert.Equal(t, testToken, same.headers[0].Get("PRIVATE-TOKEN"))
}
