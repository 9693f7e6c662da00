package moduleapi

// Cache is how a module function's result may be reused by the Dagger engine. Since v0.19 the
// engine keeps a function's result for 7 days (and across sessions on a shared engine) unless
// its doc comment says otherwise; v0.21.8's Go codegen maps `+cache="session"` to
// FunctionCachePolicyPerSession (the result is not persisted: reused only inside one `dagger`
// invocation) and `+cache="never"` to FunctionCachePolicyNever (a fresh call every time).
type Cache string

const (
	// Cached: the result depends only on the function's inputs (source, flags, pinned images):
	// no annotation, the engine's default.
	Cached Cache = ""
	// Session: the result depends on the outside world (an MLflow server, Trivy's daily
	// vulnerability database, a cluster): `+cache="session"`.
	Session Cache = "session"
	// Never: the function has side effects, or reads state that this module's own side
	// effects change within one session: `+cache="never"`.
	Never Cache = "never"
)

// Policy is one row of the table: the policy and why.
type Policy struct {
	Cache  Cache
	Reason string
}

// CachePolicies is the one table of every exported module function (constructor included) and
// its cache policy. TestEveryFunctionHasOneCachePolicy derives the function list from dagger/*.go
// and fails on a function missing here, a row for a function that does not exist, or a doc
// comment whose +cache annotation disagrees. A new function gets a row here and the matching
// annotation in its doc comment.
var CachePolicies = map[string]Policy{
	"New": {Cached, "decodes its flags and settings file; reads nothing else"},

	// Gates on the source only.
	"Lint":              {Cached, "ruff on the source with a pinned image"},
	"Test":              {Cached, "pytest on the source"},
	"TestReports":       {Cached, "pytest on the source"},
	"DataContracts":     {Cached, "Great Expectations on the committed data"},
	"DvcDry":            {Cached, "dvc repro --dry on the committed pipeline"},
	"Smoke":             {Cached, "smoke training on the committed reduced dataset"},
	"SmokeMetrics":      {Cached, "smoke training on the committed reduced dataset"},
	"ApiContract":       {Cached, "builds the API from the source and tests it in a service"},
	"ApiService":        {Cached, "a lazily built service from the source"},
	"RequirementsCheck": {Cached, "pdm export of the committed lock file"},
	"Base":              {Cached, "built from the source and pinned images"},
	"Build":             {Cached, "built from the source and pinned images"},
	"BuildAll":          {Cached, "built from the source and pinned images"},
	"Docs":              {Cached, "MkDocs on the committed docs"},

	// Gates that read the outside world.
	"ModelGate":  {Session, "reads the champion from MLflow over HTTP when MLFLOW_TRACKING_URI is set"},
	"GateReport": {Session, "runs the model gate, which reads the MLflow champion"},
	"Check":      {Session, "runs the model gate, which reads the MLflow champion"},
	"Scan":       {Session, "Trivy's vulnerability database changes daily"},
	"SecretScan": {Session, "a .trivyignore entry stops accepting a secret on its expiry date"},
	"ScanReport": {Session, "Trivy's vulnerability database changes daily"},

	// Live state this module changes: a second call in the same session must see the change.
	"Trace": {Never, "reads the live Helm release and registry labels, which deploy and rollback change"},

	// Side effects.
	"Publish":         {Never, "pushes images"},
	"Attest":          {Never, "attaches evidence as OCI referrers in the registry"},
	"VerifyEvidence":  {Never, "reads the evidence attached in the registry, which publish and attest change"},
	"PublishBase":     {Never, "pushes the base image"},
	"Promote":         {Never, "copies images to new tags"},
	"Deploy":          {Never, "helm upgrade; with --dry-run it reads the cluster's release and GitLab's approvals, which a deploy changes"},
	"Release":         {Never, "promotes images by digest to vX.Y.Z (and latest); it only reads GitLab (tags, compare)"},
	"RollbackService": {Never, "helm rollback"},
	"RollbackModel":   {Never, "moves MLflow's champion alias"},
	"RollbackData":    {Never, "its audit record carries the time of the call, and with --confirm it runs dvc pull/checkout against the remote"},
}
