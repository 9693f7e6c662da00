package rollback

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/config"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/helm"
	"gitlab.com/soccerpredictai/pipeline/ci/deploy/policy"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/dvc"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/gitlab"
	"gitlab.com/soccerpredictai/pipeline/ci/mlflow"
	projectpkg "gitlab.com/soccerpredictai/pipeline/ci/project"
)

// A rollback is decided like a deploy, once, from what the module gathered:
//
//  1. CheckService, CheckModel and CheckData read the flags before anything is read.
//  2. The module gathers the facts: the release's helm history, the model registry's answers
//     about the version and the champion, or git's about the DVC pointer files; and, for a
//     service or the model, GitLab's answers about who rolls back.
//  3. DecideService, DecideModel and DecideData find the target, apply the rollback policy
//     (policy.ResolveRollback; rollback-data records its actor as given), review the request
//     (Review) and return the plan the module executes; its methods say what happened.

// Where rollback-service's container holds the audit release's chart and the record it stores.
const (
	AuditChartDir   = "/audit-chart"
	AuditRecordFile = "/audit/audit.json"
)

// Flags are what rollback-service and rollback-model are asked besides their target.
type Flags struct {
	// Env is --env, unparsed.
	Env     string
	Confirm bool
	Reason  string
	// Claims are --actor, --job-id, --pipeline-id and --deployment-id: GitLab checks them.
	Claims policy.Claims
}

// Who is GitLab's answer about the run: what proves who rolls back (and, for production, the
// approvals), and the commit's author.
type Who struct {
	Proof  policy.Proof
	Author policy.Identity
}

// ServiceRequest is a rollback-service whose flags passed CheckService.
type ServiceRequest struct {
	Flags
	Env domain.Environment
	// Revision is --revision: 0 for the previous good revision.
	Revision int
	// Release and Namespace are the helm release rolled back; Commit is the pipeline's commit.
	Release, Namespace string
	Timeout            time.Duration
	Commit             domain.Commit
	// History prints the release's revisions (helm history -o json): the module runs it.
	History []string
}

// CheckService checks rollback-service's flags before anything is read: the environment, the
// revision and the kubeconfig it cannot run without.
func CheckService(f Flags, revision int, kubeconfig bool, s config.Settings) (ServiceRequest, error) {
	env, err := domain.ParseEnvironment(f.Env)
	if err != nil {
		return ServiceRequest{}, err
	}
	if revision < 0 {
		return ServiceRequest{}, fmt.Errorf("--revision=%d: pass a revision number from `helm history`, or 0 for the previous good revision; nothing was changed", revision)
	}
	if !kubeconfig {
		return ServiceRequest{}, fmt.Errorf("--kubeconfig is required: the cluster's kubeconfig as a secret (--kubeconfig=env:KUBECONFIG_CONTENT)")
	}
	ns := env.Namespace(s.Namespace)
	history, err := helm.HistoryArgs(s.Release, ns, 0)
	if err != nil {
		return ServiceRequest{}, err
	}
	return ServiceRequest{Flags: f, Env: env, Revision: revision, Release: s.Release, Namespace: ns, Timeout: s.HelmTimeout, Commit: s.Commit, History: history}, nil
}

// ServiceFacts are what the module gathered for a ServiceRequest.
type ServiceFacts struct {
	Request ServiceRequest
	// History is what the request's History printed.
	History []byte
	Who     Who
}

// ServicePlan is rollback-service's decision.
type ServicePlan struct {
	// Outcome is the reviewed request: its record, and whether it acts.
	Outcome Outcome
	// Report is the answer when it does not act: the history, how to confirm, the record.
	Report string
	// Rollback is helm rollback's command line; Store the command that keeps the record in the
	// audit release (AuditChartDir, AuditRecordFile), run after it by the same container.
	Rollback, Store []string
	// Use is the deployment a laptop run records in GitLab before it rolls back (policy.UseOf).
	Use                *gitlab.NewDeployment
	release, namespace string
	target             int
}

