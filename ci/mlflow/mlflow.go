// Package mlflow is a minimal MLflow REST client for the model registry operations the pipeline
// needs: read the champion model version and its run's metrics (the model gate compares a candidate
// against them), verify that a model version exists, and move the champion alias (rollback-model).
//
// Endpoints (relative to the tracking server URL):
//
//	GET  /api/2.0/mlflow/registered-models/alias?name=&alias=   → {"model_version": {…}}
//	GET  /api/2.0/mlflow/model-versions/get?name=&version=      → {"model_version": {…}}
//	GET  /api/2.0/mlflow/runs/get?run_id=                        → {"run": {"data": {"metrics": [{key, value}]}}}
//	POST /api/2.0/mlflow/registered-models/alias {name, alias, version} → {}
//
// The base URL and the credentials are given explicitly, as MLflow's own client sends them: a
// username and password as HTTP Basic (MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD: the
// login of `mlflow server --app-name basic-auth`), else a token as "Authorization: Bearer"
// (MLFLOW_TRACKING_TOKEN). Credentials go over https only, except to a loopback host, are never
// sent on a redirect to another host, and never appear in a URL or an error.
package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// ChampionAlias is the alias of the model version in production.
const ChampionAlias = "champion"

// ProductionModel is the registered model whose champion production serves, fixed in the module's
// code (as SP_MLFLOW_MODEL's default): rollback-model judges and moves only its alias, whatever a
// settings file names.
const ProductionModel = "soccer-predict"

// MaxTagValueLen is the longest value, in characters, MLflow stores in a registered model tag
// (MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH in mlflow/utils/validation.py); a longer value is answered
// with 400 INVALID_PARAMETER_VALUE.
const MaxTagValueLen = 5000

// AliasServes is the environment that serves the model version behind alias: the champion is
// what production serves. Moving an alias is judged by that environment's rules, whatever
// environment a caller names.
func AliasServes(alias string) (domain.Environment, error) {
	if alias == ChampionAlias {
		return domain.Production, nil
	}
	return "", fmt.Errorf("mlflow: alias %q serves no environment: only %q (production) is moved by the pipeline", alias, ChampionAlias)
}

// CheckTagValue refuses a registered model tag value MLflow would refuse (MaxTagValueLen), before
// anything that depends on the tag being stored is done.
func CheckTagValue(key, value string) error {
	if n := utf8.RuneCountInString(value); n > MaxTagValueLen {
		return fmt.Errorf("mlflow: tag %s would hold %d characters; MLflow stores at most %d in a registered model tag", key, n, MaxTagValueLen)
	}
	return nil
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound means the model, version, alias or run does not exist (RESOURCE_DOES_NOT_EXIST,
	// HTTP 404, or the INVALID_PARAMETER_VALUE "Registered model alias … not found." of MLflow's stores).
	ErrNotFound = errors.New("mlflow: resource does not exist")
	// ErrUnauthorized means the server refused the credentials (HTTP 401/403).
	ErrUnauthorized = errors.New("mlflow: not authorized")
)

// APIError is a non-2xx answer from MLflow.
type APIError struct {
	// Endpoint is the method and path called (no credentials).
	Endpoint string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is MLflow's error_code (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, …).
	Code string
	// Message is MLflow's message.
	Message string
	// Hint says how to fix the problem.
	Hint string
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mlflow: %s: HTTP %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is matches ErrNotFound and ErrUnauthorized.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == "RESOURCE_DOES_NOT_EXIST" || (e.Code == "" && e.StatusCode == http.StatusNotFound) ||
			// The file and SQL stores answer a missing alias with INVALID_PARAMETER_VALUE (HTTP 400).
			(e.Code == "INVALID_PARAMETER_VALUE" && missingAlias.MatchString(e.Message))
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden ||
			e.Code == "UNAUTHENTICATED" || e.Code == "PERMISSION_DENIED"
	}
	return false
}

