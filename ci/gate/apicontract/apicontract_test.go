package apicontract

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gitlab.com/soccerpredictai/pipeline/ci/gate"
)

const (
	fastapi092 = "testdata/openapi-fastapi092-pydantic1.json"
	fastapi115 = "testdata/openapi-fastapi0115-pydantic2.json"

	goodPrediction    = `{"outcome":"H","probabilities":{"home":0.52,"draw":0.26,"away":0.22},"model_version":"3","confidence":0.52}`
	nullConfidence    = `{"outcome":"D","probabilities":{"home":0.3,"draw":0.4,"away":0.3},"model_version":"3","confidence":null}`
	pydantic1Invalid  = `{"detail":[{"loc":["body","home_team"],"msg":"field required","type":"value_error.missing"},{"loc":["body","home_form"],"msg":"ensure this value is less than or equal to 3.0","type":"value_error.number.not_le","ctx":{"limit_value":3.0}}]}`
	pydantic2Invalid  = `{"detail":[{"type":"missing","loc":["body","home_team"],"msg":"Field required","input":{"away_team":"Arsenal","home_form":9}},{"type":"less_than_equal","loc":["body","home_form"],"msg":"Input should be less than or equal to 3","input":9,"ctx":{"le":3.0}}]}`
	pydantic2BadParse = `{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}`
)

