package policy

import (
	"fmt"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

// CheckInsecureRegistries decides whether a function acting on env may reach the registries
// hosts (its --insecure-registry values) over plain http: never for production, whose images
// are read and deployed only over TLS (loopback registries need no opt-in and are not listed).
// dev and staging may. The registry rule itself (which hosts need the opt-in, how it is
// enforced) is ci/artifact/registry's PlainHTTP; this is only who may use the opt-in.
func CheckInsecureRegistries(env domain.Environment, hosts []string) error {
	if env.IsProduction() && len(hosts) > 0 {
		return fmt.Errorf("--insecure-registry=%s is refused for production: production reads and deploys images only over TLS; give the registry a certificate (or use its https endpoint) and drop the flag",
			strings.Join(hosts, ","))
	}
	return nil
}
