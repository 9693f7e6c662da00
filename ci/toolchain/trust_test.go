package toolchain

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

const groupProxy = "gitlab.com:443/soccerpredictai/dependency_proxy/containers"

// resolve is what the module does with ForEnvironment's answer.
func resolve(t *testing.T, env domain.Environment, over map[Image]string, mirror string) (Set, error) {
	t.Helper()
	decided, err := ForEnvironment(env, over, mirror)
	if err != nil {
		return Set{}, err
	}
	s, err := NewSet(decided, mirror)
	require.NoError(t, err)
	return s, nil
}

func TestDevKeepsEveryOverride(t *testing.T) {
	over := map[Image]string{Golang: "mirror.local/golang:1.26", Helm: "mirror.local/helm:4", Trivy: "mirror.local/trivy:1", Python: "python:3.12"}
	s, err := resolve(t, domain.Dev, over, "mirror.local/proxy")
	require.NoError(t, err)
	assert.Equal(t, "mirror.local/proxy/mirror.local/golang:1.26", s.Ref(Golang))
	assert.Equal(t, "mirror.local/proxy/mirror.local/helm:4", s.Ref(Helm))
	assert.Equal(t, "mirror.local/proxy/python:3.12", s.Ref(Python))
}

func TestStagingAndProductionRefuseGuardedOverrides(t *testing.T) {
	for _, env := range []domain.Environment{domain.Staging, domain.Production, "qa"} {
		for _, img := range []Image{Golang, Helm, Trivy} {
			_, err := ForEnvironment(env, map[Image]string{img: "evil.example/" + string(img) + ":1"}, "")
			require.Error(t, err, "%s %s", env, img)
			assert.Contains(t, err.Error(), "--"+string(img)+"-image=evil.example/"+string(img)+":1 is refused for "+string(env))
			assert.Contains(t, err.Error(), "Drop --"+string(img)+"-image")
			assert.Contains(t, err.Error(), "ci/toolchain/pins.go")
		}
		// Every refusal is reported at once.
		_, err := ForEnvironment(env, map[Image]string{Golang: "g:1", Helm: "h:1"}, "evil.example/proxy")
		require.Error(t, err)
		for _, flag := range []string{"--golang-image=g:1", "--helm-image=h:1", "--registry-mirror=evil.example/proxy"} {
			assert.Contains(t, err.Error(), flag)
		}
	}
}

func TestStagingAndProductionUseTheCommittedImages(t *testing.T) {
	for _, env := range []domain.Environment{domain.Staging, domain.Production} {
		// No mirror: the defaults (images.go's table, read here literally as the oracle).
		s, err := resolve(t, env, map[Image]string{Python: "python:3.12-slim", Helm: ""}, "")
		require.NoError(t, err)
		assert.Equal(t, "golang:1.26", s.Ref(Golang))
		assert.Equal(t, "alpine/helm:4.3.2", s.Ref(Helm))
		assert.Equal(t, "aquasec/trivy:0.58.1", s.Ref(Trivy))
		assert.Equal(t, "python:3.12-slim", s.Ref(Python), "an unguarded override is kept")

		// GitLab's Dependency Proxy of the group, as CI passes it (with and without a trailing slash).
		for _, m := range []string{groupProxy, groupProxy + "/", "gitlab.com/soccerpredictai/dependency_proxy/containers"} {
			s, err = resolve(t, env, nil, m)
			require.NoError(t, err, m)
			assert.Equal(t, stripSlash(m)+"/golang:1.26", s.Ref(Golang))
		}
	}
}

