package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// KeyNames returns the dotted paths of every leaf of a plaintext YAML
// document (for example "secrets.databaseUrl"; list items appear as
// "hosts[0]"), sorted and without duplicates. It returns names only, never
// values, so its output is safe to print. Multi-document input is walked
// document by document.
func KeyNames(plain []byte) ([]string, error) {
	dec := yaml.NewDecoder(bytes.NewReader(plain))
	set := map[string]bool{}
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The parser's message is not repeated: it could quote plaintext.
			return nil, fmt.Errorf("%w: decrypted content is not YAML: re-encrypt the file from valid YAML", ErrMalformed)
		}
		walkLeaves(&doc, "", set, 0)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// maxDepth bounds recursion on hostile input (deeply nested or aliased YAML).
const maxDepth = 64

func walkLeaves(n *yaml.Node, prefix string, out map[string]bool, depth int) {
	if n == nil || depth > maxDepth {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkLeaves(c, prefix, out, depth+1)
		}
	case yaml.MappingNode:
		if len(n.Content) == 0 && prefix != "" {
			out[prefix] = true
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			path := key
			if prefix != "" {
				path = prefix + "." + key
			}
			walkLeaves(n.Content[i+1], path, out, depth+1)
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 && prefix != "" {
			out[prefix] = true
		}
		for i, c := range n.Content {
			walkLeaves(c, prefix+"["+strconv.Itoa(i)+"]", out, depth+1)
		}
	case yaml.AliasNode:
		// An alias repeats another node's structure; name it as a leaf
		// rather than expanding it (expansion is unbounded).
		if prefix != "" {
			out[prefix] = true
		}
	default:
		if prefix != "" {
			out[prefix] = true
		}
	}
}
