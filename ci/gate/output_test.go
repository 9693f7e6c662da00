package gate

import (
	"strings"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/assert"
)

func TestTail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want []string
	}{
		{"empty", "", 3, nil},
		{"fewer lines", "a\nb\n", 5, []string{"a", "b"}},
		{"skips blanks and CRLF", "a\r\n\r\n b \r\nc\n\n", 2, []string{" b", "c"}},
		{"exact", "1\n2\n3", 2, []string{"2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Tail(tt.in, tt.n))
		})
	}
	assert.Equal(t, "c", Last("a\nb\nc\n\n"))
	assert.Equal(t, "", Last("\n\n"))
}

func TestTailProperties(t *testing.T) {
	prop := func(text string, n uint8) bool {
		got := Tail(text, int(n))
		if len(got) > int(n) {
			return false
		}
		for _, l := range got {
			if strings.TrimSpace(l) == "" || strings.Contains(l, "\n") {
				return false
			}
		}
		return true
	}
	assert.NoError(t, quick.Check(prop, nil))
}
