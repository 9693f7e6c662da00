package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/signing"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/attest/sigstore"
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// EvidenceFile is the summary verify writes.
const EvidenceFile = "evidence.json"

// evidenceAgent is the User-Agent of attach and verify.
const evidenceAgent = "soccerpredict-evidence"

func runAttach(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci attach", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "image by digest: `repo@sha256:<64 hex>` (required)")
	files := map[string]*string{
		attest.TypeGateReport: fs.String("gate-report", "", "gate-report.json of the commit"),
		attest.TypeTrivy:      fs.String("trivy", "", "Trivy JSON report of the image"),
		attest.TypeSBOM:       fs.String("sbom", "", "CycloneDX JSON SBOM of the image"),
		attest.TypeInToto:     fs.String("provenance", "", "in-toto statement with the SLSA provenance of the image"),
	}
	sf := signingFlags(fs)
	sg := addSigstoreFlags(fs, true)
	reg := addRegistryFlags(fs, 10*time.Minute)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *image == "" {
		return usageError{msg: "--image is required: pass the image by digest, e.g. --image registry.example.com/group/api@sha256:…"}
	}
	var docs []registry.Attachment
	for _, typ := range attest.Types() {
		path := *files[typ]
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return usageError{msg: fmt.Sprintf("cannot read the %s: %v", attest.Describe(typ), err)}
		}
		docs = append(docs, registry.Attachment{ArtifactType: typ, Data: data})
	}
	if len(docs) == 0 {
		return usageError{msg: "nothing to attach: pass at least one of --gate-report, --trivy, --sbom, --provenance"}
	}
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	if sg.enabled() {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		docs, err = signBundles(sctx, sg, sf, *image, docs)
		cancel()
		if err != nil {
			return err
		}
	} else if *sg.idToken != "" {
		return usageError{msg: "--id-token-file needs --sigstore-policy"}
	} else {
		signer, err := sf.signer()
		if err != nil {
			return err
		}
		if signer != nil {
			if docs, err = signAll(signer, *image, docs); err != nil {
				return usageError{msg: err.Error()}
			}
		}
	}
	opts.UserAgent = evidenceAgent
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	subject, err := registry.ReferenceArg("--image", *image)
	if err != nil {
		return err
	}
	att, err := registry.Attach(ctx, subject, docs, opts)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(struct {
		Image    string              `json:"image"`
		Attached []registry.Attached `json:"attached"`
	}{*image, att})
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("oci verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var images listFlag
	fs.Var(&images, "image", "`service=repo@sha256:<64 hex>`; repeat for each image")
	commit := fs.String("commit", "", "the commit the images must be the build of (required)")
	out := fs.String("out", "", "directory to write evidence.json and the documents that counted (required)")
	publicKey := fs.String("public-key", "", "trusted attestation public key (PEM); when given, only statements signed by it count (with --sigstore-policy: the key of a keyed policy)")
	env := fs.String("env", "", "the environment whose rule the caller applies (dev, staging, production), echoed in evidence.json")
	nonce := fs.String("nonce", "", "the caller's random value for this run, echoed in evidence.json so an answer of another run is told apart")
	sg := addSigstoreFlags(fs, false)
	reg := addRegistryFlags(fs, 10*time.Minute)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var (
		trusted *signing.Verifier
		bundles *sigstore.Verifier
	)
	if sg.enabled() {
		p, root, err := sg.load()
		if err != nil {
			return err
		}
		if bundles, err = sg.verifier(p, root, *publicKey); err != nil {
			return err
		}
	} else if *publicKey != "" {
		v, err := loadVerifier(*publicKey)
		if err != nil {
			return err
		}
		trusted = v
	}
	if *commit == "" {
		return usageError{msg: "--commit is required: the 40-hex commit being deployed"}
	}
	verified, err := domain.ParseCommit(*commit)
	if err != nil {
		return usageError{msg: "--commit: " + err.Error()}
	}
	if *out == "" {
		return usageError{msg: "--out is required: a directory for evidence.json"}
	}
	var environment domain.Environment
	if *env != "" {
		if environment, err = domain.ParseEnvironment(*env); err != nil {
			return usageError{msg: "--env: " + err.Error()}
		}
	}
	if len(images) == 0 {
		return usageError{msg: "--image is required: pass service=repo@sha256:… for each image"}
	}
	type item struct {
		service domain.Service
		image   domain.ImageRef
	}
	var items []item
	seen := map[domain.Service]bool{}
	for _, s := range images {
		name, ref, ok := strings.Cut(s, "=")
		if !ok || name == "" || ref == "" {
			return usageError{msg: fmt.Sprintf("--image %q: write it as service=repo@sha256:…", s)}
		}
		svc, err := domain.ParseService(name)
		if err != nil {
			return usageError{msg: fmt.Sprintf("--image %q: %v", s, err)}
		}
		if seen[svc] {
			return usageError{msg: fmt.Sprintf("--image: service %s is given twice", svc)}
		}
		seen[svc] = true
		img, err := registry.ReferenceArg("--image "+name, ref)
		if err != nil {
			return err
		}
		items = append(items, item{svc, img})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].service < items[j].service })
	opts, timeout, err := reg.options()
	if err != nil {
		return err
	}
	opts.UserAgent = evidenceAgent
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var set attest.Set
	var gateDoc []byte
	for _, it := range items {
		ev, err := registry.FetchEvidence(ctx, it.service, it.image, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", it.service, err)
		}
		v := attest.Verify(ev, verified)
		switch {
		case bundles != nil:
			v = attest.VerifyBundles(ev, verified, bundles)
		case trusted != nil:
			v = attest.VerifySigned(ev, verified, trusted)
		}
		set = append(set, v)
		if v.GateReport != nil && gateDoc == nil {
			gateDoc = v.GateReport
		}
		if v.Trivy != nil {
			if err := os.WriteFile(filepath.Join(*out, gate.TrivyFor(it.service)), v.Trivy, 0o644); err != nil {
				return err
			}
		}
	}
	if gateDoc != nil {
		if err := os.WriteFile(filepath.Join(*out, gate.GateReportJSON), gateDoc, 0o644); err != nil {
			return err
		}
	}
	sum := attest.NewSummary(verified, set)
	sum.Environment, sum.Nonce = environment, *nonce
	if trusted != nil {
		sum.KeyID = trusted.KeyID()
	}
	if bundles != nil {
		sum.SigstorePolicy = bundles.Policy()
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, EvidenceFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if sum.OK {
		fmt.Fprintf(stdout, "evidence of %d images counts for commit %s\n", len(set), *commit)
	} else {
		fmt.Fprintf(stdout, "%v\n", set.Err())
	}
	return nil
}
