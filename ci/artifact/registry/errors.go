package registry

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// Error kinds; test them with errors.Is.
var (
	// ErrInvalidReference: a source or destination reference is malformed.
	ErrInvalidReference = errors.New("invalid image reference")
	// ErrNotByDigest: the source is not pinned by digest.
	ErrNotByDigest = errors.New("source is not pinned by digest")
	// ErrInsecure: a registry would be reached over plain http without being opted in
	// (Options.PlainHTTP, --insecure-registry).
	ErrInsecure = errors.New("plain-http registry not allowed")
	// ErrNotFound: the source image does not exist in the registry.
	ErrNotFound = errors.New("image not found")
	// ErrUnauthorized: the registry refused the request (HTTP 401/403).
	ErrUnauthorized = errors.New("registry refused the credentials")
	// ErrTagCollision: a destination tag already points at another digest.
	ErrTagCollision = errors.New("tag already points at another digest")
	// ErrDigestMismatch: a digest read back differs from the source digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnsupported: the source manifest is neither an image nor an index.
	ErrUnsupported = errors.New("unsupported manifest media type")
	// ErrRegistry: any other registry or network failure.
	ErrRegistry = errors.New("registry request failed")
)

// Error is a promotion failure: Msg is the full human message (what failed and how to
// fix it), Kind one of the Err* values and Cause the underlying error, if any.
type Error struct {
	Kind  error
	Msg   string
	Cause error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

func newError(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Cause: cause}
}

// statusOf returns the HTTP status and registry error codes in err, if it came from
// a registry.
func statusOf(err error) (int, map[transport.ErrorCode]bool) {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return 0, nil
	}
	codes := map[transport.ErrorCode]bool{}
	for _, d := range terr.Errors {
		codes[d.Code] = true
	}
	return terr.StatusCode, codes
}

func isUnauthorized(err error) bool {
	status, codes := statusOf(err)
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		codes[transport.UnauthorizedErrorCode] || codes[transport.DeniedErrorCode]
}

func isNotFound(err error) bool {
	status, codes := statusOf(err)
	return status == http.StatusNotFound || codes[transport.ManifestUnknownErrorCode] ||
		codes[transport.NameUnknownErrorCode]
}

// authError builds the credentials error for a request to registry about ref.
func authError(err error, registry, action, ref string, haveCreds bool) *Error {
	status, _ := statusOf(err)
	if !haveCreds {
		return newError(ErrUnauthorized, err,
			"registry %s requires credentials to %s %s (HTTP %d): pass --username-file/--password-file with REGISTRY_USER/REGISTRY_PASSWORD",
			registry, action, ref, status)
	}
	return newError(ErrUnauthorized, err,
		"registry rejected the credentials for %s while trying to %s %s (HTTP %d): check REGISTRY_USER/REGISTRY_PASSWORD (the user needs read access to the source and write access to the destination)",
		registry, action, ref, status)
}

// ExitCode is the exit status the registry tools (ci/cmd/oci) give err:
// 0 none; 2 malformed or not-by-digest reference; 3 image not found; 4 credentials refused;
// 5 tag collision; 6 digest mismatch; 7 plain-http registry not opted in; 1 anything else.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrInvalidReference), errors.Is(err, ErrNotByDigest):
		return 2
	case errors.Is(err, ErrNotFound):
		return 3
	case errors.Is(err, ErrUnauthorized):
		return 4
	case errors.Is(err, ErrTagCollision):
		return 5
	case errors.Is(err, ErrDigestMismatch):
		return 6
	case errors.Is(err, ErrInsecure):
		return 7
	}
	return 1
}

// ReferenceArg reads an image reference given to a tool as flag with domain.ParseImageRef (the
// one parser); a refusal is ErrInvalidReference, the tools' exit code for bad input.
func ReferenceArg(flag, s string) (domain.ImageRef, error) {
	r, err := domain.ParseImageRef(s)
	if err != nil {
		return domain.ImageRef{}, newError(ErrInvalidReference, err, "%s: %v", flag, err)
	}
	return r, nil
}

// readFailure is the error of a failed read of ref (as the user gave it) from registry host: the
// plain-HTTP refusal when the registry has no TLS and may not be reached over plain HTTP, a login
// problem (authError), notFound when the registry has no such image, and otherwise "cannot read
// subject", naming the registry's answer. Resolve, Labels and PromoteAll's source read share it.
func readFailure(err error, opts Options, host, ref, subject, notFound string) error {
	if perr := opts.PlainHTTP.CheckReachable(host, err); perr != nil {
		return perr
	}
	switch {
	case isUnauthorized(err):
		return authError(err, host, "read", ref, opts.haveCreds())
	case isNotFound(err):
		return newError(ErrNotFound, err, "%s", notFound)
	}
	return newError(ErrRegistry, err, "cannot read %s: %v: check that the registry is reachable", subject, err)
}