// missingAlias is MLflow's message for an alias that is not set.
var missingAlias = regexp.MustCompile(`^Registered model alias .+ not found\.?$`)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithBasicAuth authenticates with HTTP Basic (MLFLOW_TRACKING_USERNAME and
// MLFLOW_TRACKING_PASSWORD), the login of `mlflow server --app-name basic-auth`. As in MLflow's own
// client (mlflow/utils/rest_utils.py), a username and password are sent as Basic and win over
// a token; the token is sent as Bearer only without them. One without the other is an error.
func WithBasicAuth(username, password string) Option {
	return func(c *Client) { c.username, c.password = username, password }
}

// Client talks to one MLflow tracking server.
type Client struct {
	base               *url.URL
	token              string
	username, password string
	http               *http.Client
}

// New returns a client for the tracking server at baseURL (e.g. http://mlflow:5000). token is sent
// as a bearer token; it may be empty for a server without authentication.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mlflow: tracking URL %q is not an http(s) URL: set it to the tracking server, e.g. http://mlflow:5000", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("mlflow: tracking URL must not carry credentials, a query or a fragment: give credentials separately")
	}
	if strings.ContainsAny(token, "\r\n") {
		return nil, errors.New("mlflow: the token contains a line break: pass the token alone")
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	switch {
	case (c.username == "") != (c.password == ""):
		return nil, errors.New("mlflow: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD go together: set both for HTTP Basic, or neither")
	case strings.Contains(c.username, ":"):
		return nil, errors.New("mlflow: MLFLOW_TRACKING_USERNAME contains ':', which HTTP Basic cannot carry: use the username alone")
	case strings.ContainsAny(c.username+c.password, "\r\n"):
		return nil, errors.New("mlflow: the username or password contains a line break: pass them alone")
	}
	if (c.token != "" || c.password != "") && domain.ClearText(u) {
		return nil, fmt.Errorf("mlflow: tracking URL %s is plain http: MLflow credentials are sent only over https, or to a loopback host (localhost, 127.0.0.1, ::1): use the https URL of the tracking server", u.Redacted())
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	// Go's client forwards Authorization on a redirect to another port of the same host (and to
	// its subdomains): a redirect away from the server is refused, never followed with credentials.
	hc := *c.http
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !domain.SameOrigin(c.base, req.URL) {
			return fmt.Errorf("MLflow redirected %s %s to %s://%s: credentials are never sent to another host; set MLFLOW_TRACKING_URI to the server it redirects to if that is the tracking server",
				via[0].Method, via[0].URL.Path, req.URL.Scheme, req.URL.Host)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.http = &hc
	return c, nil
}

func (c *Client) redact(s string) string {
	for _, secret := range []string{c.token, c.password} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// do calls method path (under /api/2.0/mlflow) and decodes the JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, hint404 string, out any) error {
	endpoint := method + " /api/2.0/mlflow" + path
	u := *c.base
	u.Path = c.base.Path + "/api/2.0/mlflow" + path
	u.RawQuery = query.Encode()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("mlflow: %s: encode request: %w", endpoint, err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rdr)
	if err != nil {
		return fmt.Errorf("mlflow: %s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.username != "" && c.password != "":
		req.SetBasicAuth(c.username, c.password)
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mlflow: %s: %s: check the tracking URL and the network", endpoint, c.redact(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("mlflow: %s: reading the answer: %s", endpoint, c.redact(err.Error()))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(endpoint, resp.StatusCode, data, hint404)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("mlflow: %s: the answer is not the expected JSON (%v): check that the URL points at an MLflow tracking server", endpoint, err)
	}
	return nil
}

func (c *Client) apiError(endpoint string, status int, body []byte, hint404 string) error {
	e := &APIError{Endpoint: endpoint, StatusCode: status}
	var m struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil {
		e.Code = m.ErrorCode
		e.Message = c.redact(m.Message)
		if len(e.Message) > 300 {
			e.Message = strings.ToValidUTF8(e.Message[:300], "") + "…"
		}
	}
	switch {
	case e.Is(ErrUnauthorized):
		e.Hint = "the tracking server refused the credentials: pass a valid MLflow token with access to the model registry"
	case e.Is(ErrNotFound):
		e.Hint = hint404
	case e.Code == "INVALID_PARAMETER_VALUE":
		e.Hint = "MLflow rejected a parameter: check the model name and version"
	}
	return e
}

// flexInt64 decodes an int64 sent as a JSON number or string (protobuf JSON renders int64 as string).
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*f = flexInt64(n)
	return nil
}

// flexFloat decodes a double sent as a JSON number or as the strings "NaN", "Infinity", "-Infinity".
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		switch str {
		case "NaN":
			*f = flexFloat(math.NaN())
		case "Infinity":
			*f = flexFloat(math.Inf(1))
		case "-Infinity":
			*f = flexFloat(math.Inf(-1))
		default:
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return fmt.Errorf("not a number: %s", b)
			}
			*f = flexFloat(v)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}

// ModelVersion is a registered model version.
type ModelVersion struct {
	Name                 string
	Version              string
	RunID                string
	Source               string
	Status               string // READY, PENDING_REGISTRATION, FAILED_REGISTRATION
	CurrentStage         string
	Description          string
	Aliases              []string
	CreationTimestamp    int64 // milliseconds since the epoch
	LastUpdatedTimestamp int64
}

type wireModelVersion struct {
	Name                 string    `json:"name"`
	Version              string    `json:"version"`
	RunID                string    `json:"run_id"`
	Source               string    `json:"source"`
	Status               string    `json:"status"`
	CurrentStage         string    `json:"current_stage"`
	Description          string    `json:"description"`
	Aliases              []string  `json:"aliases"`
	CreationTimestamp    flexInt64 `json:"creation_timestamp"`
	LastUpdatedTimestamp flexInt64 `json:"last_updated_timestamp"`
}

func (w wireModelVersion) model() *ModelVersion {
	return &ModelVersion{
		Name: w.Name, Version: w.Version, RunID: w.RunID, Source: w.Source, Status: w.Status,
		CurrentStage: w.CurrentStage, Description: w.Description, Aliases: w.Aliases,
		CreationTimestamp: int64(w.CreationTimestamp), LastUpdatedTimestamp: int64(w.LastUpdatedTimestamp),
	}
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("mlflow: no registered model name: set the model name (e.g. soccer-predict)")
	}
	return nil
}

