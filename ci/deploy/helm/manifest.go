package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"gitlab.com/soccerpredictai/pipeline/ci/trace"
	"gopkg.in/yaml.v3"
)

// Object is one Kubernetes object of a multi-document manifest.
type Object struct {
	// APIVersion, Kind, Namespace and Name identify the object.
	APIVersion, Kind, Namespace, Name string
	// Body is the object as canonical YAML (keys sorted, 2-space indent,
	// comments dropped).
	Body string

	content map[string]any
}

// Key returns "Kind/name", or "Kind/namespace/name" when the namespace is
// set in the manifest.
func (o Object) Key() string {
	if o.Namespace != "" {
		return o.Kind + "/" + o.Namespace + "/" + o.Name
	}
	return o.Kind + "/" + o.Name
}

// SplitManifest parses a multi-document YAML manifest (helm template or
// helm get manifest output) into objects sorted by kind, namespace and
// name. Empty documents are skipped; every other document needs kind and
// metadata.name.
func SplitManifest(manifest []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	var objs []Object
	for i := 1; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest document %d is not YAML: %v", i, err)
		}
		if doc == nil {
			continue
		}
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("manifest document %d is a %T, not a Kubernetes object", i, doc)
		}
		obj, err := newObject(m)
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
	sortObjects(objs)
	return objs, nil
}

func newObject(m map[string]any) (Object, error) {
	kind, _ := m["kind"].(string)
	if kind == "" {
		return Object{}, errors.New("no kind: every document must be a Kubernetes object")
	}
	apiVersion, _ := m["apiVersion"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" {
		return Object{}, fmt.Errorf("%s has no metadata.name", kind)
	}
	ns, _ := meta["namespace"].(string)
	obj := Object{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, content: m}
	body, err := canonical(m)
	if err != nil {
		return Object{}, fmt.Errorf("%s: %w", obj.Key(), err)
	}
	obj.Body = body
	return obj, nil
}

func sortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

func canonical(v any) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("re-encoding as YAML: %v", err)
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Redacted is the text that replaces Secret values.
const Redacted = "<redacted>"

// RedactedChanged replaces a Secret value that differs from the other side
// of a diff.
const RedactedChanged = "<redacted, changed>"

// isSecret reports whether m is a core v1 Secret.
func isSecret(m map[string]any) bool {
	kind, _ := m["kind"].(string)
	api, _ := m["apiVersion"].(string)
	return kind == "Secret" && (api == "v1" || api == "")
}

// redactAgainst replaces the values of a Secret's data and stringData with
// Redacted, or RedactedChanged where other (the same Secret on the other
// side of a diff, may be nil) holds a different value or lacks the key.
func redactAgainst(m, other map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, field := range []string{"data", "stringData"} {
		values, ok := m[field].(map[string]any)
		if !ok {
			if m[field] != nil {
				out[field] = Redacted
			}
			continue
		}
		var otherValues map[string]any
		if other != nil {
			otherValues, _ = other[field].(map[string]any)
		}
		red := make(map[string]any, len(values))
		for k, v := range values {
			red[k] = Redacted
			if other != nil {
				if ov, ok := otherValues[k]; !ok || fmt.Sprint(ov) != fmt.Sprint(v) {
					red[k] = RedactedChanged
				}
			}
		}
		out[field] = red
	}
	return out
}

// RedactSecrets returns the manifest with every value under data and
// stringData of each Secret replaced by Redacted. Other documents, comments
// and order are kept; blank or comment-only documents are dropped. Use it before storing or printing rendered manifests.
func RedactSecrets(manifest []byte) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	var docs []*yaml.Node
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("manifest document %d is not YAML: %v", i, err)
		}
		if n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) {
			continue // blank or comment-only document: nothing to keep
		}
		redactNode(&n)
		docs = append(docs, &n)
	}
	if len(docs) == 0 {
		return []byte{}, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("re-encoding the manifest: %v", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func redactNode(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return
	}
	kind, api := mapScalar(root, "kind"), mapScalar(root, "apiVersion")
	if kind != "Secret" || (api != "v1" && api != "") {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := root.Content[i].Value
		if key != "data" && key != "stringData" {
			continue
		}
		val := root.Content[i+1]
		if val.Kind == yaml.MappingNode {
			for j := 1; j < len(val.Content); j += 2 {
				val.Content[j] = redactedScalar()
			}
			continue
		}
		if !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
			root.Content[i+1] = redactedScalar()
		}
	}
}

func redactedScalar() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Redacted}
}

func mapScalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// ManifestDiff is the difference between two rendered manifests.
type ManifestDiff struct {
	// Unified is a unified diff of the two manifests with documents sorted
	// by kind/name and Secret values redacted; empty when nothing changed.
	Unified string
	// Added, Removed and Changed list object keys (Object.Key) in manifest
	// order (kind, namespace, name).
	Added, Removed, Changed []string
}

