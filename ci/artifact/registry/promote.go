package registry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// DefaultUserAgent is sent to registries unless Options.UserAgent is set.
const DefaultUserAgent = "soccerpredict-promote"

// Options tunes a promotion. The zero value is anonymous, reaches loopback registries
// over plain http when they have no TLS and every other registry over https only, and
// refuses to move an existing tag (other than "latest").
type Options struct {
	// Auth is used for every registry the promotion touches (the source's and the
	// destinations'). Nil means anonymous. Build it with Credentials.Authenticator.
	Auth authn.Authenticator
	// PlainHTTP is the plain-HTTP rule (see PlainHTTP): loopback registries always,
	// others only when opted in with --insecure-registry (ParseInsecureRegistries).
	// Every opted-in host must be the registry of the source or of a destination.
	PlainHTTP PlainHTTP
	// AllowOverwrite lets a destination tag that points at another digest be moved.
	// "latest" may always move.
	AllowOverwrite bool
	// Transport replaces the HTTP transport (nil: go-containerregistry's default).
	Transport http.RoundTripper
	// UserAgent is sent with every request (empty: DefaultUserAgent).
	UserAgent string
}

func (o Options) haveCreds() bool { return o.Auth != nil && o.Auth != authn.Anonymous }

func (o Options) remote(ctx context.Context) []remote.Option {
	auth := o.Auth
	if auth == nil {
		auth = authn.Anonymous
	}
	ua := o.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth), remote.WithUserAgent(ua)}
	ro = append(ro, remote.WithTransport(o.PlainHTTP.Transport(o.Transport)))
	return ro
}

// names are the name options for a reference to registry host (see PlainHTTP.NameOptions).
func (o Options) names(host string) []name.Option { return o.PlainHTTP.NameOptions(host) }

// Result is what a promotion did; it marshals to the JSON printed by ci/cmd/oci.
type Result struct {
	// Source is the source reference "repo@sha256:...".
	Source domain.ImageRef `json:"source"`
	// Digest is the digest every destination now resolves to.
	Digest domain.Digest `json:"digest"`
	// Destinations are the "repo:tag" references written (or already correct), in the
	// order given.
	Destinations []domain.ImageRef `json:"destinations"`
	// Referrers are the digests of the evidence (OCI referrers of the source digest: gate
	// report, scan, SBOM, provenance) copied along into other repositories.
	Referrers []string `json:"referrers,omitempty"`
}

type destination struct {
	input    domain.ImageRef
	ref      name.Tag
	existing *v1.Descriptor // nil when the tag does not exist yet
}

// PromoteAll copies src to every destination. It validates every reference, reads the
// source, and checks every destination tag for a collision before writing anything;
// then it writes each destination and reads it back to verify the digest.
func PromoteAll(ctx context.Context, src domain.ImageRef, dsts []domain.ImageRef, opts Options) (Result, error) {
	srcRef, dests, err := parseAll(src, dsts, opts)
	if err != nil {
		return Result{}, err
	}
	ro := opts.remote(ctx)
	srcName := srcRef.Context().String() + "@" + srcRef.DigestStr()

	desc, err := remote.Get(srcRef, ro...)
	if err != nil {
		return Result{}, readFailure(err, opts, srcRef.RegistryStr(), srcName, "image "+srcName,
			fmt.Sprintf("image %s not found: check the digest and that it was published (publish writes the digests to images.env)", srcName))
	}
	digest, err := registryDigest(desc.Digest.String(), srcName)
	if err != nil {
		return Result{}, err
	}
	if string(digest) != srcRef.DigestStr() {
		return Result{}, newError(ErrDigestMismatch, nil,
			"registry %s served digest %s for %s: refusing to promote content that does not match its digest", srcRef.RegistryStr(), digest, srcName)
	}
	if !desc.MediaType.IsImage() && !desc.MediaType.IsIndex() {
		return Result{}, newError(ErrUnsupported, nil,
			"image %s has media type %q, which is neither an image manifest nor an index: promote an image built by publish", srcName, desc.MediaType)
	}

	// Check every destination before writing anything.
	var collisions []string
	for i := range dests {
		d := &dests[i]
		cur, err := remote.Head(d.ref, ro...)
		if perr := opts.PlainHTTP.CheckReachable(d.ref.RegistryStr(), err); perr != nil {
			return Result{}, perr
		}
		switch {
		case err == nil:
			d.existing = cur
		case isNotFound(err):
		case isUnauthorized(err):
			return Result{}, authError(err, d.ref.RegistryStr(), "read", d.input.String(), opts.haveCreds())
		default:
			return Result{}, newError(ErrRegistry, err, "cannot read destination %s: %v: check that the registry is reachable", d.input, err)
		}
		if d.existing != nil && d.existing.Digest != desc.Digest && !opts.AllowOverwrite && d.input.Tag != domain.LatestTag {
			collisions = append(collisions, fmt.Sprintf("%s points at %s", d.input, d.existing.Digest))
		}
	}
	if len(collisions) > 0 {
		return Result{}, newError(ErrTagCollision, nil,
			"refusing to move existing tags (%s), not %s: tags other than latest are immutable; pick a new tag or pass --allow-overwrite",
			strings.Join(collisions, "; "), digest)
	}

	res := Result{Source: domain.Pinned(src.Repository, digest), Digest: digest}
	for _, d := range dests {
		if d.existing == nil || d.existing.Digest != desc.Digest {
			if err := write(d.ref, srcRef, desc, ro); err != nil {
				if isUnauthorized(err) {
					return res, authError(err, d.ref.RegistryStr(), "push", d.input.String(), opts.haveCreds())
				}
				return res, newError(ErrRegistry, err, "cannot push %s to %s: %v", srcName, d.input, err)
			}
		}
		got, err := remote.Head(d.ref, ro...)
		if err != nil {
			if isUnauthorized(err) {
				return res, authError(err, d.ref.RegistryStr(), "read", d.input.String(), opts.haveCreds())
			}
			return res, newError(ErrRegistry, err, "cannot read back %s after the push: %v", d.input, err)
		}
		if got.Digest != desc.Digest {
			return res, newError(ErrDigestMismatch, nil,
				"%s resolves to %s after the push, expected %s: another job moved the tag meanwhile; re-run promote", d.input, got.Digest, digest)
		}
		res.Destinations = append(res.Destinations, d.input)
	}
	// The evidence travels with the image: copy its referrers into every other repository.
	copied := map[string]bool{}
	for _, d := range dests {
		repo := d.ref.Context()
		if copied[repo.String()] {
			continue
		}
		copied[repo.String()] = true
		refs, err := copyReferrers(srcRef, repo, ro, opts)
		if err != nil {
			return res, fmt.Errorf("%s was promoted but its evidence was not copied along: %w; re-run promote (it is idempotent)", srcName, err)
		}
		res.Referrers = append(res.Referrers, refs...)
	}
	return res, nil
}

