package helm

import (
	"fmt"
	"time"
)

// Limits on names, from Kubernetes and helm.
const (
	// MaxTimeout bounds --timeout: a helm wait longer than this is treated
	// as a mistake.
	MaxTimeout = time.Hour
)

func validateTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("timeout %s is not positive: use a value such as 5m", d)
	}
	if d > MaxTimeout {
		return fmt.Errorf("timeout %s is longer than %s: use a shorter --timeout (a rollout that slow is stuck)", d, MaxTimeout)
	}
	if d%time.Second != 0 {
		return fmt.Errorf("timeout %s has a sub-second part: use whole seconds, e.g. 5m", d)
	}
	return nil
}