// checkVersion requires a positive decimal model version.
func checkVersion(version string) error {
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != version {
		return fmt.Errorf("mlflow: model version %q is not a positive integer: pass the version number shown in the model registry", version)
	}
	return nil
}

// GetModelVersionByAlias returns the version of model name that alias points at.
func (c *Client) GetModelVersionByAlias(ctx context.Context, name, alias string) (*ModelVersion, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if alias == "" {
		return nil, errors.New("mlflow: no alias: pass an alias such as champion")
	}
	var out struct {
		ModelVersion *wireModelVersion `json:"model_version"`
	}
	hint := fmt.Sprintf("registered model %q has no alias %q (or does not exist): register a model version and set the alias, e.g. via the model gate's promotion", name, alias)
	if err := c.do(ctx, http.MethodGet, "/registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, hint, &out); err != nil {
		return nil, err
	}
	if out.ModelVersion == nil || out.ModelVersion.Version == "" {
		return nil, fmt.Errorf("mlflow: alias %q of model %q: the answer holds no model_version: check the tracking server version (aliases need MLflow ≥ 2.3)", alias, name)
	}
	return out.ModelVersion.model(), nil
}

// GetModelVersion returns version of model name; ErrNotFound when it does not exist.
func (c *Client) GetModelVersion(ctx context.Context, name, version string) (*ModelVersion, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	var out struct {
		ModelVersion *wireModelVersion `json:"model_version"`
	}
	hint := fmt.Sprintf("model %q has no version %s: pick an existing version from the model registry", name, version)
	if err := c.do(ctx, http.MethodGet, "/model-versions/get", url.Values{"name": {name}, "version": {version}}, nil, hint, &out); err != nil {
		return nil, err
	}
	if out.ModelVersion == nil || out.ModelVersion.Version == "" {
		return nil, fmt.Errorf("mlflow: model %q version %s: the answer holds no model_version", name, version)
	}
	return out.ModelVersion.model(), nil
}