// write pushes desc to dst: a plain re-tag within the source repository, a copy with
// blob mounting/skipping otherwise.
func write(dst name.Tag, src name.Digest, desc *remote.Descriptor, ro []remote.Option) error {
	if dst.Context().String() == src.Context().String() {
		return remote.Tag(dst, desc, ro...)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		return remote.WriteIndex(dst, idx, ro...)
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	return remote.Write(dst, img, ro...)
}

// parseAll turns the source and destinations into go-containerregistry names (its own parser,
// at the network edge): the source must be pinned by digest, each destination a plain tag, each
// on a registry host, no destination twice, and every opted-in plain-HTTP host used.
func parseAll(src domain.ImageRef, dsts []domain.ImageRef, opts Options) (name.Digest, []destination, error) {
	if src.Digest == "" {
		return name.Digest{}, nil, newError(ErrNotByDigest, nil,
			"source %s is not pinned by digest: promote %s@sha256:<64 hex> (the value publish wrote to images.env), never a tag", src, src.Repository)
	}
	if src.Repository.Host() == "" {
		return name.Digest{}, nil, newError(ErrInvalidReference, nil,
			"source %s has no registry host: write it as registry.example.com/%s@%s", src, src.Repository, src.Digest)
	}
	srcRef, err := name.NewDigest(src.ByDigest(), opts.names(src.Repository.Host())...)
	if err != nil {
		return name.Digest{}, nil, newError(ErrInvalidReference, err, "source %s: %v", src, err)
	}
	used := map[string]bool{strings.ToLower(srcRef.RegistryStr()): true}
	if len(dsts) == 0 {
		return name.Digest{}, nil, newError(ErrInvalidReference, nil, "no destination given: pass --dst repo:tag at least once")
	}
	seen := map[domain.ImageRef]bool{}
	dests := make([]destination, 0, len(dsts))
	for _, d := range dsts {
		if d.Tag == "" || d.Digest != "" {
			return name.Digest{}, nil, newError(ErrInvalidReference, nil, "destination %s: a destination is a tag, write it as %s:<tag>", d, d.Repository)
		}
		if d.Repository.Host() == "" {
			return name.Digest{}, nil, newError(ErrInvalidReference, nil,
				"destination %s has no registry host: write it as registry.example.com/%s:%s", d, d.Repository, d.Tag)
		}
		if seen[d] {
			return name.Digest{}, nil, newError(ErrInvalidReference, nil, "destination %s is listed twice: list each destination once", d)
		}
		seen[d] = true
		ref, err := name.NewTag(d.String(), opts.names(d.Repository.Host())...)
		if err != nil {
			return name.Digest{}, nil, newError(ErrInvalidReference, err, "destination %s: %v", d, err)
		}
		used[strings.ToLower(ref.RegistryStr())] = true
		dests = append(dests, destination{input: d, ref: ref})
	}
	for _, h := range opts.PlainHTTP.Hosts() {
		if !used[h] {
			return name.Digest{}, nil, newError(ErrInvalidReference, nil,
				"%s=%s is not needed: no source or destination is on that registry; remove the flag (or fix the host, port included)", InsecureRegistryFlag, h)
		}
	}
	return srcRef, dests, nil
}
