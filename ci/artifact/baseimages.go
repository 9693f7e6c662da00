package artifact

import (
	"fmt"
	"regexp"
	"strings"
)

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// BaseImages lists the images a Dockerfile's stages start FROM, in order and without
// duplicates, with build arguments substituted: buildArgs first, then the defaults of the ARG
// lines before the first FROM. Stages built FROM an earlier stage, and scratch, are not base
// images. A FROM whose argument has no value is an error naming it: provenance records only
// what is known.
func BaseImages(dockerfile []byte, buildArgs map[string]string) ([]string, error) {
	args := map[string]string{}
	stages := map[string]bool{}
	seen := map[string]bool{}
	var out []string
	sawFrom := false
	ins, err := instructions(dockerfile)
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		line, fields := in.Text, in.Fields
		switch in.Keyword {
		case "ARG":
			if sawFrom || len(fields) < 2 {
				continue
			}
			name, def, _ := strings.Cut(fields[1], "=")
			args[name] = strings.Trim(def, `"'`)
		case "FROM":
			sawFrom = true
			var rest []string
			for _, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					rest = append(rest, f)
				}
			}
			if len(rest) == 0 {
				return nil, fmt.Errorf("dockerfile: %q names no image", line)
			}
			var missing string
			ref := argRef.ReplaceAllStringFunc(rest[0], func(m string) string {
				name := argRef.FindStringSubmatch(m)[1]
				if v, ok := buildArgs[name]; ok && v != "" {
					return v
				}
				if v := args[name]; v != "" {
					return v
				}
				missing = name
				return ""
			})
			if missing != "" {
				return nil, fmt.Errorf("dockerfile: %q: build argument %s has no value: pass it or give the ARG a default", line, missing)
			}
			isBase := ref != "scratch" && !stages[strings.ToLower(ref)] && !seen[ref]
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				stages[strings.ToLower(rest[2])] = true
			}
			if isBase {
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dockerfile has no FROM instruction")
	}
	return out, nil
}
