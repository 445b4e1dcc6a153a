package httpapi_test

import (
	"context"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

// loadOpenAPI loads the embedded document and validates it as OpenAPI 3.1.
// The loader reads the version from the document; Validate is told 3.1
// explicitly as well, so JSON Schema 2020-12 keywords (type arrays with
// "null", numeric bounds) are checked as 3.1 has them and a document that
// drifted back to 3.0 fails here rather than passing as 3.0.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(httpapi.OpenAPIDocument())
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json declares OpenAPI %q, want 3.1.0", doc.OpenAPI)
	}
	err = doc.Validate(loader.Context,
		openapi3.IsOpenAPI31OrLater(),
		openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaDefaultsValidation(),
		openapi3.EnableExamplesValidation(),
		openapi3.ProhibitExtensionsWithRef(),
		openapi3.EnableMultiError(),
	)
	if err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document:\n%v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValidOpenAPI31(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" || scheme.Value.BearerFormat != "JWT" {
		t.Errorf("components.securitySchemes.bearerAuth must be an http bearer JWT scheme, got %+v", scheme)
	}
	if len(doc.Security) != 1 || len(doc.Security[0]) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("the global security must be exactly [{bearerAuth: []}], got %v", doc.Security)
	}
}

// The document is held to the route table both ways: every route has its
// operation, with the same operationId, and the document has nothing else.
func TestOpenAPIOperationsEqualTheRouteTable(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)

	inTable := map[string]string{} // "GET /path" -> operationId
	for _, r := range httpapi.Routes() {
		inTable[r.Key()] = r.Operation
	}
	inDoc := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			inDoc[strings.ToUpper(method)+" "+path] = op.OperationID
		}
	}

	var problems []string
	for _, key := range sortedKeys(inTable) {
		got, ok := inDoc[key]
		switch {
		case !ok:
			problems = append(problems, "route "+key+" ("+inTable[key]+") is in httpapi.Routes() but has no operation in openapi.json")
		case got != inTable[key]:
			problems = append(problems, "route "+key+": operationId "+strconv.Quote(got)+" in openapi.json, but Operation "+strconv.Quote(inTable[key])+" in httpapi.Routes()")
		}
	}
	for _, key := range sortedKeys(inDoc) {
		if _, ok := inTable[key]; !ok {
			problems = append(problems, "operation "+key+" ("+inDoc[key]+") is in openapi.json but not in httpapi.Routes()")
		}
	}
	if len(problems) > 0 {
		t.Errorf("openapi.json and the route table disagree:\n  %s", strings.Join(problems, "\n  "))
	}
}

func TestOnlyPublicRoutesOptOutOfBearerAuth(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for _, r := range httpapi.Routes() {
		op := operation(doc, r)
		if op == nil {
			continue // reported by TestOpenAPIOperationsEqualTheRouteTable
		}
		optsOut := op.Security != nil && len(*op.Security) == 0
		switch {
		case r.Public && !optsOut:
			t.Errorf("%s is public in the route table, so its operation must set security: []", r.Key())
		case !r.Public && optsOut:
			t.Errorf("%s needs a token in the route table, but its operation sets security: []", r.Key())
		case !r.Public && op.Security != nil:
			// An operation may restate the requirement, but only as bearerAuth.
			for _, req := range *op.Security {
				if _, ok := req["bearerAuth"]; !ok || len(req) != 1 {
					t.Errorf("%s: security %v, want the global bearerAuth", r.Key(), *op.Security)
				}
			}
		}
	}
}

