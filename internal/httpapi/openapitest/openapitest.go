// Package openapitest holds the HTTP API's answers, in other packages'
// tests, to its OpenAPI description (internal/httpapi/openapi.json): a test
// that drives an httpapi.API with an event passes the event and the answer
// to Check, which fails the test where the two disagree.
//
// It validates with kin-openapi's openapi3filter and its gorilla/mux router:
// the document is loaded, validated as OpenAPI 3.1 and routed once per test
// binary. openapi3filter checks the schemas of a 3.1 document with its JSON
// Schema 2020-12 validator, so type arrays such as ["string", "null"],
// const and the other 3.1 keywords mean what 3.1 says.
package openapitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// Check fails t (with Errorf) when the exchange of ev and resp disagrees
// with openapi.json, and stops it (with Fatalf) when the document itself
// cannot be used. It checks:
//
//   - that an operation of the document matches the request's method and
//     path. The exceptions are the router's own answers: a 404 problem for
//     a path the document lacks, a 405 (or 404) problem for a method it
//     lacks, and a 404 route_not_found problem from a function that does
//     not serve the route (each Lambda serves only its own routes);
//   - that the answer's status is documented for that operation, its
//     Content-Type is one the document gives for that status, its body
//     matches that content's schema (a status documented without content
//     must come without a body), and its documented headers are present
//     where required and match their schemas;
//   - that a problem document's status member is the HTTP status;
//   - the request: its parameters and its body. A request the document does
//     not allow may well be refused (4xx, or the OAuth callback's redirect),
//     as negative tests expect; it is an error only when the API accepted it
//     with a 2xx.
//
// Security requirements are not checked: in AWS the JWT authorizer checks
// the token, and events carry verified claims instead.
//
// Check calls only t.Helper, t.Errorf and t.Fatalf.
func Check(t testing.TB, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	s := load()
	if s.err != nil {
		t.Fatalf("openapitest: %v", s.err)
		return
	}
	if errs := s.check(ev, resp); len(errs) > 0 {
		t.Errorf("openapitest: %s disagrees with openapi.json:\n  %s", describe(ev, resp, s), strings.Join(errs, "\n  "))
	}
}

// Validate is Check without a testing.TB: it returns what Check reports,
// nil when the exchange agrees with openapi.json.
func Validate(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) error {
	s := load()
	if s.err != nil {
		return s.err
	}
	if errs := s.check(ev, resp); len(errs) > 0 {
		return fmt.Errorf("%s disagrees with openapi.json:\n  %s", describe(ev, resp, s), strings.Join(errs, "\n  "))
	}
	return nil
}

type spec struct {
	router  routers.Router
	problem *openapi3.SchemaRef
	formats []openapi3.SchemaValidationOption
	err     error
}

// load reads, validates and routes the document once per test binary.
var load = sync.OnceValue(func() *spec {
	// The pages a person's browser opens (the connect page, the OAuth
	// callback) are HTML: their body is checked as the string it is.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	s := &spec{formats: formatValidators()}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIDocument())
	if err != nil {
		s.err = fmt.Errorf("openapi.json does not load: %w", err)
		return s
	}
	if !doc.IsOpenAPI31OrLater() {
		s.err = fmt.Errorf("openapi.json is OpenAPI %q; this helper checks 3.1 documents", doc.OpenAPI)
		return s
	}
	if err := doc.Validate(loader.Context, openapi3.IsOpenAPI31OrLater()); err != nil {
		s.err = fmt.Errorf("openapi.json is not a valid OpenAPI 3.1 document: %w", err)
		return s
	}
	// Events carry the path below the stage, whatever host served them: route
	// by path alone, not by the document's servers (AWS's host, make dev's).
	doc.Servers = nil
	if s.router, err = gorillamux.NewRouter(doc); err != nil {
		s.err = fmt.Errorf("openapi.json cannot be routed: %w", err)
		return s
	}
	if doc.Components == nil || doc.Components.Schemas["Problem"] == nil {
		s.err = errors.New("openapi.json has no components/schemas/Problem")
		return s
	}
	s.problem = doc.Components.Schemas["Problem"]
	return s
})

// formatValidators asserts the string formats the document uses that
// kin-openapi leaves unchecked by default (it checks date-time itself).
func formatValidators() []openapi3.SchemaValidationOption {
	uri := openapi3.NewCallbackValidator(func(v string) error {
		u, err := url.Parse(v)
		if err != nil {
			return fmt.Errorf("not a URI: %v", err)
		}
		if u.Scheme == "" {
			return errors.New("not an absolute URI: it has no scheme")
		}
		return nil
	})
	uriRef := openapi3.NewCallbackValidator(func(v string) error {
		if _, err := url.Parse(v); err != nil {
			return fmt.Errorf("not a URI reference: %v", err)
		}
		return nil
	})
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uri", uri),
		openapi3.WithStringFormatValidator("uri-reference", uriRef),
	}
}

