package vercel_test

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // Vercel's content address
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
)

// The contract: every request the client sends in these tests is checked
// against Vercel's published OpenAPI description (shared/specs/
// vercel-openapi.json, vercel/sdk's vercel-spec.json) with kin-openapi:
// the route (method and path) must exist, path, query and header
// parameters must match their schemas, required ones must be there, the
// bearer must be sent, and a JSON body must match the operation's schema
// (Vercel's createDeployment body has additionalProperties false). A JSON
// body member the schema does not declare is refused too, where the schema
// leaves additionalProperties open.
//
// POST /v2/files takes the raw file (application/octet-stream, a binary
// string). Its body is checked with ExcludeRequestBody: a schema
// {type: string, format: binary} says nothing a validator can hold raw
// bytes to (kin-openapi would decode the bytes as a Go string and accept
// anything); what does matter is what Vercel checks, so the test holds the
// x-vercel-digest header to the SHA-1 of the body and Content-Length to its
// length, and the content type to application/octet-stream.

type vercelSpec struct {
	doc    *openapi3.T
	router routers.Router
	load   time.Duration
}

var (
	specOnce sync.Once
	spec     *vercelSpec
	specErr  error
)

// specFile finds shared/specs/vercel-openapi.json beside the repository:
// the parent of the directory holding go.mod. It fails the test when the
// file is missing: the contract check is never skipped.
func specFile(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("contract: no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "specs", "vercel-openapi.json")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("contract: Vercel's OpenAPI description is missing at %s (the repository's parent must hold shared/specs): %v", p, err)
	}
	return p
}

// loadSpec loads the 4 MB description once per test binary.
func loadSpec(t testing.TB) *vercelSpec {
	t.Helper()
	path := specFile(t)
	specOnce.Do(func() {
		start := time.Now()
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(path)
		if err != nil {
			specErr = fmt.Errorf("loading %s: %w", path, err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "https://api.vercel.com"}}
		addRollback(doc)
		mergeSamePaths(doc)
		typeStringEnums(doc)
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("routing %s: %w", path, err)
			return
		}
		spec = &vercelSpec{doc: doc, router: router, load: time.Since(start)}
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// Two corrections of the vendor's document, neither of which loosens a
// check:
//
// mergeSamePaths: the description names one path twice with different
// parameter names (GET /v13/deployments/{idOrUrl} and DELETE
// /v13/deployments/{id}; the access-groups pair likewise). A router matches
// the path to whichever template it meets first and then refuses the other
// method, so the operations are put under one template, their path
// parameters renamed by position.
func mergeSamePaths(doc *openapi3.T) {
	shape := func(p string) (string, []string) {
		var names []string
		var b strings.Builder
		for {
			i := strings.IndexByte(p, '{')
			if i < 0 {
				b.WriteString(p)
				return b.String(), names
			}
			j := strings.IndexByte(p[i:], '}')
			b.WriteString(p[:i] + "{}")
			names = append(names, p[i+1:i+j])
			p = p[i+j+1:]
		}
	}
	kept := map[string]string{}
	keys := doc.Paths.Keys()
	sort.Strings(keys)
	for _, key := range keys {
		sh, names := shape(key)
		into, ok := kept[sh]
		if !ok {
			kept[sh] = key
			continue
		}
		_, keepNames := shape(into)
		rename := map[string]string{}
		for i, n := range names {
			rename[n] = keepNames[i]
		}
		item, target := doc.Paths.Value(key), doc.Paths.Value(into)
		for method, op := range item.Operations() {
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			op.Parameters = nil
			for _, pr := range params {
				if pr.Value != nil && pr.Value.In == "path" && rename[pr.Value.Name] != "" {
					c := *pr.Value
					c.Name = rename[c.Name]
					pr = &openapi3.ParameterRef{Value: &c}
				}
				op.Parameters = append(op.Parameters, pr)
			}
			target.SetOperation(method, op)
		}
		doc.Paths.Delete(key)
	}
}

// addRollback adds the instant rollback operation the vendored description
// (2025-10-29) lacks, as Vercel's current description states it (@vercel/sdk
// src/funcs/projectsRequestRollback.ts; operationId requestRollback):
// POST /v1/projects/{projectId}/rollback/{deploymentId}, no body, the
// optional query parameters description, teamId and slug, bearer auth.
func addRollback(doc *openapi3.T) {
	str := func() *openapi3.SchemaRef { return openapi3.NewStringSchema().NewRef() }
	param := func(in, name string, required bool) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{In: in, Name: name, Required: required, Schema: str()}}
	}
	op := &openapi3.Operation{
		OperationID: "requestRollback",
		Parameters: openapi3.Parameters{param("path", "projectId", true), param("path", "deploymentId", true),
			param("query", "description", false), param("query", "teamId", false), param("query", "slug", false)},
		Security:  &openapi3.SecurityRequirements{{"bearerToken": []string{}}},
		Responses: openapi3.NewResponses(),
	}
	item := &openapi3.PathItem{}
	item.SetOperation(http.MethodPost, op)
	doc.Paths.Set("/v1/projects/{projectId}/rollback/{deploymentId}", item)
}

