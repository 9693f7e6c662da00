package modelgate

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
	"gitlab.com/soccerpredictai/pipeline/ci/project"
)

// Training is one run of the project's training command as the module observed it: the model
// gate's candidate (SP_TRAIN_COMMAND) or the smoke run (SP_SMOKE_COMMAND).
type Training struct {
	// Gate is the gate the run decides: gate.ModelGate or gate.Smoke.
	Gate string
	// Command is the configured command; its Setting is where a wrong call is fixed.
	Command project.Command
	// Argv is what ran: Command with the placeholders replaced.
	Argv []string
	// MetricsPath is where MetricsPlaceholder pointed: the metrics JSON the gate reads back.
	MetricsPath string
	// Code and Output are the exit code and the combined output of the run.
	Code   int
	Output string
	// StartErr is set, instead of Code and Output, when the command could not be started at all.
	StartErr error
	// WroteMetrics says whether the run left a file at MetricsPath.
	WroteMetrics bool
}

// Produced reports whether the run left metrics to compare: it started, exited 0 and wrote them.
func (t Training) Produced() bool { return t.StartErr == nil && t.Code == 0 && t.WroteMetrics }

// Result is the run's verdict for its gate. Pass: the command exited 0 and wrote its metrics.
// Error — the module called the project wrongly, the project was not judged — when the command
// could not start, was not found or not executable (exit 127/126), Python found no such script
// or `-m` module, the command line parser refused its arguments (argparse or click: exit 2 with
// a usage message), or it exited 0 without writing the metrics; the summary names the setting
// to change. Anything else the project's own code did is a Fail with the output's last lines,
// unless the tool itself could not run (gate.ClassifyRun). Every result shows the argv.
func (t Training) Result() gate.Result {
	command := "command: " + project.Join(t.Argv)
	switch {
	case t.StartErr != nil:
		return t.wrongCall(fmt.Sprintf("could not be started (%v)", t.StartErr), nil)
	case t.Produced():
		return gate.NewResult(t.Gate, gate.Pass, fmt.Sprintf("%s completed: %s", t.what(), gate.Last(t.Output)), command)
	case t.Code == 0:
		return t.wrongCall(fmt.Sprintf("exited 0 but wrote no metrics JSON at %s, where it was told to (%s)", t.MetricsPath, project.MetricsPlaceholder), gate.Tail(t.Output, 5))
	}
	if why, ok := calledWrongly(t.Argv, t.Code, t.Output); ok {
		return t.wrongCall(why, gate.Tail(t.Output, 10))
	}
	r := gate.NewResult(t.Gate, gate.Fail, fmt.Sprintf("%s failed: `%s` exited %d", t.what(), project.Join(t.Argv), t.Code),
		append([]string{command}, gate.Tail(t.Output, 20)...)...)
	return gate.ClassifyRun(r, t.Code, t.Output)
}

// what names the run in summaries.
func (t Training) what() string {
	switch t.Gate {
	case gate.Smoke:
		return "smoke training"
	case gate.ModelGate:
		return "candidate training"
	}
	return "training"
}

// wrongCall is the Error of a run the module started wrongly: it names the argv, why it says so,
// and the setting to change, with a corrected command when the parser said which words it refused.
func (t Training) wrongCall(why string, output []string) gate.Result {
	setting := orDefault(t.Command.Setting, "the training command setting")
	fix := fmt.Sprintf("set %s (in --settings-file) to the project's own command, with %s where it writes the metrics JSON", setting, project.MetricsPlaceholder)
	if c := t.Command.String(); c != "" {
		fix += fmt.Sprintf(" (now `%s`)", c)
	}
	if better, ok := t.withoutRefused(); ok {
		fix += fmt.Sprintf(", e.g. without what it refused: %s=%s", setting, better)
	}
	summary := fmt.Sprintf("%s: the project was called wrongly, not judged: `%s` %s; %s",
		t.what(), project.Join(t.Argv), why, fix)
	return gate.NewResult(t.Gate, gate.Error, summary, append([]string{"command: " + project.Join(t.Argv)}, output...)...)
}

