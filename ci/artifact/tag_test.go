package artifact

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/domain"
)

func dg(n int) domain.Digest { return domain.Digest(fmt.Sprintf("sha256:%064x", n)) }

const branchTag = "registry.example.com/sp/api:main-01234567"

func ref(t testing.TB, s string) domain.ImageRef {
	r, err := domain.ParseImageRef(s)
	require.NoError(t, err, s)
	return r
}

func TestDecideTag(t *testing.T) {
	for _, tc := range []struct {
		name, tag       string
		existing, built domain.Digest
		want            TagAction
		err             string
	}{
		{"new tag is pushed", branchTag, "", dg(1), TagPush, ""},
		{"retry of the same build reuses", branchTag, dg(1), dg(1), TagReuse, ""},
		{"another build never moves the tag", branchTag, dg(1), dg(2), "", "main-01234567 already holds " + string(dg(1)) + ", this build is " + string(dg(2))},
		{"release tag is immutable too", "registry.example.com/sp/api:v1.2.3", dg(1), dg(2), "", "a published tag never moves"},
		{"release tag first push", "registry.example.com/sp/api:v1.2.3", "", dg(2), TagPush, ""},
		{"latest is not a publish tag", "registry.example.com/sp/api:latest", "", dg(1), "", "publish never writes \"latest\""},
		{"a digest reference is not a tag", "registry.example.com/sp/api@" + string(dg(1)), "", dg(1), "", "a destination is a tag"},
		{"tag and digest is not a plain tag", "registry.example.com/sp/api:v1@" + string(dg(1)), "", dg(1), "", "a destination is a tag"},
		{"built digest empty", branchTag, "", "", "", "digest of the new build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecideTag(ref(t, tc.tag), tc.existing, tc.built)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Empty(t, got, "a refusal never comes with an action")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecideTagRefusalSaysWhatToDo(t *testing.T) {
	_, err := DecideTag(ref(t, branchTag), dg(1), dg(2))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTagImmutable))
	assert.Contains(t, err.Error(), "registry.example.com/sp/api@"+string(dg(1)), "names the published image to use instead")
	assert.Contains(t, err.Error(), "images.env")
}

// A model registry that applies DecideTag as publish does, fed random sequences of publish
// attempts (retries of the same build, rebuilds that differ, late retries of an old
// pipeline): the tag's first digest is never replaced, and every successful attempt reports
// exactly that digest.
func TestPropertyDecideTagNeverMovesATag(t *testing.T) {
	rng := rand.New(rand.NewSource(20261201))
	for seq := 0; seq < 2000; seq++ {
		registry := map[string]domain.Digest{}
		first := map[string]domain.Digest{}
		for step := 0; step < 1+rng.Intn(12); step++ {
			tag := fmt.Sprintf("registry.example.com/sp/api:main-%08x", rng.Intn(3))
			built := dg(1 + rng.Intn(3))
			action, err := DecideTag(ref(t, tag), registry[tag], built)
			switch {
			case err != nil:
				require.ErrorIs(t, err, ErrTagImmutable)
				assert.NotEqual(t, registry[tag], built)
			case action == TagPush:
				require.Empty(t, registry[tag], "push only onto a missing tag")
				registry[tag] = built
				first[tag] = built
			case action == TagReuse:
				require.Equal(t, registry[tag], built)
			}
			for k, v := range first {
				require.Equal(t, v, registry[k], "seq %d: tag %s moved", seq, k)
			}
		}
	}
}

func TestCheckPromotionRefusesLatest(t *testing.T) {
	for _, ok := range []string{"registry.example.com/sp/api:v1.2.0", "registry.example.com/sp/api:staging", "registry.example.com/sp/api:latest-rc"} {
		dst, err := domain.ParseTaggedRef(ok)
		require.NoError(t, err)
		assert.NoError(t, CheckPromotion(dst), ok)
	}
	dst, err := domain.ParseTaggedRef("registry.example.com/sp/api:latest")
	require.NoError(t, err)
	err = CheckPromotion(dst)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dagger call release --version=vX.Y.Z", "the refusal names the command that moves latest")
}