// typeStringEnums: some parameters are declared with an enum of strings
// and no type (createDeployment's skipAutoDetectionConfirmation: enum
// ["0", "1"]); kin-openapi cannot decode a value without a type and
// refuses every one. Such schemas get type string; the enum still holds.
func typeStringEnums(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if pr.Value == nil || pr.Value.Schema == nil || pr.Value.Schema.Value == nil {
					continue
				}
				sc := pr.Value.Schema.Value
				if (sc.Type == nil || len(*sc.Type) == 0) && len(sc.Enum) > 0 {
					allStrings := true
					for _, e := range sc.Enum {
						if _, ok := e.(string); !ok {
							allStrings = false
						}
					}
					if allStrings {
						sc.Type = &openapi3.Types{openapi3.TypeString}
					}
				}
			}
		}
	}
}

func (s *vercelSpec) check(r vercelfake.Request) error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(r.Method, "https://api.vercel.com"+u.RequestURI(), bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in Vercel's description: %w", r.Method, u.Path, err)
	}
	raw := route.Path == "/v2/files"
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			ExcludeRequestBody: raw,
			AuthenticationFunc: func(_ context.Context, ai *openapi3filter.AuthenticationInput) error {
				if !strings.HasPrefix(ai.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
					return errors.New("no bearer token")
				}
				return nil
			},
		}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err
	}
	if raw {
		sum := sha1.Sum(r.Body) //nolint:gosec // Vercel's content address
		if got := r.Header.Get("x-vercel-digest"); got != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("x-vercel-digest %q is not the SHA-1 of the body", got)
		}
		if got := r.Header.Get("Content-Length"); got != strconv.Itoa(len(r.Body)) {
			return fmt.Errorf("Content-Length %q is not the body's length %d", got, len(r.Body))
		}
		if got := r.Header.Get("Content-Type"); got != "application/octet-stream" {
			return fmt.Errorf("Content-Type %q is not application/octet-stream", got)
		}
		return nil
	}
	if len(bytes.TrimSpace(r.Body)) == 0 || route.Operation.RequestBody == nil {
		return nil
	}
	mt := route.Operation.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	var body any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	if extra := contract.UndeclaredProperties(mt.Schema.Value, body, ""); len(extra) > 0 {
		return fmt.Errorf("body members the description does not declare: %s", strings.Join(extra, ", "))
	}
	return nil
}

// checkContract holds every request the fake received to the description.
func checkContract(t *testing.T, fake *vercelfake.Server) {
	t.Helper()
	s := loadSpec(t)
	for _, r := range fake.Requests() {
		if err := s.check(r); err != nil {
			t.Errorf("contract: %s %s: %v", r.Method, r.URL, err)
		}
	}
}

func TestContractDescriptionLoadsOnceAndItsLoadTimeIsMeasured(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	t.Logf("vercel-openapi.json loaded and routed in %v", s.load)
	if s.doc.Paths.Find("/v13/deployments") == nil {
		t.Fatal("the description has no /v13/deployments")
	}
}