var (
	argparseUsage = regexp.MustCompile(`(?m)^usage: `)
	argparseError = regexp.MustCompile(`(?m)^.+?: error: (.+)$`)
	clickUsage    = regexp.MustCompile(`(?m)^Usage: `)
	clickError    = regexp.MustCompile(`(?m)^Error: (.+)$`)
	noScript      = regexp.MustCompile(`(?m)^\S*python[0-9.]*: can't open file '([^']*)'`)
	noModule      = regexp.MustCompile(`(?m)^\S*python[0-9.]*: No module named ([\w.]+)`)
	noModuleSpec  = regexp.MustCompile(`(?m)^\S*python[0-9.]*: Error while finding module specification for '[^']*' \(\w+: No module named '([\w.]+)'\)`)
	pythonBinary  = regexp.MustCompile(`^python[0-9.]*$`)
	// notInPath is how Go programs (the engine's runtime among them) say a program is not installed.
	notInPath = regexp.MustCompile(`exec: "([^"]+)": executable file not found in \$PATH`)
	// unrecognized is argparse's and click's word for arguments the parser does not know.
	unrecognized = regexp.MustCompile(`(?:unrecognized arguments|No such option|Got unexpected extra arguments?): (.+)$`)
)

// calledWrongly reports why a run that exited code with output says the command line was wrong
// rather than the project: a command not found or not executable, a Python script or `-m`
// module that does not exist, or a parser that refused the arguments.
func calledWrongly(argv []string, code int, output string) (string, bool) {
	switch code {
	case 127:
		return "exited 127: the program was not found", true
	case 126:
		return "exited 126: the program is not executable", true
	}
	if code == 2 && argparseUsage.MatchString(output) {
		if m := argparseError.FindStringSubmatch(output); m != nil {
			return fmt.Sprintf("exited 2: its argument parser refused the call (%s)", strings.TrimSpace(m[0])), true
		}
	}
	if code == 2 && clickUsage.MatchString(output) {
		if m := clickError.FindStringSubmatch(output); m != nil {
			return fmt.Sprintf("exited 2: its argument parser refused the call (%s)", strings.TrimSpace(m[0])), true
		}
	}
	if m := notInPath.FindStringSubmatch(output); m != nil && len(argv) > 0 && m[1] == argv[0] {
		return fmt.Sprintf("exited %d: the program %s is not installed in the image (%s)", code, argv[0], m[0]), true
	}
	if m := noScript.FindStringSubmatch(output); m != nil {
		return fmt.Sprintf("exited %d: the script %s does not exist", code, m[1]), true
	}
	if module := moduleOf(argv); module != "" {
		for _, re := range []*regexp.Regexp{noModule, noModuleSpec} {
			// Only the module asked for (or its package) being absent is the call's fault; any
			// other missing module is a dependency the project lacks.
			if m := re.FindStringSubmatch(output); m != nil && within(module, strings.TrimSuffix(m[1], ".__main__")) {
				return fmt.Sprintf("exited %d: Python has no module %s to run (%s)", code, module, strings.TrimSpace(m[0])), true
			}
		}
	}
	return "", false
}

// moduleOf returns the module of `python -m <module>` in argv, or "".
func moduleOf(argv []string) string {
	for i := 0; i+2 < len(argv); i++ {
		if pythonBinary.MatchString(path.Base(argv[i])) && argv[i+1] == "-m" {
			return argv[i+2]
		}
	}
	return ""
}

// within reports whether name is module or one of its packages.
func within(module, name string) bool {
	return name == module || strings.HasPrefix(module, name+".")
}

// withoutRefused is the configured command without the words the parser said it does not know,
// when each of them is a literal word of the command (never a placeholder's) and what remains
// is still a valid command: the likely fix, e.g. the sample's `--full` for a project without it.
func (t Training) withoutRefused() (string, bool) {
	if t.Code != 2 || t.Command.String() == "" {
		return "", false
	}
	var m []string
	for _, re := range []*regexp.Regexp{argparseError, clickError} {
		if m = unrecognized.FindStringSubmatch(re.FindString(t.Output)); m != nil {
			break
		}
	}
	if m == nil {
		return "", false
	}
	words, err := project.Split(t.Command.String())
	if err != nil {
		return "", false
	}
	for _, bad := range strings.Fields(m[1]) {
		i := indexOf(words, bad)
		if i < 0 {
			return "", false
		}
		words = append(words[:i:i], words[i+1:]...)
	}
	c, err := project.ParseCommand(t.Command.Setting, project.Join(words))
	if err != nil {
		return "", false
	}
	return c.String(), true
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
