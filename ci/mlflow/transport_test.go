package mlflow

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCredentialsTravelOverHTTPSOnlyExceptToLoopback(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithBasicAuth("ci", "pw-SECRET")}} {
		token := testToken
		if opts != nil {
			token = ""
		}
		_, err := New("http://mlflow.example.com:5000", token, opts...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "plain http: MLflow credentials are sent only over https, or to a loopback host (localhost, 127.0.0.1, ::1): use the https URL of the tracking server")
		assert.NotContains(t, err.Error(), "SECRET")
	}
	// The positive twins: https, loopback, and plain http without credentials (nothing to leak).
	for _, ok := range []struct{ base, token string }{
		{"https://mlflow.example.com", testToken}, {"http://127.0.0.1:5000", testToken}, {"http://localhost:5000", testToken}, {"http://mlflow:5000", ""},
	} {
		_, err := New(ok.base, ok.token)
		assert.NoError(t, err, ok.base)
	}
}

// basicOnly is `mlflow server --app-name basic-auth`: it answers anything but HTTP Basic with 401.
type basicOnly struct {
	mu   sync.Mutex
	auth []string
	next http.Handler
}

func (b *basicOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.auth = append(b.auth, r.Header.Get("Authorization"))
	b.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "ci" || p != "pw-SECRET" {
		w.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."))
		return
	}
	b.next.ServeHTTP(w, r)
}

// MLflow's own client sends Basic when MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD are
// both set, and the token as Bearer otherwise (mlflow/utils/rest_utils.py, http_request).
func TestBasicAuthAsMLflowsOwnClientSendsIt(t *testing.T) {
	srv := &basicOnly{next: newFake()}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	c, err := New(ts.URL, testToken)
	require.NoError(t, err)
	_, err = c.GetModelVersion(context.Background(), "soccer-predict", "3")
	require.ErrorIs(t, err, ErrUnauthorized, "a basic-auth server answers a Bearer token with 401")

	c, err = New(ts.URL, testToken, WithBasicAuth("ci", "pw-SECRET"))
	require.NoError(t, err)
	mv, err := c.GetModelVersion(context.Background(), "soccer-predict", "3")
	require.NoError(t, err, "the positive twin: username and password win over the token, as in MLflow's client")
	assert.Equal(t, "3", mv.Version)
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("ci:pw-SECRET")), srv.auth[len(srv.auth)-1])

	for _, half := range [][2]string{{"ci", ""}, {"", "pw-SECRET"}} {
		_, err := New(ts.URL, "", WithBasicAuth(half[0], half[1]))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD go together")
		assert.NotContains(t, err.Error(), "SECRET")
	}
	_, err = New(ts.URL, "", WithBasicAuth("c:i", "pw"))
	assert.ErrorContains(t, err, "MLFLOW_TRACKING_USERNAME contains ':'")
}

func TestNoRedirectToAnotherHostCarriesTheCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	for _, opts := range [][]Option{nil, {WithBasicAuth("ci", "pw-SECRET")}} {
		c, err := New(redirecting.URL, testToken, opts...)
		require.NoError(t, err)
		_, err = c.GetModelVersion(context.Background(), "soccer-predict", "3")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "MLflow redirected GET /api/2.0/mlflow/model-versions/get to "+other.URL+": credentials are never sent to another host")
	}
	assert.Empty(t, seen, "the other host was never asked")

	// The positive twin: a redirect on the same server is followed with the credentials.
	fake := newFake()
	mux := http.NewServeMux()
	mux.Handle("/api/", fake)
	mux.Handle("/old/", http.StripPrefix("/old", http.RedirectHandler("/api/2.0/mlflow/model-versions/get?name=soccer-predict&version=3", http.StatusFound)))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c, err := New(ts.URL+"/old", testToken)
	require.NoError(t, err)
	mv, err := c.GetModelVersion(context.Background(), "soccer-predict", "3")
	require.NoError(t, err)
	assert.Equal(t, "3", mv.Version)
	assert.Equal(t, "Bearer "+testToken, fake.auth[len(fake.auth)-1])
}