func TestContractCheckRefusesRequestsVercelDoesNotDocument(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	bearer := http.Header{"Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}
	file := []byte("hello")
	sum := sha1.Sum(file) //nolint:gosec // Vercel's content address
	digest := hex.EncodeToString(sum[:])
	good := []vercelfake.Request{
		{Method: "POST", URL: "/v13/deployments?skipAutoDetectionConfirmation=1", Header: bearer,
			Body: []byte(`{"name":"a","project":"prj_1","target":"production","files":[{"file":"index.html","sha":"` + digest + `","size":5}]}`)},
		{Method: "POST", URL: "/v2/files", Body: file, Header: http.Header{"Authorization": {"Bearer t"},
			"Content-Type": {"application/octet-stream"}, "X-Vercel-Digest": {digest}, "Content-Length": {"5"}}},
		{Method: "POST", URL: "/v1/projects/prj_1/rollback/dpl_1?teamId=team_1", Header: http.Header{"Authorization": {"Bearer t"}}},
		{Method: "POST", URL: "/v13/deployments?skipAutoDetectionConfirmation=1", Header: bearer,
			Body: []byte(`{"name":"a","project":"prj_1","target":"production","gitSource":{"type":"github","org":"acme","repo":"web","ref":"main"}}`)},
		{Method: "POST", URL: "/v10/projects/prj_1/env?upsert=true", Header: bearer,
			Body: []byte(`[{"key":"A","value":"b","type":"sensitive","target":["production","preview"]}]`)},
	}
	for _, r := range good {
		if err := s.check(r); err != nil {
			t.Errorf("%s %s: a documented request was refused: %v", r.Method, r.URL, err)
		}
	}
	bad := map[string]vercelfake.Request{
		"unknown path":           {Method: "POST", URL: "/v1/projects/prj_1/undo/dpl_1", Header: bearer},
		"rollback read with GET": {Method: "GET", URL: "/v1/projects/prj_1/rollback/dpl_1", Header: bearer},
		"sensitive env without a known type": {Method: "POST", URL: "/v10/projects/prj_1/env?upsert=true", Header: bearer,
			Body: []byte(`[{"key":"A","value":"b","type":"secretive","target":["production"]}]`)},
		"gitSource without ref": {Method: "POST", URL: "/v13/deployments?skipAutoDetectionConfirmation=1", Header: bearer,
			Body: []byte(`{"name":"a","project":"prj_1","gitSource":{"type":"github","org":"acme","repo":"web"}}`)},
		"wrong method": {Method: "DELETE", URL: "/v11/projects", Header: bearer},
		"missing name": {Method: "POST", URL: "/v13/deployments", Header: bearer, Body: []byte(`{"project":"prj_1"}`)},
		"unknown body member": {Method: "POST", URL: "/v11/projects", Header: bearer,
			Body: []byte(`{"name":"a","frameworks":"nextjs"}`)},
		"bad enum": {Method: "POST", URL: "/v13/deployments?skipAutoDetectionConfirmation=yes", Header: bearer,
			Body: []byte(`{"name":"a"}`)},
		"env without type": {Method: "POST", URL: "/v10/projects/prj_1/env?upsert=true", Header: bearer,
			Body: []byte(`[{"key":"A","value":"b","target":["production"]}]`)},
		"no bearer": {Method: "GET", URL: "/v2/user", Header: http.Header{}},
		"wrong digest": {Method: "POST", URL: "/v2/files", Body: file, Header: http.Header{"Authorization": {"Bearer t"},
			"Content-Type": {"application/octet-stream"}, "X-Vercel-Digest": {strings.Repeat("0", 40)}, "Content-Length": {"5"}}},
	}
	for name, r := range bad {
		err := s.check(r)
		if err == nil {
			t.Errorf("%s: %s %s passed the contract check", name, r.Method, r.URL)
			continue
		}
		t.Logf("%s: refused: %.160s", name, strings.ReplaceAll(err.Error(), "\n", " "))
	}
}
