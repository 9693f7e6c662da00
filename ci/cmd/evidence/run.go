package main

import (
	"context"
	"encoding/json"
	"errors"
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
	"gitlab.com/soccerpredictai/pipeline/ci/artifact/registry"
	"gitlab.com/soccerpredictai/pipeline/ci/domain"
	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// EvidenceFile is the summary verify writes.
const EvidenceFile = "evidence.json"

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

// exitCode maps an error from run to the documented exit status (registry.ExitCode).
func exitCode(err error) int {
	var ue usageError
	switch {
	case isHelp(err):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return registry.ExitCode(err)
}

const usage = "usage: evidence attach --image repo@sha256:<digest> [--gate-report F] [--trivy F] [--sbom F] [--provenance F] [--signing-key-file F [--signing-password-file F] [--public-key F]] [--username-file F --password-file F] [--insecure-registry host:port ...]\n" +
	"       evidence check-key --signing-key-file F [--signing-password-file F] [--public-key F]\n" +
	"       evidence verify --commit <sha> --image service=repo@sha256:<digest> [--image …] --out DIR [--public-key F] [--username-file F --password-file F] [--insecure-registry host:port ...]"

// common are the flags both subcommands take.
type common struct {
	userFile, passFile *string
	insecure           *listFlag
	timeout            *time.Duration
}

func commonFlags(fs *flag.FlagSet) common {
	return common{
		userFile: fs.String("username-file", "", "file holding the registry username"),
		passFile: fs.String("password-file", "", "file holding the registry password or token"),
		insecure: insecureFlag(fs),
		timeout:  fs.Duration("timeout", 10*time.Minute, "give up after this long"),
	}
}

func insecureFlag(fs *flag.FlagSet) *listFlag {
	l := &listFlag{}
	fs.Var(l, "insecure-registry", "reach this registry `host[:port]` over plain http (no TLS; never for production); loopback registries need no flag")
	return l
}

func (c common) options() (registry.Options, error) {
	opts := registry.Options{UserAgent: "soccerpredict-evidence"}
	plain, err := registry.ParseInsecureRegistries(*c.insecure)
	if err != nil {
		return opts, usageError{msg: err.Error()}
	}
	opts.PlainHTTP = plain
	if *c.userFile != "" || *c.passFile != "" {
		creds, err := registry.LoadCredentials(*c.userFile, *c.passFile)
		if err != nil {
			return opts, usageError{msg: err.Error()}
		}
		opts.Auth = creds.Authenticator()
	}
	if *c.timeout <= 0 {
		return opts, usageError{msg: "--timeout must be positive, e.g. --timeout 10m"}
	}
	return opts, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{msg: "name a subcommand: attach, verify or check-key"}
	}
	switch args[0] {
	case "attach":
		return runAttach(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "check-key":
		return runCheckKey(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	return usageError{msg: fmt.Sprintf("unknown subcommand %q: use attach, verify or check-key", args[0])}
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if isHelp(err) {
			return err
		}
		return usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func runAttach(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence attach", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "image by digest: `repo@sha256:<64 hex>` (required)")
	files := map[string]*string{
		attest.TypeGateReport: fs.String("gate-report", "", "gate-report.json of the commit"),
		attest.TypeTrivy:      fs.String("trivy", "", "Trivy JSON report of the image"),
		attest.TypeSBOM:       fs.String("sbom", "", "CycloneDX JSON SBOM of the image"),
		attest.TypeInToto:     fs.String("provenance", "", "in-toto statement with the SLSA provenance of the image"),
	}
	sf := signingFlags(fs)
	c := commonFlags(fs)
	if err := parse(fs, args); err != nil {
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
	signer, err := sf.signer()
	if err != nil {
		return err
	}
	if signer != nil {
		if docs, err = signAll(signer, *image, docs); err != nil {
			return usageError{msg: err.Error()}
		}
	}
	opts, err := c.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *c.timeout)
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
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var images listFlag
	fs.Var(&images, "image", "`service=repo@sha256:<64 hex>`; repeat for each image")
	commit := fs.String("commit", "", "the commit the images must be the build of (required)")
	out := fs.String("out", "", "directory to write evidence.json and the documents that counted (required)")
	publicKey := fs.String("public-key", "", "trusted attestation public key (PEM); when given, only statements signed by it count")
	c := commonFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	var trusted *signing.Verifier
	if *publicKey != "" {
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
	opts, err := c.options()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *c.timeout)
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
		if trusted != nil {
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
	if trusted != nil {
		sum.KeyID = trusted.KeyID()
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
