package toolchain

// The toolchain staging and production run with, committed here and nowhere else: no flag,
// --settings-file or .env reaches it. Changing it is a reviewed commit to this file.

// committedPins replaces the default (images.go) of a guarded image for staging and production.
// Empty: the defaults. Pin a digest you have verified, e.g.
//
//	Golang: "golang:1.26@sha256:<64 hex>",
//
// A pin is parsed and mirrored like any reference (TestCommittedPinsParse).
var committedPins = map[Image]string{}

// committedMirrors are the registry-mirror prefixes staging and production may pull through:
// GitLab's Dependency Proxy of the project's top-level group (soccerpredictai, the group of
// policy.TrustedProject), as $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX spells it on gitlab.com
// (host with its port, then <group>/dependency_proxy/containers), and the same prefix without
// the default port. Pulling straight from the images' own registries (no mirror) is always
// allowed.
var committedMirrors = []string{
	"gitlab.com:443/soccerpredictai/dependency_proxy/containers",
	"gitlab.com/soccerpredictai/dependency_proxy/containers",
}

// guarded are the images staging and production take only from committed configuration: the
// Go image the tools that verify signatures (oci), decrypt secrets (sops-decrypt) and redact
// manifests (manifest-redact) are built and run in, Helm (which holds the kubeconfig and the
// decrypted values) and Trivy (whose report is scan evidence).
var guarded = []Image{Golang, Helm, Trivy}