func (s *spec) check(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) []string {
	req, err := httpRequest(ev)
	if err != nil {
		return []string{err.Error()}
	}
	respBody, err := body(resp.Body, resp.IsBase64Encoded)
	if err != nil {
		return []string{"the answer's body is marked base64 but is not: " + err.Error()}
	}
	header := responseHeader(resp)

	var errs []string
	if isProblem(header.Get("Content-Type")) {
		errs = append(errs, problemStatus(respBody, resp.StatusCode)...)
	}

	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return append(errs, s.unrouted(req, err, resp.StatusCode, header, respBody)...)
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		MultiError:              true,
		IncludeResponseStatus:   true,
		SchemaValidationOptions: s.formats,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && resp.StatusCode < 300 {
		for _, e := range explain(err) {
			errs = append(errs, fmt.Sprintf("the API accepted (%d) a request the document does not allow: %s", resp.StatusCode, e))
		}
	}

	documented := route.Operation.Responses.Status(resp.StatusCode)
	if documented == nil {
		documented = route.Operation.Responses.Default()
	}
	if documented == nil || documented.Value == nil {
		if resp.StatusCode == http.StatusNotFound && problemCode(respBody) == string(apperr.CodeRouteNotFound) {
			// The router's answer for a route this function does not serve
			// (each Lambda serves only its own routes), not the operation's.
			return append(errs, s.problemBody(header, respBody)...)
		}
		return append(errs, fmt.Sprintf("status %d is not documented for %s; it documents %s",
			resp.StatusCode, route.Operation.OperationID, strings.Join(statuses(route.Operation), ", ")))
	}
	content := documented.Value.Content
	ct := header.Get("Content-Type")
	switch {
	case len(content) == 0 && len(respBody) > 0:
		errs = append(errs, fmt.Sprintf("status %d is documented without a body, but the answer has %d bytes: %.200s",
			resp.StatusCode, len(respBody), respBody))
	case len(content) > 0 && content.Get(ct) == nil:
		errs = append(errs, fmt.Sprintf("Content-Type %q is not documented for status %d of %s; it documents %s",
			ct, resp.StatusCode, route.Operation.OperationID, strings.Join(mediaTypes(content), ", ")))
		opts.ExcludeResponseBody = true // the headers can still be checked
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: header, Options: opts,
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		errs = append(errs, explain(err)...)
	}
	return errs
}

// unrouted checks an answer to a request that no operation matches: only a
// 404 problem (405 for a path whose method is not there) is right.
func (s *spec) unrouted(req *http.Request, err error, status int, header http.Header, b []byte) []string {
	want := http.StatusNotFound
	what := "no path of the document matches " + req.URL.EscapedPath()
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		want = http.StatusMethodNotAllowed
		what = "the document has no " + req.Method + " operation for " + req.URL.EscapedPath()
	case !errors.Is(err, routers.ErrPathNotFound):
		return []string{"routing the request: " + err.Error()}
	}
	// A function answers 404 for a method and path that another function serves.
	if status != want && status != http.StatusNotFound {
		return []string{fmt.Sprintf("%s, so the answer must be a %d problem, not %d", what, want, status)}
	}
	return s.problemBody(header, b)
}

// problemBody checks an answer that only the Problem schema describes.
func (s *spec) problemBody(header http.Header, b []byte) []string {
	if ct := header.Get("Content-Type"); !isProblem(ct) {
		return []string{fmt.Sprintf("Content-Type %q, want application/problem+json", ct)}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return []string{"the problem document is not JSON: " + err.Error()}
	}
	opts := append([]openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.VisitAsResponse()}, s.formats...)
	if err := s.problem.Value.VisitJSON(v, opts...); err != nil {
		var out []string
		for _, e := range explain(err) {
			out = append(out, "response body doesn't match schema #/components/schemas/Problem: "+e)
		}
		return out
	}
	return nil
}

