package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSourceDateEpochGaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		df   string
		want []SourceDateEpochGap
	}{
		{"declared after FROM covers every RUN of the stage",
			"FROM python:3.11\nARG SOURCE_DATE_EPOCH\nRUN pip install x\nRUN useradd app\n", nil},
		{"a default counts as a declaration",
			"FROM python:3.11\nARG SOURCE_DATE_EPOCH=1700000000\nRUN pip install x\n", nil},
		{"one ARG line naming several",
			"FROM python:3.11\nARG A=1 SOURCE_DATE_EPOCH\nRUN pip install x\n", nil},
		{"not declared",
			"FROM python:3.11\nRUN pip install -r r.txt\n", []SourceDateEpochGap{{2, "0", "pip"}}},
		{"declared only after the RUN",
			"FROM python:3.11\nRUN python -m compileall /app\nARG SOURCE_DATE_EPOCH\n", []SourceDateEpochGap{{2, "0", "python"}}},
		{"a global ARG is not in the stage's scope",
			"ARG SOURCE_DATE_EPOCH\nFROM debian\nRUN groupadd app && useradd -g app app\n", []SourceDateEpochGap{{3, "0", "groupadd"}}},
		{"each stage declares its own",
			"FROM python:3.11 AS model\nARG SOURCE_DATE_EPOCH\nRUN pip install x\nFROM python:3.11\nRUN pip3 install y\n",
			[]SourceDateEpochGap{{5, "1", "pip3"}}},
		{"named stage, continuation, secret mount, absolute path",
			"FROM python:3.11 AS deps\nRUN --mount=type=secret,id=pip_index_url,required=false \\\n    # a comment inside\n    true \\\n    && /usr/local/bin/pip install x\n",
			[]SourceDateEpochGap{{2, "deps", "pip"}}},
		{"exec form",
			`FROM python:3.11` + "\n" + `RUN ["python3.11", "-m", "pip", "install", "x"]` + "\n", []SourceDateEpochGap{{2, "0", "python3.11"}}},
		{"tools that write no clock need nothing",
			"FROM debian\nRUN mkdir -p /app && chown 10001 /app\nRUN echo pipeline > /x\nCOPY python/ /app/\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SourceDateEpochGaps([]byte(tc.df))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSourceDateEpochGapSaysWhatToAdd(t *testing.T) {
	g := SourceDateEpochGap{Line: 7, Stage: "model", Tool: "pip"}
	assert.Equal(t, "line 7 (stage model): RUN runs pip without SOURCE_DATE_EPOCH: add `ARG SOURCE_DATE_EPOCH` after the stage's FROM (the pipeline passes the commit time as that build argument)", g.String())
}

// Every stage of the sample's Dockerfiles that runs pip, python or useradd declares the ARG; and
// the check is not vacuous: with the declarations removed, each of those RUNs is named.
func TestSampleDockerfilesHandSourceDateEpochToEveryClockWritingStep(t *testing.T) {
	dir := filepath.Join("..", "..", "tests", "testdata", "soccerpredict", "docker")
	wantWithout := map[string][]string{
		"api.Dockerfile":     {"pip", "python", "pip", "groupadd"},
		"worker.Dockerfile":  {"pip", "groupadd"},
		"airflow.Dockerfile": {"pip"},
	}
	for name, tools := range wantWithout {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		gaps, err := SourceDateEpochGaps(b)
		require.NoError(t, err)
		assert.Empty(t, gaps, "%s: %v", name, gaps)

		stripped := strings.ReplaceAll(string(b), "\nARG SOURCE_DATE_EPOCH\n", "\n")
		require.NotEqual(t, string(b), stripped, "%s declares ARG SOURCE_DATE_EPOCH", name)
		gaps, err = SourceDateEpochGaps([]byte(stripped))
		require.NoError(t, err)
		var got []string
		for _, g := range gaps {
			got = append(got, g.Tool)
		}
		assert.Equal(t, tools, got, name)
	}
}

func FuzzSourceDateEpochGaps(f *testing.F) {
	f.Add([]byte("FROM python:3.11\nRUN pip install x\n"))
	f.Add([]byte("ARG SOURCE_DATE_EPOCH\nFROM a AS b\nARG SOURCE_DATE_EPOCH=1\nRUN useradd x \\\n"))
	f.Add([]byte("RUN python\nFROM\n \\\n#\n"))
	f.Fuzz(func(t *testing.T, df []byte) {
		gaps, err := SourceDateEpochGaps(df)
		if err != nil {
			return
		}
		lines := strings.Count(string(df), "\n") + 1
		for _, g := range gaps {
			if g.Line < 1 || g.Line > lines || g.Tool == "" {
				t.Fatalf("gap %+v outside a %d-line file", g, lines)
			}
		}
	})
}

func TestRebuildHintNamesTheStepsThatWriteTheClock(t *testing.T) {
	df := []byte("FROM python:3.11-slim\nRUN pip install -r requirements.txt\nARG SOURCE_DATE_EPOCH\nRUN useradd app\n")
	hint := RebuildHint("docker/api.Dockerfile", df)
	assert.Contains(t, hint, "docker/api.Dockerfile line 2")
	assert.Contains(t, hint, "add `ARG SOURCE_DATE_EPOCH`")
	assert.NotContains(t, hint, "line 4", "useradd runs after the ARG: it gets the commit time")
	assert.Empty(t, RebuildHint("d", []byte("FROM python:3.11-slim\nARG SOURCE_DATE_EPOCH\nRUN pip install x\n")), "no gap, no hint")
	assert.Empty(t, RebuildHint("d", []byte("")), "nothing to read, no hint")
}