// DecideService finds the revision to roll back to in the release's history, decides who rolls
// back and whether it may (policy.ResolveRollback: refused only when confirmed) and reviews the
// request. A target that is not a good earlier revision is an error and nothing is changed.
func DecideService(f ServiceFacts) (ServicePlan, error) {
	req := f.Request
	revs, err := helm.ParseHistory(f.History)
	if err != nil {
		return ServicePlan{}, fmt.Errorf("%w; nothing was changed", err)
	}
	target, err := helm.RollbackTarget(revs, req.Revision)
	if err != nil {
		return ServicePlan{}, fmt.Errorf("cannot roll back %s in %s: %w; nothing was changed", req.Release, req.Namespace, err)
	}
	current, _ := helm.Deployed(revs)
	argv, err := helm.RollbackArgs(helm.Rollback{Release: req.Release, Namespace: req.Namespace, Revision: target.Revision, Timeout: req.Timeout})
	if err != nil {
		return ServicePlan{}, err
	}
	plan := fmt.Sprintf("%s (revision %d %s → revision %d %s, %q)", projectpkg.Join(argv),
		current.Revision, current.Chart, target.Revision, target.Chart, target.Description)
	decision := policy.ResolveRollback(policy.Request{Env: req.Env, Commit: req.Commit, Author: f.Who.Author,
		Job: policy.RollbackJob(string(RollbackService), req.Env)}, req.Claims, f.Who.Proof)
	if req.Confirm {
		if err := decision.Err(); err != nil {
			return ServicePlan{}, fmt.Errorf("rollback-service in %s refused (nothing was changed): %w", req.Env, err)
		}
	}
	out, err := Review(Request{
		Action: RollbackService, Env: req.Env, Target: strconv.Itoa(target.Revision), From: strconv.Itoa(current.Revision),
		Reason: req.Reason, Actor: recordActor(decision, req.Claims.Actor), Confirm: req.Confirm, Plan: plan,
	})
	if err != nil {
		return ServicePlan{}, err
	}
	p := ServicePlan{Outcome: out, release: req.Release, namespace: req.Namespace, target: target.Revision}
	if !out.Act {
		text, err := auditText(out, planNote(decision))
		p.Report = historyText(revs) + "\n" + text
		return p, err
	}
	p.Rollback, p.Use = argv, decision.Use
	if p.Store, err = StoreArgs(req.Release, req.Namespace, AuditChartDir, AuditRecordFile, out.Record); err != nil {
		return ServicePlan{}, err
	}
	return p, nil
}

// RollbackFailed is rollback-service's error when helm rollback exited with code.
func (p ServicePlan) RollbackFailed(code int, stderr string) error {
	return fmt.Errorf("helm rollback of %s in %s to revision %d failed (exit %d): %s",
		p.release, p.namespace, p.target, code, strings.Join(gate.Tail(stderr, 10), " | "))
}

// StoreFailed is rollback-service's error when the rollback was done but its record could not be
// stored (why: helm's exit and words): the record is in the message, to file by hand.
func (p ServicePlan) StoreFailed(why string) error {
	raw, err := p.Outcome.Record.JSON()
	if err != nil {
		return err
	}
	return fmt.Errorf("rolled back %s in %s to revision %d, but the audit record could not be stored in release %s of %s (%s): file this record by hand (e.g. in the GitLab environment's deployment) and check the kubeconfig may manage ConfigMaps:\n%s",
		p.release, p.namespace, p.target, domain.AuditRelease(p.release), p.namespace, why, raw)
}

// Done is rollback-service's answer once helm rolled back (its output helmOutput) and the record
// was stored.
func (p ServicePlan) Done(helmOutput string) (string, error) {
	return auditText(p.Outcome, strings.Join(gate.Tail(helmOutput, 5), "\n")+"\naudit record stored: helm history "+domain.AuditRelease(p.release)+" --namespace "+p.namespace)
}

// ModelRequest is a rollback-model whose flags passed CheckModel.
type ModelRequest struct {
	Flags
	Env domain.Environment
	// Model is the registered model (SP_MLFLOW_MODEL); Version the one to make the champion again.
	Model, Version string
	Commit         domain.Commit
}

// CheckModel checks rollback-model's flags before anything is read: the version, the tracking
// server it cannot run without, and the environment the record is filed under.
func CheckModel(f Flags, version string, s config.Settings) (ModelRequest, error) {
	if err := ValidateModelVersion(version); err != nil {
		return ModelRequest{}, fmt.Errorf("%w; nothing was changed", err)
	}
	if s.MLflowURL == "" {
		return ModelRequest{}, fmt.Errorf("rollback-model needs the MLflow tracking server: set MLFLOW_TRACKING_URI in --settings-file (e.g. MLFLOW_TRACKING_URI=https://mlflow.example.com); nothing was changed")
	}
	env, err := domain.ParseEnvironment(f.Env)
	if err != nil {
		return ModelRequest{}, fmt.Errorf("%w; nothing was changed", err)
	}
	served, err := mlflow.AliasServes(mlflow.ChampionAlias)
	if err != nil {
		return ModelRequest{}, err
	}
	if s.MLflowModel != mlflow.ProductionModel {
		return ModelRequest{}, fmt.Errorf("SP_MLFLOW_MODEL=%s is not the registered model production serves (%s, mlflow.ProductionModel): drop it from the settings; nothing was changed", s.MLflowModel, mlflow.ProductionModel)
	}
	if env != served {
		return ModelRequest{}, fmt.Errorf("rollback-model moves the %q alias of %s, which %s serves: it needs %s's approvals; drop --env=%s (or pass --env=%s); nothing was changed",
			mlflow.ChampionAlias, s.MLflowModel, served, served, env, served)
	}
	return ModelRequest{Flags: f, Env: served, Model: s.MLflowModel, Version: version, Commit: s.Commit}, nil
}