func TestEveryOperationDocumentsSuccessAndProblems(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for _, r := range httpapi.Routes() {
		op := operation(doc, r)
		if op == nil {
			continue
		}
		var success, problems []int
		for code, resp := range op.Responses.Map() {
			status, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q: name statuses exactly; a default response would make every status documented", r.Key(), code)
				continue
			}
			if status < 400 {
				success = append(success, status)
				continue
			}
			problems = append(problems, status)
			// A problem document, and for the routes a person's browser
			// opens (the connect page, the OAuth callback) an HTML page
			// too, or instead.
			content := resp.Value.Content
			mt, page := content["application/problem+json"], content["text/html"]
			okProblem := mt != nil && mt.Schema != nil && mt.Schema.Ref == "#/components/schemas/Problem"
			okPage := page != nil && page.Schema != nil && page.Schema.Ref == "#/components/schemas/HTMLPage" && r.Public
			if want := btoi(mt != nil) + btoi(page != nil); len(content) != want || want == 0 || (mt != nil && !okProblem) || (page != nil && !okPage) {
				t.Errorf("%s: response %d must be application/problem+json with the Problem schema (and, on a public route, text/html with HTMLPage), and only that", r.Key(), status)
			}
		}
		if len(success) == 0 {
			t.Errorf("%s documents no success response", r.Key())
		}
		if len(problems) == 0 {
			t.Errorf("%s documents no problem response", r.Key())
		}
		if !r.Public && (!slices.Contains(problems, 401) || !slices.Contains(problems, 501)) {
			t.Errorf("%s needs a token, so it must document 401 and 501; it documents %v", r.Key(), sorted(problems))
		}
		if body := op.RequestBody; body != nil && !slices.Contains(problems, 413) {
			t.Errorf("%s takes a body, so it must document 413; it documents %v", r.Key(), sorted(problems))
		}
		if (r.Method == "POST" || r.Method == "PATCH") && !slices.Contains(problems, 415) {
			t.Errorf("%s may be sent a body, so it must document 415 for one that is not JSON; it documents %v", r.Key(), sorted(problems))
		}
		// An answer that made something (201, or 202 while it is being
		// made) says where to read it.
		for _, status := range []int{201, 202} {
			if resp := op.Responses.Status(status); resp != nil {
				if h := resp.Value.Headers["Location"]; h == nil || !h.Value.Required {
					t.Errorf("%s: %d must carry a required Location header", r.Key(), status)
				}
			}
		}
		if resp := op.Responses.Status(429); resp != nil {
			if h := resp.Value.Headers["Retry-After"]; h == nil || !h.Value.Required {
				t.Errorf("%s: 429 must carry a required Retry-After header", r.Key())
			}
		}
		// A POST to a collection (/livestreams, /meetings, /deployments) creates.
		// So does a route marked Creates (POST /connections/{platform}).
		if r.Method == "POST" && strings.Count(r.Path, "/") == 1 || r.Creates {
			if op.Parameters.GetByInAndName("header", "Idempotency-Key") == nil {
				t.Errorf("%s creates something, so it must take an Idempotency-Key header", r.Key())
			}
		}
	}
}

func TestDeploymentAnswersCarryRateLimitHeaders(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	op := doc.Paths.Find("/deployments").Post
	for _, status := range []int{202, 429} {
		resp := op.Responses.Status(status)
		if resp == nil {
			t.Fatalf("POST /deployments documents no %d", status)
		}
		for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
			if hr := resp.Value.Headers[h]; hr == nil || !hr.Value.Required {
				t.Errorf("POST /deployments %d must carry a required %s header", status, h)
			}
		}
	}
}

func TestOAuthCallbackRedirectsWithLocation(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	op := doc.Paths.Find("/oauth/{platform}/callback").Get
	found := op.Responses.Status(302)
	if found == nil {
		t.Fatal("the OAuth callback documents no 302")
	}
	if h := found.Value.Headers["Location"]; h == nil || !h.Value.Required {
		t.Error("the OAuth callback's 302 must carry a required Location header")
	}
	if op.Responses.Status(200) == nil {
		t.Error("the OAuth callback documents no 200 for authorizations without returnTo")
	}
}

func TestServedOpenAPIIsTheEmbeddedDocument(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{Function: "connections"}, httpapi.Services{})
	resp, err := api.Handle(context.Background(), apitest.Event("GET", "/openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: status %d, body %.300s", resp.StatusCode, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json" {
		t.Errorf("GET /openapi.json: Content-Type %q, want application/json", ct)
	}
	if resp.IsBase64Encoded {
		t.Error("GET /openapi.json is base64-encoded; it must be the JSON itself")
	}
	if resp.Body != string(httpapi.OpenAPIDocument()) {
		t.Errorf("GET /openapi.json serves %d bytes that are not the embedded document (%d bytes)", len(resp.Body), len(httpapi.OpenAPIDocument()))
	}
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != string(onDisk) {
		t.Error("GET /openapi.json does not serve internal/httpapi/openapi.json as it is on disk")
	}
}

func operation(doc *openapi3.T, r httpapi.Route) *openapi3.Operation {
	item := doc.Paths.Value(r.Path)
	if item == nil {
		return nil
	}
	return item.GetOperation(r.Method)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The shapes are closed, so an answer that grows a field the contract does
// not have (a token, a stream key) fails openapitest.Check. Problem is open
// by RFC 9457; Health and the document itself are open on purpose.
func TestObjectSchemasAreClosed(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	open := map[string]bool{"Problem": true, "Health": true, "OpenAPIDocument": true}
	for name, ref := range doc.Components.Schemas {
		sc := ref.Value
		if open[name] || !sc.Type.Is("object") {
			continue
		}
		if ap := sc.AdditionalProperties; ap.Has == nil || *ap.Has {
			t.Errorf("components/schemas/%s must set additionalProperties: false", name)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
