// Package apicontract decides the api-contract gate: the service's /predict answers a
// valid request with 200 and a body matching the OpenAPI 200 response schema, and an
// invalid request with 422 and a FastAPI validation error body.
//
// The OpenAPI document is the one the running service serves at /openapi.json (FastAPI:
// OpenAPI 3.0 with pydantic 1, or 3.1 with pydantic 2). The whole document is compiled
// as one JSON Schema resource, so "$ref": "#/components/schemas/…" resolves in place.
package apicontract

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

// Response is what the service answered to one request.
type Response struct {
	// Status is the HTTP status code; 0 means no response was received.
	Status int
	// Body is the raw response body.
	Body []byte
}

// Check is the input of the api-contract gate.
type Check struct {
	// OpenAPI is the document served at /openapi.json.
	OpenAPI []byte
	// Path is the route under test, e.g. "/predict".
	Path string
	// Method is the HTTP method; empty means POST when the path has it, else its only operation.
	Method string
	// Valid is the answer to a request the schema accepts.
	Valid Response
	// Invalid is the answer to a request the schema rejects.
	Invalid Response
}

// Verify runs the check and returns the blocking api-contract result. Every broken
// expectation is a detail line; a missing Path is an Error (the check is misconfigured),
// everything the service answered wrongly is a Fail.
func Verify(c Check) gate.Result {
	if strings.TrimSpace(c.Path) == "" {
		return gate.Errored(gate.APIContract, fmt.Errorf("api contract: no path to check: set the path, e.g. /predict"))
	}
	doc, err := ParseDocument(c.OpenAPI)
	if err != nil {
		return gate.NewResult(gate.APIContract, gate.Fail, "the service's OpenAPI document is unusable", err.Error())
	}
	method, err := doc.Operation(c.Path, c.Method)
	if err != nil {
		return gate.NewResult(gate.APIContract, gate.Fail, "the route is not in the OpenAPI document", err.Error())
	}
	route := strings.ToUpper(method) + " " + c.Path

	var problems []string
	validSummary := checkValid(doc, c.Path, method, c.Valid, &problems)
	invalidSummary := checkInvalid(doc, c.Path, method, c.Invalid, &problems)
	if len(problems) > 0 {
		return gate.NewResult(gate.APIContract, gate.Fail,
			fmt.Sprintf("%s breaks its contract: %d problem(s)", route, len(problems)), problems...)
	}
	return gate.NewResult(gate.APIContract, gate.Pass,
		fmt.Sprintf("%s (OpenAPI %s): %s; %s", route, doc.Version, validSummary, invalidSummary))
}

func parseBody(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("the body is empty")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("the body is not JSON: %v", err)
	}
	return v, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	r := []rune(s)
	if len(r) > 200 {
		s = string(r[:197]) + "..."
	}
	return s
}

func checkValid(doc *Document, path, method string, r Response, problems *[]string) string {
	if r.Status == 0 {
		*problems = append(*problems, "valid request: no response received: check that the service started and listens")
		return ""
	}
	if r.Status != 200 {
		*problems = append(*problems, fmt.Sprintf("valid request: status %d, want 200; body: %s", r.Status, snippet(r.Body)))
		return ""
	}
	sch, name, err := doc.ResponseSchema(path, method, 200)
	if err != nil {
		*problems = append(*problems, "valid request: "+err.Error())
		return ""
	}
	body, err := parseBody(r.Body)
	if err != nil {
		*problems = append(*problems, "valid request: "+err.Error()+"; body: "+snippet(r.Body))
		return ""
	}
	if err := sch.Validate(body); err != nil {
		for _, v := range violations(err) {
			*problems = append(*problems, fmt.Sprintf("valid request: the 200 body does not match %s: %s", name, v))
		}
		return ""
	}
	return fmt.Sprintf("valid request answered 200 matching %s", name)
}

// checkFastAPIDetail checks the shape FastAPI gives validation errors:
// {"detail": [{"loc": [...], "msg": "...", "type": "..."}, ...]}.
func checkFastAPIDetail(body any) []string {
	o, ok := body.(map[string]any)
	if !ok {
		return []string{`the body is not a JSON object with "detail"`}
	}
	detail, ok := o["detail"].([]any)
	if !ok {
		return []string{`the body has no "detail" array (FastAPI's validation error shape)`}
	}
	if len(detail) == 0 {
		return []string{`"detail" is empty: a rejected request must say what is wrong`}
	}
	var out []string
	for i, d := range detail {
		e, ok := d.(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("detail[%d] is not an object", i))
			continue
		}
		if _, ok := e["loc"].([]any); !ok {
			out = append(out, fmt.Sprintf(`detail[%d] has no "loc" array`, i))
		}
		if _, ok := e["msg"].(string); !ok {
			out = append(out, fmt.Sprintf(`detail[%d] has no "msg" string`, i))
		}
		if _, ok := e["type"].(string); !ok {
			out = append(out, fmt.Sprintf(`detail[%d] has no "type" string`, i))
		}
	}
	return out
}

func checkInvalid(doc *Document, path, method string, r Response, problems *[]string) string {
	if r.Status == 0 {
		*problems = append(*problems, "invalid request: no response received: check that the service started and listens")
		return ""
	}
	if r.Status != 422 {
		*problems = append(*problems, fmt.Sprintf("invalid request: status %d, want 422; body: %s", r.Status, snippet(r.Body)))
		return ""
	}
	body, err := parseBody(r.Body)
	if err != nil {
		*problems = append(*problems, "invalid request: "+err.Error()+"; body: "+snippet(r.Body))
		return ""
	}
	before := len(*problems)
	for _, p := range checkFastAPIDetail(body) {
		*problems = append(*problems, "invalid request: "+p)
	}
	// When the document declares the 422 response (FastAPI does: HTTPValidationError), the body must match it.
	if sch, name, err := doc.ResponseSchema(path, method, 422); err == nil {
		if err := sch.Validate(body); err != nil {
			for _, v := range violations(err) {
				*problems = append(*problems, fmt.Sprintf("invalid request: the 422 body does not match %s: %s", name, v))
			}
		}
	}
	if len(*problems) > before {
		return ""
	}
	n := len(body.(map[string]any)["detail"].([]any))
	return fmt.Sprintf("invalid request answered 422 with %d validation error(s)", n)
}