func TestStagingAndProductionRefuseOtherMirrors(t *testing.T) {
	for _, m := range []string{
		"gitlab.com:443/someone-else/dependency_proxy/containers", // another group's proxy
		"gitlab.example.com:443/soccerpredictai/dependency_proxy/containers",
		groupProxy + "/extra",
		"mirror.internal",
	} {
		_, err := ForEnvironment(domain.Production, nil, m)
		require.Error(t, err, m)
		assert.Contains(t, err.Error(), "--registry-mirror="+m+" (SP_REGISTRY_MIRROR) is refused for production")
		assert.Contains(t, err.Error(), groupProxy)
		_, err = ForEnvironment(domain.Dev, nil, m)
		assert.NoError(t, err, "dev keeps its mirror: %s", m)
	}
}

// ForEnvironment's answer is accepted again as it is (a function that asks twice gets the same
// images), and naming the committed image is not choosing one.
func TestForEnvironmentIsIdempotent(t *testing.T) {
	first, err := ForEnvironment(domain.Production, map[Image]string{Python: "python:3.12"}, groupProxy)
	require.NoError(t, err)
	again, err := ForEnvironment(domain.Production, first, groupProxy)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	_, err = ForEnvironment(domain.Staging, map[Image]string{Golang: "golang:1.26"}, "")
	assert.NoError(t, err, "the committed Go image itself")
}

func TestCommittedPinsParse(t *testing.T) {
	for img, pin := range committedPins {
		assert.True(t, slices.Contains(guarded, img), "%s: only guarded images are pinned here", img)
		r, err := domain.ParseImageRef(pin)
		require.NoError(t, err, pin)
		assert.NotEqual(t, domain.LatestTag, string(r.Tag), pin)
	}
	for _, m := range committedMirrors {
		_, err := NewSet(nil, m)
		assert.NoError(t, err, "a committed mirror is a registry prefix: %s", m)
	}
}

func TestCheckChart(t *testing.T) {
	assert.NoError(t, CheckChart(domain.Dev, true))
	for _, env := range []domain.Environment{domain.Dev, domain.Staging, domain.Production} {
		assert.NoError(t, CheckChart(env, false), env)
	}
	for _, env := range []domain.Environment{domain.Staging, domain.Production, "qa"} {
		err := CheckChart(env, true)
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), "--chart is refused for "+string(env))
		assert.Contains(t, err.Error(), "Drop --chart")
		assert.Contains(t, err.Error(), ChartPath)
	}
}

// Property: whatever a caller passes, outside dev the guarded images resolve exactly as with no
// override at all, or the call is refused; it is refused exactly when a guarded image is
// overridden or the mirror is not a committed one.
func TestGuardedImagesProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(18))
	refs := []string{"", "", "golang:1.25", "evil.example/x:1", "alpine/helm:4.3.2"}
	mirrors := []string{"", groupProxy, groupProxy + "/", "evil.example/proxy", "gitlab.com:443/other/dependency_proxy/containers"}
	envs := []domain.Environment{domain.Dev, domain.Staging, domain.Production}
	for i := 0; i < 2000; i++ {
		env := envs[rng.Intn(len(envs))]
		over := map[Image]string{}
		for _, img := range Images() {
			over[img] = refs[rng.Intn(len(refs))]
		}
		mirror := mirrors[rng.Intn(len(mirrors))]
		s, err := resolve(t, env, over, mirror)
		if env == domain.Dev {
			require.NoError(t, err)
			continue
		}
		wantRefusal := mirror != "" && !slices.Contains(CommittedMirrors(), stripSlash(mirror))
		committed, cerr := NewSet(committedPins, "")
		require.NoError(t, cerr)
		for _, img := range Guarded() {
			wantRefusal = wantRefusal || (over[img] != "" && over[img] != committed.Ref(img))
		}
		if wantRefusal {
			require.Error(t, err, "%s %v %q", env, over, mirror)
			continue
		}
		require.NoError(t, err, "%s %v %q", env, over, mirror)
		// The oracle: the committed table alone, whatever the caller passed.
		plain, err := NewSet(committedPins, mirror)
		require.NoError(t, err)
		for _, img := range Guarded() {
			assert.Equal(t, plain.Ref(img), s.Ref(img), "%s %s", env, img)
		}
	}
}

func stripSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
