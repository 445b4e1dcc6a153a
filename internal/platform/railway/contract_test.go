package railway_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
)

// The contract: every GraphQL document the client sends in these tests,
// with its variables, is checked against Railway's published schema
// (shared/specs/railway-schema.json, the introspection result the Railway
// CLI ships) with gqlparser: every rule of the GraphQL specification
// (fields and arguments exist, argument and variable types agree, required
// arguments given, variables declared and used), then the variable values
// against their declared types (input object fields exist, required ones
// are there, scalars and enums fit). Every request carries exactly one of
// a bearer token and a Project-Access-Token header, and the undocumented
// upload must look like the CLI's.

var (
	schemaOnce sync.Once
	schema     *ast.Schema
	schemaErr  error
	schemaLoad time.Duration
)

// schemaFile finds shared/specs/railway-schema.json beside the repository
// (the parent of the directory holding go.mod); the test fails when it is
// missing: the check is never skipped.
func schemaFile(t testing.TB) string {
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
	p := filepath.Join(filepath.Dir(dir), "shared", "specs", "railway-schema.json")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("contract: Railway's schema is missing at %s (the repository's parent must hold shared/specs): %v", p, err)
	}
	return p
}

func loadSchema(t testing.TB) *ast.Schema {
	t.Helper()
	path := schemaFile(t)
	schemaOnce.Do(func() {
		start := time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = railwayfake.Schema(data)
		schemaLoad = time.Since(start)
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schema
}

func checkRequest(s *ast.Schema, r railwayfake.Request) error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	if u.RawQuery == "" {
		return errString("the request has no query string: the client always names itself with ?source=")
	}
	if r.Op == "up" {
		if !strings.HasSuffix(u.Path, "/up") || u.Query().Get("serviceId") == "" ||
			r.Header.Get("Content-Type") != "application/gzip" || len(r.Body) < 2 || r.Body[0] != 0x1f || r.Body[1] != 0x8b {
			return errString("the upload is not the CLI's: POST /project/{id}/environment/{envId}/up?serviceId= with a gzip body")
		}
		return nil
	}
	if u.Path != railwayfake.GraphQLPath || r.Method != "POST" {
		return errString("not a POST to " + railwayfake.GraphQLPath)
	}
	bearer, project := strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("Project-Access-Token") != ""
	if bearer == project {
		return errString("not exactly one of a bearer token and a Project-Access-Token header")
	}
	var body struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return err
	}
	return railwayfake.Check(s, body.Query, body.Variables, body.OperationName)
}

type errString string

func (e errString) Error() string { return string(e) }

func checkContract(t *testing.T, fake *railwayfake.Server) {
	t.Helper()
	s := loadSchema(t)
	for _, r := range fake.Requests() {
		if err := checkRequest(s, r); err != nil {
			t.Errorf("contract: %s %s (%s): %v", r.Method, r.URL, r.Op, err)
		}
	}
}

func TestContractEveryDocumentOfTheClientParsesAgainstRailwaysSchema(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	t.Logf("railway-schema.json read and converted in %v", schemaLoad)
	for _, doc := range railway.Documents() {
		if err := railwayfake.Check(s, doc, nil, ""); err != nil && !strings.Contains(err.Error(), "must be defined") {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestContractCheckRefusesDocumentsAndVariablesTheSchemaDoesNot(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	cases := map[string]struct {
		query string
		vars  map[string]any
	}{
		"unknown field":         {`query { me { id handle } }`, nil},
		"unknown argument":      {`query($id: String!) { deployment(deploymentId: $id) { id } }`, map[string]any{"id": "d"}},
		"wrong variable type":   {`query($id: Int!) { deployment(id: $id) { id } }`, map[string]any{"id": 1}},
		"missing argument":      {`mutation { serviceInstanceDeployV2(serviceId: "s") }`, nil},
		"unknown input field":   {`mutation($input: ProjectCreateInput!) { projectCreate(input: $input) { id } }`, map[string]any{"input": map[string]any{"name": "a", "teamName": "x"}}},
		"missing required":      {`mutation($input: ServiceCreateInput!) { serviceCreate(input: $input) { id } }`, map[string]any{"input": map[string]any{"name": "a"}}},
		"wrong value type":      {`query($d: String!, $l: Int) { buildLogs(deploymentId: $d, limit: $l) { message } }`, map[string]any{"d": "x", "l": "many"}},
		"bad enum value":        {`query { deployments(input: {status: {in: [DONE]}}) { edges { node { id } } } }`, nil},
		"selection on a scalar": {`query($id: String!) { deployment(id: $id) { status { name } } }`, map[string]any{"id": "d"}},
	}
	for name, tc := range cases {
		err := railwayfake.Check(s, tc.query, tc.vars, "")
		if err == nil {
			t.Errorf("%s: passed the contract check", name)
			continue
		}
		t.Logf("%s: refused: %.150s", name, err)
	}
	if err := checkRequest(s, railwayfake.Request{Method: "POST", URL: railwayfake.GraphQLPath, Op: "me",
		Body: []byte(`{"query":"query { me { id } }"}`)}); err == nil {
		t.Error("a request without a query string passed")
	}
}