func statuses(op *openapi3.Operation) []string {
	var out []string
	for code := range op.Responses.Map() {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

func mediaTypes(c openapi3.Content) []string {
	var out []string
	for mt := range c {
		out = append(out, mt)
	}
	sort.Strings(out)
	return out
}

func problemCode(b []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return p.Code
}

func problemStatus(b []byte, status int) []string {
	var p struct {
		Status *json.Number `json:"status"`
	}
	if json.Unmarshal(b, &p) != nil || p.Status == nil {
		return nil // the schema check says what is wrong
	}
	if p.Status.String() != fmt.Sprint(status) {
		return []string{fmt.Sprintf("the problem document's status is %s, but the HTTP status is %d", p.Status, status)}
	}
	return nil
}

func isProblem(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/problem+json"
}

// httpRequest turns the event into the request API Gateway received.
func httpRequest(ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if method == "" || path == "" {
		return nil, errors.New("the event has no method or path: build it with apitest.Event")
	}
	host := "api.example.test"
	for k, v := range ev.Headers {
		if strings.EqualFold(k, "host") && v != "" {
			host = v
		}
	}
	target := "https://" + host + path
	if q := rawQuery(ev); q != "" {
		target += "?" + q
	}
	b, err := body(ev.Body, ev.IsBase64Encoded)
	if err != nil {
		return nil, fmt.Errorf("the event's body is marked base64 but is not: %v", err)
	}
	req, err := http.NewRequest(strings.ToUpper(method), target, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("the event is not an HTTP request: %v", err)
	}
	if len(b) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	for _, c := range ev.Cookies {
		req.Header.Add("Cookie", c)
	}
	return req, nil
}

// rawQuery is the event's query string, rebuilt from its parameters when
// an event made by hand has only those.
func rawQuery(ev events.APIGatewayV2HTTPRequest) string {
	if ev.RawQueryString != "" || len(ev.QueryStringParameters) == 0 {
		return ev.RawQueryString
	}
	q := url.Values{}
	for k, v := range ev.QueryStringParameters {
		q.Set(k, v)
	}
	return q.Encode()
}

func responseHeader(resp events.APIGatewayV2HTTPResponse) http.Header {
	h := http.Header{}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return h
}

func body(s string, b64 bool) ([]byte, error) {
	if !b64 {
		return []byte(s), nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func describe(ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse, s *spec) string {
	method := ev.RequestContext.HTTP.Method
	target := ev.RawPath
	if target == "" {
		target = ev.RequestContext.HTTP.Path
	}
	if q := rawQuery(ev); q != "" {
		target += "?" + q
	}
	op := ""
	if req, err := httpRequest(ev); err == nil {
		if route, _, err := s.router.FindRoute(req); err == nil && route.Operation != nil {
			op = " (" + route.Operation.OperationID + ")"
		}
	}
	return fmt.Sprintf("%s %s%s answered %d", method, target, op, resp.StatusCode)
}

// explain turns kin-openapi's error trees into one line per fault, each
// naming where it is (the parameter, the header, the JSON pointer into the
// body) and what is wrong.
func explain(err error) []string {
	switch e := err.(type) {
	case openapi3.MultiError:
		var out []string
		for _, sub := range e {
			out = append(out, explain(sub)...)
		}
		return out
	case *openapi3filter.RequestError:
		where := "request"
		switch {
		case e.Parameter != nil:
			where = fmt.Sprintf("%s parameter %q", e.Parameter.In, e.Parameter.Name)
		case e.RequestBody != nil:
			where = "request body"
		}
		return prefixed(where, e.Reason, e.Err)
	case *openapi3filter.ResponseError:
		return prefixed("", e.Reason, e.Err)
	case *openapi3.SchemaError:
		return explainSchema(e)
	}
	return []string{err.Error()}
}

func prefixed(where, reason string, cause error) []string {
	head := strings.TrimSpace(where + " " + reason)
	if cause == nil {
		return []string{head}
	}
	var out []string
	for _, line := range explain(cause) {
		if head == "" || line == head {
			out = append(out, line)
		} else {
			out = append(out, head+": "+line)
		}
	}
	return out
}

var atPrefix = regexp.MustCompile(`^(?:error )?at '[^']*': `)

func explainSchema(e *openapi3.SchemaError) []string {
	var nested openapi3.MultiError
	if e.Origin != nil && errors.As(e.Origin, &nested) {
		return explain(nested)
	}
	pointer := "/"
	if p := e.JSONPointer(); len(p) > 0 {
		esc := make([]string, len(p))
		for i, tok := range p {
			esc[i] = strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
		}
		pointer = "/" + strings.Join(esc, "/")
	}
	reason := atPrefix.ReplaceAllString(e.Reason, "")
	if e.SchemaField == "format" && e.Schema != nil && e.Schema.Format != "" {
		reason = fmt.Sprintf("is not a valid %s", e.Schema.Format)
		if e.Origin != nil {
			if _, detail, ok := strings.Cut(e.Origin.Error(), ": "); ok && !strings.Contains(detail, "pattern") {
				reason += " (" + detail + ")"
			}
		}
	}
	line := reason
	if pointer != "/" {
		line = "at " + pointer + ": " + reason
	}
	_, isObject := e.Value.(map[string]any)
	aboutMembers := isObject && (pointer == "/" || strings.Contains(e.SchemaField, "roperties") || e.SchemaField == "required")
	if !aboutMembers && !strings.Contains(reason, "got ") {
		v, _ := json.Marshal(e.Value)
		if len(v) > 120 {
			v = append(v[:117], "..."...)
		}
		line += "; got " + string(v)
	}
	return []string{line}
}
