package lint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFormatCheck(t *testing.T) {
	out := "Would reformat: soccerpredict/train.py\nWould reformat: /src/soccerpredict/api/main.py\n2 files would be reformatted, 14 files already formatted\n"
	issues, err := ParseFormatCheck(out, "/src")
	require.NoError(t, err)
	require.Len(t, issues, 2)
	assert.Equal(t, Issue{
		Description: FormatDescription,
		CheckName:   FormatCheck,
		Fingerprint: Fingerprint(FormatCheck, "soccerpredict/api/main.py", 1, FormatDescription),
		Severity:    SeverityMinor,
		Location:    Location{Path: "soccerpredict/api/main.py", Lines: Lines{Begin: 1}},
	}, issues[0])
	assert.Equal(t, "soccerpredict/train.py", issues[1].Location.Path)
	assert.Equal(t, "2 issues in 2 files", Summary(issues))
}

func TestParseFormatCheckVariants(t *testing.T) {
	ok := map[string]int{
		"16 files already formatted\n":                                              0,
		"1 file already formatted":                                                  0,
		"3 files left unchanged\n":                                                  0,
		"Would reformat: a.py\r\n1 file would be reformatted\r\n":                   1,
		"Would reformat: a.py\n1 file would be reformatted, 2 files left unchanged": 1,
		"\x1b[1mWould reformat: a.py\x1b[0m\n1 file would be reformatted\n":         1,
		"Would reformat: a.py\n":                                                    1, // summary cut off but files listed: still a finding
	}
	for in, n := range ok {
		issues, err := ParseFormatCheck(in, "/src/")
		require.NoError(t, err, "%q", in)
		assert.Len(t, issues, n, "%q", in)
	}
	bad := map[string]string{
		"": "no summary line",
		"warning: No Python files found under the given path(s)\n":                  "no summary line",
		"2 files would be reformatted\nWould reformat: a.py\n":                      "says 2 files would be reformatted but lists 1",
		"error: Failed to parse x.py:1:5: Expected ')'\n1 file already formatted\n": "could not check every file",
		"Would reformat: /etc/passwd\n1 file would be reformatted":                  "outside the project root",
	}
	for in, want := range bad {
		_, err := ParseFormatCheck(in, "/src/")
		require.ErrorContains(t, err, want, "%q", in)
	}
}

func FuzzParseFormatCheck(f *testing.F) {
	f.Add("Would reformat: a.py\n1 file would be reformatted, 2 files already formatted\n", "/src")
	f.Add("3 files already formatted", "")
	f.Add("error: boom", "/")
	f.Fuzz(func(t *testing.T, out, root string) {
		issues, err := ParseFormatCheck(out, root)
		if err != nil {
			return
		}
		for _, is := range issues {
			require.Equal(t, FormatCheck, is.CheckName)
			require.NotEmpty(t, is.Location.Path)
			require.NotEqual(t, '/', rune(is.Location.Path[0]))
		}
	})
}