func load(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func check(doc []byte, valid, invalid Response) gate.Result {
	return Verify(Check{OpenAPI: doc, Path: "/predict", Valid: valid, Invalid: invalid})
}

func TestVerifyPasses(t *testing.T) {
	cases := []struct {
		name, doc, valid, invalid, version string
	}{
		{"fastapi 0.92 / pydantic 1", fastapi092, goodPrediction, pydantic1Invalid, "3.0.2"},
		{"fastapi 0.92 / pydantic 1, Optional field null", fastapi092, nullConfidence, pydantic1Invalid, "3.0.2"},
		{"fastapi 0.115 / pydantic 2", fastapi115, goodPrediction, pydantic2Invalid, "3.1.0"},
		{"fastapi 0.115 / pydantic 2, Optional field null", fastapi115, nullConfidence, pydantic2BadParse, "3.1.0"},
		{"optional field absent", fastapi115, `{"outcome":"A","probabilities":{"home":0.1,"draw":0.2,"away":0.7},"model_version":"3"}`, pydantic2Invalid, "3.1.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := check(load(t, c.doc), Response{200, []byte(c.valid)}, Response{422, []byte(c.invalid)})
			assert.Equal(t, gate.APIContract, r.Name)
			assert.Equal(t, gate.Blocking, r.Kind)
			require.Equal(t, gate.Pass, r.Status, "%s\n%s", r.Summary, strings.Join(r.Details, "\n"))
			assert.Contains(t, r.Summary, "POST /predict (OpenAPI "+c.version+")")
			assert.Contains(t, r.Summary, "valid request answered 200 matching Prediction")
			assert.Contains(t, r.Summary, "invalid request answered 422 with")
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	cases := []struct {
		name           string
		doc            string
		valid, invalid Response
		want           []string
	}{
		{"server error", fastapi115, Response{500, []byte("Internal Server Error")}, Response{422, []byte(pydantic2Invalid)},
			[]string{"valid request: status 500, want 200; body: Internal Server Error"}},
		{"no response", fastapi115, Response{}, Response{}, []string{
			"valid request: no response received", "invalid request: no response received"}},
		{"probability out of range", fastapi115, Response{200, []byte(`{"outcome":"H","probabilities":{"home":1.5,"draw":0.26,"away":0.22},"model_version":"3"}`)}, Response{422, []byte(pydantic2Invalid)},
			[]string{"valid request: the 200 body does not match Prediction: at /probabilities/home: maximum: got 1.5, want 1"}},
		{"wrong enum via allOf (3.0)", fastapi092, Response{200, []byte(`{"outcome":"X","probabilities":{"home":0.5,"draw":0.26,"away":0.22},"model_version":"3"}`)}, Response{422, []byte(pydantic1Invalid)},
			[]string{"at /outcome: value must be one of"}},
		{"missing required field", fastapi092, Response{200, []byte(`{"outcome":"H","probabilities":{"home":0.5,"draw":0.26,"away":0.22}}`)}, Response{422, []byte(pydantic1Invalid)},
			[]string{"missing property 'model_version'"}},
		{"required field null (3.0 relaxes only optional fields)", fastapi092, Response{200, []byte(`{"outcome":"H","probabilities":{"home":0.5,"draw":0.26,"away":0.22},"model_version":null}`)}, Response{422, []byte(pydantic1Invalid)},
			[]string{"at /model_version: got null, want string"}},
		{"wrong type", fastapi115, Response{200, []byte(`{"outcome":"H","probabilities":{"home":"0.5","draw":0.26,"away":0.22},"model_version":"3"}`)}, Response{422, []byte(pydantic2Invalid)},
			[]string{"at /probabilities/home: got string, want number"}},
		{"not json", fastapi115, Response{200, []byte(`<html>ok</html>`)}, Response{422, []byte(pydantic2Invalid)},
			[]string{"valid request: the body is not JSON"}},
		{"empty body", fastapi115, Response{200, nil}, Response{422, []byte(pydantic2Invalid)},
			[]string{"valid request: the body is empty"}},
		{"invalid accepted", fastapi115, Response{200, []byte(goodPrediction)}, Response{200, []byte(goodPrediction)},
			[]string{"invalid request: status 200, want 422"}},
		{"invalid gives 400", fastapi115, Response{200, []byte(goodPrediction)}, Response{400, []byte(`{"error":"bad"}`)},
			[]string{"invalid request: status 400, want 422"}},
		{"422 without detail", fastapi115, Response{200, []byte(goodPrediction)}, Response{422, []byte(`{"error":"bad"}`)},
			[]string{`invalid request: the body has no "detail" array`}},
		{"422 detail empty", fastapi115, Response{200, []byte(goodPrediction)}, Response{422, []byte(`{"detail":[]}`)},
			[]string{`"detail" is empty`}},
		{"422 detail string (HTTPException)", fastapi115, Response{200, []byte(goodPrediction)}, Response{422, []byte(`{"detail":"bad input"}`)},
			[]string{`no "detail" array`, "the 422 body does not match HTTPValidationError: at /detail: got string, want array"}},
		{"422 detail item malformed", fastapi092, Response{200, []byte(goodPrediction)}, Response{422, []byte(`{"detail":[{"loc":"body","message":"x"}]}`)},
			[]string{`detail[0] has no "loc" array`, `detail[0] has no "msg" string`, `detail[0] has no "type" string`, "the 422 body does not match HTTPValidationError"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := check(load(t, c.doc), c.valid, c.invalid)
			require.Equal(t, gate.Fail, r.Status, r.Summary)
			assert.Contains(t, r.Summary, "POST /predict breaks its contract")
			all := strings.Join(r.Details, "\n")
			for _, w := range c.want {
				assert.Contains(t, all, w)
			}
		})
	}
}

func TestVerifyDocumentProblems(t *testing.T) {
	ok200 := Response{200, []byte(goodPrediction)}
	ok422 := Response{422, []byte(pydantic2Invalid)}
	r := Verify(Check{OpenAPI: load(t, fastapi115), Path: " ", Valid: ok200, Invalid: ok422})
	assert.Equal(t, gate.Error, r.Status)
	assert.Contains(t, r.Summary, "set the path")

	r = Verify(Check{OpenAPI: load(t, fastapi115), Path: "/predictions", Valid: ok200, Invalid: ok422})
	assert.Equal(t, gate.Fail, r.Status)
	assert.Contains(t, r.Details[0], `no path "/predictions" (it has: /health, /predict, /predict/batch)`)

	r = Verify(Check{OpenAPI: load(t, fastapi115), Path: "/predict", Method: "GET", Valid: ok200, Invalid: ok422})
	assert.Equal(t, gate.Fail, r.Status)
	assert.Contains(t, r.Details[0], "no GET /predict (it has: POST)")

	for doc, want := range map[string]string{
		``:                    "empty",
		`{`:                   "not valid JSON",
		`[]`:                  "not a JSON object",
		`{"swagger":"2.0"}`:   `unsupported OpenAPI version ""`,
		`{"openapi":"4.0.0"}`: "unsupported OpenAPI version",
	} {
		r := Verify(Check{OpenAPI: []byte(doc), Path: "/predict", Valid: ok200, Invalid: ok422})
		assert.Equal(t, gate.Fail, r.Status, doc)
		assert.Contains(t, strings.Join(r.Details, "\n"), want, doc)
	}
}

func TestInlineArraySchemaAndMethodSelection(t *testing.T) {
	doc := load(t, fastapi115)
	r := Verify(Check{OpenAPI: doc, Path: "/predict/batch", Method: "post",
		Valid:   Response{200, []byte("[" + goodPrediction + "," + nullConfidence + "]")},
		Invalid: Response{422, []byte(pydantic2Invalid)}})
	require.Equal(t, gate.Pass, r.Status, strings.Join(r.Details, "\n"))
	assert.Contains(t, r.Summary, "matching inline schema")

	r = Verify(Check{OpenAPI: doc, Path: "/predict/batch",
		Valid:   Response{200, []byte(`[{"outcome":"H"}]`)},
		Invalid: Response{422, []byte(pydantic2Invalid)}})
	require.Equal(t, gate.Fail, r.Status)
	assert.Contains(t, strings.Join(r.Details, "\n"), "at /0: missing properties 'probabilities', 'model_version'")
}

func TestNoResponseSchema(t *testing.T) {
	doc := `{"openapi":"3.1.0","paths":{"/predict":{"post":{"responses":{"201":{"description":"x"}}}}}}`
	r := Verify(Check{OpenAPI: []byte(doc), Path: "/predict", Valid: Response{200, []byte(`{}`)}, Invalid: Response{422, []byte(pydantic2Invalid)}})
	require.Equal(t, gate.Fail, r.Status)
	assert.Contains(t, strings.Join(r.Details, "\n"), "declares no 200 response for POST /predict")

	doc = `{"openapi":"3.1.0","paths":{"/predict":{"post":{"responses":{"200":{"description":"x","content":{"text/plain":{}}}}}}}}`
	r = Verify(Check{OpenAPI: []byte(doc), Path: "/predict", Valid: Response{200, []byte(`{}`)}, Invalid: Response{422, []byte(pydantic2Invalid)}})
	assert.Contains(t, strings.Join(r.Details, "\n"), "has no application/json content")

	// a 422 not declared in the document: only FastAPI's shape is checked
	doc = `{"openapi":"3.1.0","paths":{"/predict":{"post":{"responses":{"2XX":{"description":"x","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`
	r = Verify(Check{OpenAPI: []byte(doc), Path: "/predict", Valid: Response{200, []byte(`{}`)}, Invalid: Response{422, []byte(pydantic2Invalid)}})
	assert.Equal(t, gate.Pass, r.Status, strings.Join(r.Details, "\n"))
}

func TestNormalize30(t *testing.T) {
	doc := `{"openapi":"3.0.3","paths":{"/p":{"post":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/S"}}}}}}}},
	"components":{"schemas":{"S":{"type":"object","required":["a","b","c","d","e"],"properties":{
		"a":{"type":"string","nullable":true},
		"b":{"type":"string","enum":["x","y"],"nullable":true},
		"c":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":false},
		"d":{"$ref":"#/components/schemas/T","nullable":true},
		"e":{"type":"array","items":{"type":"integer","nullable":true}},
		"f":{"$ref":"#/components/schemas/T","description":"ignored sibling"}
	}},"T":{"type":"object","required":["z"],"properties":{"z":{"type":"integer"}}}}}}`
	d, err := ParseDocument([]byte(doc))
	require.NoError(t, err)
	sch, name, err := d.ResponseSchema("/p", "post", 200)
	require.NoError(t, err)
	assert.Equal(t, "S", name)
	valid := []string{
		`{"a":null,"b":null,"c":1,"d":null,"e":[1,null]}`,
		`{"a":"s","b":"x","c":0.5,"d":{"z":1},"e":[],"f":null}`,
		`{"a":"s","b":"y","c":1,"d":{"z":1},"e":[],"f":{"z":2}}`,
	}
	for _, v := range valid {
		inst, err := parseBody([]byte(v))
		require.NoError(t, err)
		assert.NoError(t, sch.Validate(inst), v)
	}
	invalid := map[string]string{
		`{"a":1,"b":null,"c":1,"d":null,"e":[]}`:                  "/a",
		`{"a":null,"b":"z","c":1,"d":null,"e":[]}`:                "/b",
		`{"a":null,"b":null,"c":0,"d":null,"e":[]}`:               "/c",
		`{"a":null,"b":null,"c":1.5,"d":null,"e":[]}`:             "/c",
		`{"a":null,"b":null,"c":1,"d":{},"e":[]}`:                 "/d",
		`{"a":null,"b":null,"c":1,"d":null,"e":["s"]}`:            "/e/0",
		`{"a":null,"b":null,"c":1,"d":null,"e":[],"f":{"z":"s"}}`: "/f/z",
	}
	for v, loc := range invalid {
		inst, err := parseBody([]byte(v))
		require.NoError(t, err)
		err = sch.Validate(inst)
		require.Error(t, err, v)
		assert.Contains(t, strings.Join(violations(err), "\n"), "at "+loc, v)
	}
}

func TestViolationsCapped(t *testing.T) {
	doc := `{"openapi":"3.1.0","paths":{"/p":{"post":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"array","items":{"type":"integer"}}}}}}}}}}`
	d, err := ParseDocument([]byte(doc))
	require.NoError(t, err)
	sch, _, err := d.ResponseSchema("/p", "post", 200)
	require.NoError(t, err)
	arr := make([]string, 30)
	for i := range arr {
		arr[i] = `"s"`
	}
	inst, err := parseBody([]byte("[" + strings.Join(arr, ",") + "]"))
	require.NoError(t, err)
	v := violations(sch.Validate(inst))
	require.Len(t, v, MaxErrors+1)
	assert.Equal(t, "… and 10 more", v[MaxErrors])
}

func TestFixturesAreWhatFastAPIWrites(t *testing.T) {
	// Guard the fixtures themselves: 3.0 uses allOf-wrapped $ref and no nullable; 3.1 uses anyOf null.
	var d30, d31 map[string]any
	require.NoError(t, json.Unmarshal(load(t, fastapi092), &d30))
	require.NoError(t, json.Unmarshal(load(t, fastapi115), &d31))
	assert.NotContains(t, string(load(t, fastapi092)), "nullable")
	assert.Contains(t, string(load(t, fastapi092)), `"allOf":[{"$ref":"#/components/schemas/Outcome"}]`)
	assert.Contains(t, string(load(t, fastapi115)), `{"type":"null"}`)
}

func FuzzVerify(f *testing.F) {
	d30, _ := os.ReadFile(fastapi092)
	d31, _ := os.ReadFile(fastapi115)
	f.Add(d30, []byte(goodPrediction), []byte(pydantic1Invalid), 200, 422)
	f.Add(d31, []byte(nullConfidence), []byte(pydantic2Invalid), 200, 422)
	f.Add([]byte(`{"openapi":"3.0.0","paths":{"/predict":{"post":{"responses":{"200":{"content":{"application/json":{"schema":{"nullable":true}}}}}}}}}`), []byte(`null`), []byte(`{"detail":[1]}`), 200, 422)
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/predict":{"post":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/P"}}}}}}}},"components":{"schemas":{"P":{"type":"object","required":["a"],"properties":{"a":{"type":"number","maximum":1}}}}}}`), []byte(`{"a":0.5}`), []byte(`{"detail":[{"loc":["body"],"msg":"m","type":"t"}]}`), 200, 422)
	f.Add([]byte(`{"openapi":"3.0.3","paths":{"/predict":{"post":{"responses":{"200":{"content":{"application/json":{"schema":{"type":"object","properties":{"b":{"type":"integer","minimum":0,"exclusiveMinimum":true}}}}}}}}}}}`), []byte(`{"b":null}`), []byte(`{"detail":[]}`), 200, 422)
	f.Fuzz(func(t *testing.T, doc, valid, invalid []byte, vs, is int) {
		r := Verify(Check{OpenAPI: doc, Path: "/predict", Valid: Response{vs, valid}, Invalid: Response{is, invalid}})
		require.NoError(t, r.Validate())
		require.Contains(t, []gate.Status{gate.Pass, gate.Fail}, r.Status)
		if r.Status == gate.Pass {
			require.Equal(t, 200, vs)
			require.Equal(t, 422, is)
		}
	})
}
