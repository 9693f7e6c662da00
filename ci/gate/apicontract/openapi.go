package apicontract

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// docURL is the (never fetched) URL the OpenAPI document is registered under.
const docURL = "urn:soccer-predict:openapi.json"

// Document is a parsed OpenAPI 3.0 or 3.1 document whose schemas can validate bodies.
type Document struct {
	// Version is the document's "openapi" field, e.g. "3.0.2" or "3.1.0".
	Version  string
	doc      map[string]any
	compiler *jsonschema.Compiler
}

// ParseDocument reads an OpenAPI document (JSON, as served at /openapi.json).
//
// OpenAPI 3.0 schemas are brought to JSON Schema 2020-12 first: "nullable: true" allows
// null, boolean exclusiveMinimum/exclusiveMaximum become numeric, siblings of "$ref" are
// dropped (3.0 ignores them), and, because pydantic 1 writes Optional fields without
// "nullable", properties that are not required also allow null.
func ParseDocument(data []byte) (*Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the OpenAPI document is empty: serve it at /openapi.json")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid JSON: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the OpenAPI document is not a JSON object")
	}
	version, _ := doc["openapi"].(string)
	switch {
	case strings.HasPrefix(version, "3.0."):
		normalize30(doc)
	case strings.HasPrefix(version, "3.1."):
	default:
		return nil, fmt.Errorf("unsupported OpenAPI version %q: serve an OpenAPI 3.0 or 3.1 document (FastAPI does)", version)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, fmt.Errorf("the OpenAPI document cannot be used as a schema resource: %w", err)
	}
	return &Document{Version: version, doc: doc, compiler: c}, nil
}

// pointerEscape escapes one JSON pointer token.
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Operation picks the operation of path: method when given (case-insensitive), else
// "post" when the path has it, else the path's only operation. It returns the lower-case method.
func (d *Document) Operation(path, method string) (string, error) {
	paths := obj(d.doc["paths"])
	item := obj(paths[path])
	if item == nil {
		var known []string
		for p := range paths {
			known = append(known, p)
		}
		sort.Strings(known)
		return "", fmt.Errorf("the OpenAPI document has no path %q (it has: %s): check the route", path, strings.Join(known, ", "))
	}
	var have []string
	for _, m := range methods {
		if obj(item[m]) != nil {
			have = append(have, m)
		}
	}
	if method != "" {
		m := strings.ToLower(method)
		if obj(item[m]) == nil {
			return "", fmt.Errorf("the OpenAPI document has no %s %s (it has: %s)", strings.ToUpper(m), path, strings.ToUpper(strings.Join(have, ", ")))
		}
		return m, nil
	}
	if obj(item["post"]) != nil {
		return "post", nil
	}
	if len(have) == 1 {
		return have[0], nil
	}
	return "", fmt.Errorf("path %s has operations %s: name the method", path, strings.ToUpper(strings.Join(have, ", ")))
}

// ResponseSchema compiles the application/json schema of a response of an operation.
// status is the exact code ("200", "422"); when absent, the "2XX"-style range is tried for
// success codes, then "default". The returned name is the referenced component's name
// ("Prediction") or "inline schema".
func (d *Document) ResponseSchema(path, method string, status int) (*jsonschema.Schema, string, error) {
	item := obj(obj(d.doc["paths"])[path])
	op := obj(item[method])
	if op == nil {
		return nil, "", fmt.Errorf("the OpenAPI document has no %s %s", strings.ToUpper(method), path)
	}
	responses := obj(op["responses"])
	code := strconv.Itoa(status)
	var key string
	for _, k := range []string{code, code[:1] + "XX", code[:1] + "xx", "default"} {
		if obj(responses[k]) != nil {
			key = k
			break
		}
	}
	if key == "" {
		return nil, "", fmt.Errorf("the OpenAPI document declares no %s response for %s %s", code, strings.ToUpper(method), path)
	}
	content := obj(obj(responses[key])["content"])
	media := ""
	for _, mt := range []string{"application/json", "application/problem+json"} {
		if obj(content[mt]) != nil {
			media = mt
			break
		}
	}
	if media == "" {
		return nil, "", fmt.Errorf("the %s response of %s %s has no application/json content: declare response_model", key, strings.ToUpper(method), path)
	}
	schemaVal, ok := obj(content[media])["schema"]
	if !ok {
		return nil, "", fmt.Errorf("the %s response of %s %s has no schema: declare response_model", key, strings.ToUpper(method), path)
	}
	ptr := "/paths/" + pointerEscape(path) + "/" + method + "/responses/" + pointerEscape(key) + "/content/" + pointerEscape(media) + "/schema"
	sch, err := d.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, "", fmt.Errorf("the %s response schema of %s %s does not compile: %w", key, strings.ToUpper(method), path, err)
	}
	name := "inline schema"
	if s := obj(schemaVal); s != nil {
		if ref, ok := s["$ref"].(string); ok {
			name = ref[strings.LastIndex(ref, "/")+1:]
		}
	}
	return sch, name, nil
}

