package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// OpenAPI checks requests against an OpenAPI 3.0 description with
// kin-openapi: the route must exist (method and path), path and query
// parameters must match their schemas, required ones must be there, and the
// body must match the request body's schema. On top of that, a body
// property the schema does not declare is an error (most vendor schemas
// leave additionalProperties open, so a misspelt field would otherwise
// pass unnoticed).
type OpenAPI struct {
	Doc    *openapi3.T
	router routers.Router
	server string // the description's first server URL, without a trailing /
	// Prefix is the path prefix the fake serves the API under ("/v2" for
	// Zoom): it is replaced by the description's server URL.
	Prefix string
	// Rewrite maps a path (after Prefix is removed) to the one the
	// description documents, for vendors whose description names the
	// same operation under another path. Optional.
	Rewrite func(path string) (string, error)
	// LoadTime is how long reading and resolving the description took.
	LoadTime time.Duration
}

// DocProblems is what kin-openapi finds wrong with the description itself
// (nil when nothing). Requests are checked all the same: the defects of
// vendors' exports sit mostly in operations no client here calls.
func (o *OpenAPI) DocProblems() error {
	return o.Doc.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.EnableMultiError())
}

// Fixes correct defects of a vendor's document that stop it loading or
// make it reject what the vendor documents; whoever sets one says what it
// corrects and why.
type Fixes struct {
	Raw func(data []byte) ([]byte, error) // before parsing
	Doc func(doc *openapi3.T) error       // after resolving, before routing
}

// LoadOpenAPI reads and resolves an OpenAPI 3.0 description (JSON or YAML)
// and builds a router over its paths.
func LoadOpenAPI(path, prefix string, fixes Fixes) (*OpenAPI, error) {
	start := time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	if fixes.Raw != nil {
		if data, err = fixes.Raw(data); err != nil {
			return nil, fmt.Errorf("contract: correcting %s: %w", path, err)
		}
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: loading %s: %w", path, err)
	}
	if fixes.Doc != nil {
		if err := fixes.Doc(doc); err != nil {
			return nil, fmt.Errorf("contract: correcting %s: %w", path, err)
		}
	}
	if len(doc.Servers) == 0 {
		return nil, fmt.Errorf("contract: %s names no server", path)
	}
	server := strings.TrimSuffix(doc.Servers[0].URL, "/")
	// Route on the first server only: the vendor's own base URL.
	doc.Servers = openapi3.Servers{{URL: server}}
	// gorillamux, not legacy: legacy.NewRouter first validates the whole
	// document, and vendors' exports have defects in operations Switchboard
	// never calls (Zoom's misses path parameters of /contacts/groups/...).
	// DocProblems reports them instead.
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: routing %s: %w", path, err)
	}
	return &OpenAPI{Doc: doc, router: router, server: server, Prefix: prefix, LoadTime: time.Since(start)}, nil
}

// Check validates one request the client sent to a fake.
func (o *OpenAPI) Check(r Request) error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	p, err := trimPrefix(u.Path, o.Prefix)
	if err != nil {
		return err
	}
	if o.Rewrite != nil {
		if p, err = o.Rewrite(p); err != nil {
			return err
		}
	}
	target := o.server + p
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	req, err := http.NewRequest(r.Method, target, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in the description: %w", r.Method, p, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError: true,
			// The fakes check the bearer; here any declared scheme passes
			// when an Authorization header is there.
			AuthenticationFunc: func(_ context.Context, ai *openapi3filter.AuthenticationInput) error {
				if !strings.HasPrefix(ai.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
					return errors.New("no bearer token")
				}
				return nil
			},
			RejectWhenRequestBodyNotSpecified: true,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err
	}
	if len(bytes.TrimSpace(r.Body)) == 0 || route.Operation.RequestBody == nil || route.Operation.RequestBody.Value == nil {
		return nil
	}
	mt := route.Operation.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var body any
	if err := json.NewDecoder(io.NopCloser(bytes.NewReader(r.Body))).Decode(&body); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if unknown := UndeclaredProperties(mt.Schema.Value, body, ""); len(unknown) > 0 {
		return fmt.Errorf("body fields the description does not declare: %s", strings.Join(unknown, ", "))
	}
	return nil
}

// UndeclaredProperties lists the JSON paths of object members that the
// schema does not declare (looking through allOf, anyOf and oneOf), where
// additionalProperties is not explicitly true.
func UndeclaredProperties(s *openapi3.Schema, v any, at string) []string {
	if s == nil {
		return nil
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.Schema{}
		open := collectProps(s, props, 0)
		if len(props) == 0 {
			return nil // a free-form object
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k]
			if !ok {
				if !open {
					out = append(out, at+"."+k)
				}
				continue
			}
			out = append(out, UndeclaredProperties(ps, v[k], at+"."+k)...)
		}
	case []any:
		items := s.Items
		if items == nil { // an array declared in one of its alternatives
			for _, alt := range append(append(openapi3.SchemaRefs{}, s.OneOf...), s.AnyOf...) {
				if alt != nil && alt.Value != nil && alt.Value.Items != nil {
					items = alt.Value.Items
				}
			}
		}
		if items != nil {
			for i, e := range v {
				out = append(out, UndeclaredProperties(items.Value, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return out
}

func collectProps(s *openapi3.Schema, props map[string]*openapi3.Schema, depth int) (open bool) {
	if s == nil || depth > 16 {
		return false
	}
	if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has {
		open = true
	}
	for k, p := range s.Properties {
		if p != nil && p.Value != nil {
			props[k] = p.Value
		}
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range group {
			if r != nil && collectProps(r.Value, props, depth+1) {
				open = true
			}
		}
	}
	return open
}

// dropBooleanRequired removes `"required": true|false` from JSON schema
// objects (a Swagger 2.0 habit; in OpenAPI 3.0 a schema's required is a
// list of names). Parameter objects ("in") and request bodies ("content"),
// where a boolean required is right, keep it.
func dropBooleanRequired(data []byte) ([]byte, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if _, isBool := x["required"].(bool); isBool {
				_, param := x["in"]
				_, body := x["content"]
				if !param && !body {
					delete(x, "required")
				}
			}
			for _, v := range x {
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(doc)
	return json.Marshal(doc)
}