// Empty reports whether the manifests hold the same objects.
func (d ManifestDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// Summary is a one-line count, e.g. "2 changed, 1 added, 0 removed".
func (d ManifestDiff) Summary() string {
	return fmt.Sprintf("%d changed, %d added, %d removed", len(d.Changed), len(d.Added), len(d.Removed))
}

// DiffManifests compares two multi-document manifests (e.g. `helm get
// manifest` of the running release and `helm template` of the candidate).
// oldLabel and newLabel head the unified diff. Secret values never appear:
// they show as Redacted, or RedactedChanged where they differ.
func DiffManifests(oldManifest, newManifest []byte, oldLabel, newLabel string) (ManifestDiff, error) {
	oldObjs, err := SplitManifest(oldManifest)
	if err != nil {
		return ManifestDiff{}, fmt.Errorf("%s: %w", oldLabel, err)
	}
	newObjs, err := SplitManifest(newManifest)
	if err != nil {
		return ManifestDiff{}, fmt.Errorf("%s: %w", newLabel, err)
	}
	oldByKey, err := byKey(oldObjs, oldLabel)
	if err != nil {
		return ManifestDiff{}, err
	}
	newByKey, err := byKey(newObjs, newLabel)
	if err != nil {
		return ManifestDiff{}, err
	}

	var d ManifestDiff
	var oldText, newText strings.Builder
	keys := unionKeys(oldByKey, newByKey)
	for _, k := range keys {
		o, inOld := oldByKey[k]
		n, inNew := newByKey[k]
		var ob, nb string
		switch {
		case inOld && inNew:
			ob, nb = o.Body, n.Body
			if isSecret(o.content) || isSecret(n.content) {
				if ob, err = canonical(redactAgainst(o.content, nil)); err != nil {
					return ManifestDiff{}, err
				}
				if nb, err = canonical(redactAgainst(n.content, o.content)); err != nil {
					return ManifestDiff{}, err
				}
			}
			if o.Body != n.Body {
				d.Changed = append(d.Changed, k)
			}
		case inOld:
			d.Removed = append(d.Removed, k)
			if ob, err = bodyRedacted(o); err != nil {
				return ManifestDiff{}, err
			}
		default:
			d.Added = append(d.Added, k)
			if nb, err = bodyRedacted(n); err != nil {
				return ManifestDiff{}, err
			}
		}
		if inOld {
			oldText.WriteString("--- # " + k + "\n" + ob)
		}
		if inNew {
			newText.WriteString("--- # " + k + "\n" + nb)
		}
	}
	if d.Empty() {
		return d, nil
	}
	ud := difflib.UnifiedDiff{
		A:        difflib.SplitLines(oldText.String()),
		B:        difflib.SplitLines(newText.String()),
		FromFile: oldLabel,
		ToFile:   newLabel,
		Context:  3,
	}
	text, err := difflib.GetUnifiedDiffString(ud)
	if err != nil {
		return ManifestDiff{}, fmt.Errorf("computing the diff: %v", err)
	}
	d.Unified = text
	return d, nil
}

func bodyRedacted(o Object) (string, error) {
	if isSecret(o.content) {
		return canonical(redactAgainst(o.content, nil))
	}
	return o.Body, nil
}

func byKey(objs []Object, label string) (map[string]Object, error) {
	m := make(map[string]Object, len(objs))
	for _, o := range objs {
		if _, dup := m[o.Key()]; dup {
			return nil, fmt.Errorf("%s: %s appears twice: a manifest holds each object once", label, o.Key())
		}
		m[o.Key()] = o
	}
	return m, nil
}

// unionKeys returns the keys of both maps ordered like SplitManifest orders
// objects (kind, namespace, name).
func unionKeys(a, b map[string]Object) []string {
	var objs []Object
	for _, o := range a {
		objs = append(objs, o)
	}
	for k, o := range b {
		if _, ok := a[k]; !ok {
			objs = append(objs, o)
		}
	}
	sortObjects(objs)
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key()
	}
	return keys
}

// TraceObjects splits a rendered manifest into the objects ci/trace reads the traceability record
// from (trace.FromManifest): kind, name and annotations of each.
func TraceObjects(manifest []byte) ([]trace.Object, error) {
	objs, err := SplitManifest(manifest)
	if err != nil {
		return nil, err
	}
	out := make([]trace.Object, 0, len(objs))
	for _, o := range objs {
		meta, _ := o.content["metadata"].(map[string]any)
		ann, _ := meta["annotations"].(map[string]any)
		out = append(out, trace.Object{Kind: o.Kind, Name: o.Name, Key: o.Key(), Annotations: ann})
	}
	return out, nil
}