// ModelFacts are what the module gathered for a ModelRequest.
type ModelFacts struct {
	Request ModelRequest
	// Version is the registry's answer for the requested version.
	Version mlflow.ModelVersion
	// Champion is the version behind the champion alias ("" when the alias is not set).
	Champion string
	Who      Who
}

// ModelPlan is rollback-model's decision.
type ModelPlan struct {
	Outcome Outcome
	// Report is the answer when it does not act: how to confirm, and the record.
	Report string
	// Use is the deployment a laptop run records in GitLab before it moves the alias (policy.UseOf).
	Use   *gitlab.NewDeployment
	model string
}

// DecideModel refuses a version that cannot serve (not READY, already the champion), decides
// who rolls back and whether it may (refused only when confirmed) by the rules of the environment
// the champion alias serves (production, whatever the request says), and reviews the request. A
// record too long for MLflow's tag (mlflow.MaxTagValueLen) is refused here, before the alias moves.
func DecideModel(f ModelFacts) (ModelPlan, error) {
	req := f.Request
	served, err := mlflow.AliasServes(mlflow.ChampionAlias)
	if err != nil {
		return ModelPlan{}, err
	}
	req.Env = served
	if s := f.Version.Status; s != "" && s != "READY" {
		return ModelPlan{}, fmt.Errorf("model %s version %s is %s, not READY: pick a version whose registration succeeded; nothing was changed", req.Model, req.Version, s)
	}
	if f.Champion == req.Version {
		return ModelPlan{}, fmt.Errorf("version %s is already the champion of %s: nothing to roll back; nothing was changed", req.Version, req.Model)
	}
	plan := fmt.Sprintf("move alias %s of model %s from version %s to version %s (run %s)",
		mlflow.ChampionAlias, req.Model, orNone(f.Champion), req.Version, orUnknown(f.Version.RunID))
	decision := policy.ResolveRollback(policy.Request{Env: req.Env, Commit: req.Commit, Author: f.Who.Author,
		Job: policy.RollbackJob(string(RollbackModel), req.Env)}, req.Claims, f.Who.Proof)
	if req.Confirm {
		if err := decision.Err(); err != nil {
			return ModelPlan{}, fmt.Errorf("rollback-model of %s refused (nothing was changed): %w", req.Model, err)
		}
	}
	out, err := Review(Request{
		Action: RollbackModel, Env: req.Env, Target: req.Version, From: f.Champion,
		Reason: req.Reason, Actor: recordActor(decision, req.Claims.Actor), Confirm: req.Confirm, Plan: plan,
	})
	if err != nil {
		return ModelPlan{}, err
	}
	p := ModelPlan{Outcome: out, model: req.Model, Use: decision.Use}
	if err := p.fitsTag(); err != nil {
		return ModelPlan{}, err
	}
	if !out.Act {
		p.Report, err = auditText(out, planNote(decision))
	}
	return p, err
}

// Moved is the record of a rollback-model that moved the champion alias from previous (the
// version the registry said it moved it from).
func (p ModelPlan) Moved(previous string) Record {
	rec := p.Outcome.Record
	rec.From = previous
	return rec
}

// maxVersionLen is the longest model version ValidateModelVersion accepts: the record's From, once
// the registry answered, is at most that long.
const maxVersionLen = 18

// fitsTag refuses a record that MLflow would not store as ModelTag, whatever version the registry
// says it moved the alias from.
func (p ModelPlan) fitsTag() error {
	raw, err := p.Moved(strings.Repeat("9", maxVersionLen)).JSON()
	if err != nil {
		return err
	}
	if err := mlflow.CheckTagValue(ModelTag, string(raw)); err != nil {
		return fmt.Errorf("the audit record of this rollback-model would be %d characters; MLflow stores at most %d in a registered model tag: shorten --reason (it is %d characters); nothing was changed",
			len([]rune(string(raw))), mlflow.MaxTagValueLen, len([]rune(strings.TrimSpace(p.Outcome.Record.Reason))))
	}
	return nil
}

// Done is rollback-model's answer once the alias moved from previous and the record was stored.
func (p ModelPlan) Done(previous string) (string, error) {
	out := p.Outcome
	out.Record = p.Moved(previous)
	return auditText(out, fmt.Sprintf("champion of %s: version %s → %s\naudit record stored: tag %s of registered model %s", p.model, orNone(previous), out.Record.Target, ModelTag, p.model))
}