// RunMetrics returns the latest value of every metric of run runID.
func (c *Client) RunMetrics(ctx context.Context, runID string) (map[string]float64, error) {
	if strings.TrimSpace(runID) == "" {
		return nil, errors.New("mlflow: no run id: the model version was not created from a run; its metrics are unknown")
	}
	var out struct {
		Run *struct {
			Data struct {
				Metrics []struct {
					Key   string    `json:"key"`
					Value flexFloat `json:"value"`
				} `json:"metrics"`
			} `json:"data"`
		} `json:"run"`
	}
	hint := fmt.Sprintf("run %s does not exist (deleted, or on another tracking server): re-register the model from an existing run", runID)
	if err := c.do(ctx, http.MethodGet, "/runs/get", url.Values{"run_id": {runID}}, nil, hint, &out); err != nil {
		return nil, err
	}
	if out.Run == nil {
		return nil, fmt.Errorf("mlflow: run %s: the answer holds no run", runID)
	}
	metrics := make(map[string]float64, len(out.Run.Data.Metrics))
	for _, m := range out.Run.Data.Metrics {
		metrics[m.Key] = float64(m.Value)
	}
	return metrics, nil
}

// ChampionMetrics returns the version behind model's champion alias and the metrics of the run that
// produced it.
func (c *Client) ChampionMetrics(ctx context.Context, model string) (version string, metrics map[string]float64, err error) {
	mv, err := c.GetModelVersionByAlias(ctx, model, ChampionAlias)
	if err != nil {
		return "", nil, err
	}
	metrics, err = c.RunMetrics(ctx, mv.RunID)
	if err != nil {
		return "", nil, fmt.Errorf("metrics of champion %s version %s: %w", model, mv.Version, err)
	}
	return mv.Version, metrics, nil
}

// SetAlias points alias of model name at version (POST registered-models/alias).
func (c *Client) SetAlias(ctx context.Context, name, alias, version string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if alias == "" {
		return errors.New("mlflow: no alias: pass an alias such as champion")
	}
	if err := checkVersion(version); err != nil {
		return err
	}
	body := map[string]string{"name": name, "alias": alias, "version": version}
	var out struct{}
	hint := fmt.Sprintf("model %q or its version %s does not exist: pick an existing version", name, version)
	return c.do(ctx, http.MethodPost, "/registered-models/alias", nil, body, hint, &out)
}

// SetChampion moves the champion alias of model to version after checking that the version exists
// and is READY. It returns the version the alias pointed at before ("" when there was none).
func (c *Client) SetChampion(ctx context.Context, model, version string) (previous string, err error) {
	mv, err := c.GetModelVersion(ctx, model, version)
	if err != nil {
		return "", fmt.Errorf("cannot make version %s the champion of %s: %w", version, model, err)
	}
	if mv.Status != "" && mv.Status != "READY" {
		return "", fmt.Errorf("mlflow: model %q version %s is %s, not READY: pick a version whose registration succeeded", model, version, mv.Status)
	}
	cur, err := c.GetModelVersionByAlias(ctx, model, ChampionAlias)
	switch {
	case err == nil:
		previous = cur.Version
	case errors.Is(err, ErrNotFound):
	default:
		return "", err
	}
	if err := c.SetAlias(ctx, model, ChampionAlias, version); err != nil {
		return "", err
	}
	return previous, nil
}

// SetModelTag sets tag key of registered model name to value (POST registered-models/set-tag).
func (c *Client) SetModelTag(ctx context.Context, name, key, value string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if strings.TrimSpace(key) == "" {
		return errors.New("mlflow: no tag key")
	}
	if err := CheckTagValue(key, value); err != nil {
		return err
	}
	body := map[string]string{"name": name, "key": key, "value": value}
	var out struct{}
	return c.do(ctx, http.MethodPost, "/registered-models/set-tag", nil, body, fmt.Sprintf("registered model %q does not exist: check SP_MLFLOW_MODEL", name), &out)
}