// MaxErrors is how many schema violations are reported per body.
const MaxErrors = 20

// violations lists the leaf errors of a validation failure as "at /pointer: message".
func violations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var out []string
	var walk func(u jsonschema.OutputUnit)
	walk = func(u jsonschema.OutputUnit) {
		if len(u.Errors) == 0 {
			if u.Error == nil {
				return
			}
			if _, isRef := u.Error.Kind.(*kind.Reference); isRef {
				return
			}
			loc := u.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, fmt.Sprintf("at %s: %s", loc, u.Error.String()))
			return
		}
		for _, c := range u.Errors {
			walk(c)
		}
	}
	walk(*ve.DetailedOutput())
	if len(out) == 0 {
		out = []string{strings.TrimSpace(ve.Error())}
	}
	sort.Strings(out)
	if len(out) > MaxErrors {
		out = append(out[:MaxErrors], fmt.Sprintf("… and %d more", len(out)-MaxErrors))
	}
	return out
}

// normalize30 rewrites OpenAPI 3.0 schemas in place into JSON Schema 2020-12.
func normalize30(doc map[string]any) {
	for _, s := range obj(obj(doc["components"])["schemas"]) {
		normalizeSchema(s)
	}
	for _, item := range obj(doc["paths"]) {
		it := obj(item)
		for _, p := range asSlice(it["parameters"]) {
			normalizeSchema(obj(p)["schema"])
		}
		for _, m := range methods {
			op := obj(it[m])
			if op == nil {
				continue
			}
			for _, p := range asSlice(op["parameters"]) {
				normalizeSchema(obj(p)["schema"])
			}
			for _, mt := range obj(obj(op["requestBody"])["content"]) {
				normalizeSchema(obj(mt)["schema"])
			}
			for _, r := range obj(op["responses"]) {
				for _, mt := range obj(obj(r)["content"]) {
					normalizeSchema(obj(mt)["schema"])
				}
			}
		}
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func normalizeSchema(v any) {
	s := obj(v)
	if s == nil {
		return
	}
	if _, ok := s["$ref"]; ok {
		for k := range s {
			if k != "$ref" && k != "nullable" {
				delete(s, k)
			}
		}
	}
	for _, kw := range []struct{ excl, bound string }{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		if b, ok := s[kw.excl].(bool); ok {
			if b {
				if bound, ok := s[kw.bound]; ok {
					s[kw.excl] = bound
					delete(s, kw.bound)
					continue
				}
			}
			delete(s, kw.excl)
		}
	}
	for _, p := range obj(s["properties"]) {
		normalizeSchema(p)
	}
	for _, k := range []string{"items", "additionalProperties", "not"} {
		normalizeSchema(s[k])
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		for _, sub := range asSlice(s[k]) {
			normalizeSchema(sub)
		}
	}
	if n, ok := s["nullable"].(bool); ok {
		delete(s, "nullable")
		if n {
			allowNull(s)
		}
	}
	// pydantic 1 writes Optional[X] = None as a non-required property without nullable.
	props := obj(s["properties"])
	required := map[string]bool{}
	for _, r := range asSlice(s["required"]) {
		if name, ok := r.(string); ok {
			required[name] = true
		}
	}
	for name, p := range props {
		if !required[name] {
			if ps := obj(p); ps != nil {
				allowNull(ps)
			}
		}
	}
}

// allowNull makes schema s also accept null, in place.
func allowNull(s map[string]any) {
	if t, ok := s["type"].(string); ok && len(s) > 0 {
		if t == "null" {
			return
		}
		s["type"] = []any{t, "null"}
		if enum, ok := s["enum"].([]any); ok {
			s["enum"] = append(enum, nil)
		}
		return
	}
	if ts, ok := s["type"].([]any); ok {
		for _, t := range ts {
			if t == "null" {
				return
			}
		}
		s["type"] = append(ts, "null")
		if enum, ok := s["enum"].([]any); ok {
			s["enum"] = append(enum, nil)
		}
		return
	}
	if len(s) == 0 {
		return // {} already accepts null
	}
	orig := make(map[string]any, len(s))
	for k, v := range s {
		orig[k] = v
		delete(s, k)
	}
	s["anyOf"] = []any{orig, map[string]any{"type": "null"}}
}