// DataRequest is a rollback-data whose flags passed CheckData.
type DataRequest struct {
	Flags
	Env domain.Environment
	// Rev is the git rev whose DVC pointer files are restored; Project the project's directory.
	Rev, Project string
}

// CheckData checks rollback-data's flags before anything is read: the environment the record is
// filed under and the rev.
func CheckData(f Flags, rev, project string) (DataRequest, error) {
	env, err := domain.ParseEnvironment(f.Env)
	if err != nil {
		return DataRequest{}, fmt.Errorf("%w; nothing was changed", err)
	}
	if err := ValidateDVCRev(rev); err != nil {
		return DataRequest{}, fmt.Errorf("%w; nothing was changed", err)
	}
	return DataRequest{Flags: f, Env: env, Rev: rev, Project: project}, nil
}

// DataFacts are what git answered for a DataRequest.
type DataFacts struct {
	Request DataRequest
	// Head is the repository's HEAD commit and Target the rev's.
	Head, Target string
	// Stat and NameStatus are `git diff --stat` and `git diff --no-renames --name-status` of the
	// project's DVC pointer files (dvc.PointerPathspecs) between Target and the work tree.
	Stat, NameStatus string
}

// DataPlan is rollback-data's decision.
type DataPlan struct {
	Outcome Outcome
	// Restore are the pointer files to restore from Target; Remove those added after it.
	Restore, Remove []string
	plan            string
}

// DecideData finds which pointer files changed since the rev (nothing changed: an error, nothing
// to roll back) and reviews the request.
func DecideData(f DataFacts) (DataPlan, error) {
	req := f.Request
	restore, remove, err := dvc.ParseNameStatus(f.NameStatus)
	if err != nil {
		return DataPlan{}, fmt.Errorf("read which DVC pointer files changed since %s (%s): %w; nothing was changed", req.Rev, f.Target, err)
	}
	if len(restore)+len(remove) == 0 {
		return DataPlan{}, fmt.Errorf("the DVC pointer files at %s (%s) are the ones in the repository now: nothing to roll back; nothing was changed", req.Rev, f.Target)
	}
	var plan strings.Builder
	fmt.Fprintf(&plan, "restore the DVC pointer files of %s from %s (%s):\n%s\n", req.Project, req.Rev, f.Target, f.Stat)
	for _, file := range remove {
		fmt.Fprintf(&plan, "delete %s (added after %s)\n", file, req.Rev)
	}
	out, err := Review(Request{
		Action: RollbackData, Env: req.Env, Target: req.Rev, From: f.Head,
		Reason: req.Reason, Actor: req.Claims.Actor, Confirm: req.Confirm, Plan: strings.TrimSpace(plan.String()),
	})
	if err != nil {
		return DataPlan{}, err
	}
	return DataPlan{Outcome: out, Restore: restore, Remove: remove, plan: plan.String()}, nil
}

// Changed are the pointer files git restores from the target: those to restore and those to
// delete.
func (p DataPlan) Changed() []string {
	return append(append([]string(nil), p.Restore...), p.Remove...)
}

// Notes is rollback-plan.txt: the plan and what happens next; dvcNote, once the pointer files
// were restored, says whether their data is there.
func (p DataPlan) Notes(dvcNote string) string {
	notes := p.plan + "\n" + p.Outcome.Message + "\n"
	if p.Outcome.Act {
		notes += "\n" + dvcNote + "\nCommit the restored pointer files (and the deletions above) in a merge request; " + FollowUp + "\n"
	}
	return notes
}

// recordActor is who the audit record names: the person GitLab proved, else (for a plan that
// changes nothing) the claim, marked as unproven.
func recordActor(d policy.Decision, claimed string) string {
	switch {
	case d.Actor != "":
		return d.Actor
	case strings.TrimSpace(claimed) != "":
		return strings.TrimSpace(claimed) + " (not proven)"
	}
	return "unknown (not proven)"
}

// planNote tells, with a plan, what confirming would still need.
func planNote(d policy.Decision) string {
	if d.Allowed {
		return ""
	}
	return "confirming will be refused until:\n  - " + strings.Join(d.Reasons, "\n  - ")
}

// historyText lists the release's revisions, newest first, for choosing --revision.
func historyText(revs []helm.Revision) string {
	var b strings.Builder
	b.WriteString("helm history (newest first):\n")
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		fmt.Fprintf(&b, "  %d  %-11s %s  %s\n", r.Revision, r.Status, r.Chart, r.Description)
	}
	return b.String()
}

// auditText renders a reviewed rollback: what to do next, what was done, and the record.
func auditText(out Outcome, done string) (string, error) {
	record, err := out.Record.JSON()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(out.Message + "\n")
	if done != "" {
		b.WriteString("\n" + done + "\n")
	}
	b.WriteString("\n" + string(record))
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String(), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
