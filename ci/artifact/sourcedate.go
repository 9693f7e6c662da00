package artifact

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/config"
)

// clockTools are the commands run in Dockerfiles that write the clock into files unless
// SOURCE_DATE_EPOCH is in their environment: pip and python (py_compile/compileall write
// timestamp-based .pyc files, whose header holds the source file's mtime, and hash-based ones
// only when SOURCE_DATE_EPOCH is set: CPython's py_compile._get_default_invalidation_mode) and
// shadow-utils' user tools (the "last password change" day in /etc/shadow comes from gettime(),
// which reads SOURCE_DATE_EPOCH). Matched as a command word: at the start, after a separator,
// a path or a quote (exec form).
var clockTools = regexp.MustCompile(`(?:^|[\s;&|(/"'])(pip3?(?:\.\d+)?|python3?(?:\.\d+)?|useradd|groupadd|adduser|addgroup|usermod|groupmod|chpasswd|chage)(?:$|[\s;&|)"'])`)

// SourceDateEpochGap is a RUN instruction that executes a clock-writing tool in a stage that has
// not declared `ARG SOURCE_DATE_EPOCH` before it, so the tool never sees the commit time.
type SourceDateEpochGap struct {
	Line  int    // line of the RUN instruction (1-based)
	Stage string // the stage's name, or its index when it has none
	Tool  string // the tool found in the command
}

func (g SourceDateEpochGap) String() string {
	return fmt.Sprintf("line %d (stage %s): RUN runs %s without SOURCE_DATE_EPOCH: add `ARG SOURCE_DATE_EPOCH` after the stage's FROM (the pipeline passes the commit time as that build argument)", g.Line, g.Stage, g.Tool)
}

// SourceDateEpochGaps lists the RUN instructions of a Dockerfile that run pip, python or a
// user/group tool in a stage without `ARG SOURCE_DATE_EPOCH` declared before them. BuildKit's
// Dockerfile frontend makes an ARG with a value the environment of every later RUN of its
// stage (and only of its stage: an ARG before the first FROM is not in any stage's scope until
// the stage declares it again), which is how a build argument reaches the tools. An empty
// result means every such tool runs with the commit time the pipeline passes.
func SourceDateEpochGaps(dockerfile []byte) ([]SourceDateEpochGap, error) {
	ins, err := instructions(dockerfile)
	if err != nil {
		return nil, err
	}
	var out []SourceDateEpochGap
	stage, index, declared, inStage := "", -1, false, false
	for _, in := range ins {
		switch in.Keyword {
		case "FROM":
			index++
			inStage, declared, stage = true, false, strconv.Itoa(index)
			if n := len(in.Fields); n >= 4 && strings.EqualFold(in.Fields[n-2], "AS") {
				stage = in.Fields[n-1]
			}
		case "ARG":
			for _, f := range in.Fields[1:] {
				if name, _, _ := strings.Cut(f, "="); name == config.SourceDateEpochArg && inStage {
					declared = true
				}
			}
		case "RUN":
			if !inStage || declared {
				continue
			}
			if m := clockTools.FindStringSubmatch(strings.Join(in.Fields[1:], " ")); m != nil {
				out = append(out, SourceDateEpochGap{Line: in.Line, Stage: stage, Tool: m[1]})
			}
		}
	}
	return out, nil
}

// RebuildHint explains a refused tag move ([ErrTagImmutable]: the same commit built again gave
// another digest) from the service's Dockerfile: the RUN steps that write the clock into the
// image because SOURCE_DATE_EPOCH does not reach them, each with its fix. It is "" when the
// Dockerfile has no such step (or cannot be read as one): then the difference lies elsewhere
// (docs/artifact.md, "What the digest depends on").
func RebuildHint(dockerfileName string, dockerfile []byte) string {
	gaps, err := SourceDateEpochGaps(dockerfile)
	if err != nil || len(gaps) == 0 {
		return ""
	}
	lines := make([]string, 0, len(gaps))
	for _, g := range gaps {
		lines = append(lines, "  "+dockerfileName+" "+g.String())
	}
	return "Likely cause: steps of " + dockerfileName + " write the build's clock into the image, so no two builds are the same:\n" + strings.Join(lines, "\n")
}
