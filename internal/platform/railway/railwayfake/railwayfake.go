// Package railwayfake is a Railway GraphQL API test double on loopback. It
// parses each operation with gqlparser, dispatches on its root field,
// answers only the fields the document selects, and reports failures the
// way Railway does: HTTP 200 with {"errors":[{"message","extensions"}]}.
// Deployments move through Railway's states over successive status polls
// (QUEUED, INITIALIZING, BUILDING, DEPLOYING, then SUCCESS or FAILED) and
// write build logs. It also serves the CLI's undocumented upload endpoint.
// Every request is recorded for contract checks, and with ValidateWith the
// fake refuses, as Railway does, a document or variables its schema does
// not allow.
//
// Tokens are of Railway's kinds: a bearer token is an account token (every
// workspace) unless AddOAuthToken or AddWorkspaceToken made it an OAuth
// token (the workspaces the user granted) or a workspace token; a
// Project-Access-Token header carries a project token (AddProjectToken).
// `me` answers account and OAuth tokens only; `apiToken` account and
// workspace tokens; `projectToken` project tokens. A create in a workspace
// the token may not use, or a project token's create of a project, is "Not
// Authorized"; an OAuth token's create without a workspaceId is refused
// (PLATFORMS.md Railway, "Token kinds", "Workspaces").
package railwayfake

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// GraphQLPath is where the fake serves the API, as Railway does.
const GraphQLPath = "/graphql/v2"

// Request is one request as the fake received it.
type Request struct {
	Op        string // the root field ("projectCreate"), "up" for the upload endpoint
	Method    string
	URL       string // path and raw query
	Header    http.Header
	Body      []byte
	Query     string         // the GraphQL document
	Variables map[string]any // its variables
}

type failure struct {
	status     int
	code       string
	retryAfter int // seconds, for a 429
}

type project struct {
	ID, Name, WorkspaceID, EnvID string
	Services                     []string
	CreatedAt                    time.Time
}

// Workspaces every fake has: an account token reaches both.
const (
	PersonalWorkspace = "ws-personal"
	TeamWorkspace     = "ws-team"
)

// Token kinds the fake tells apart.
const (
	kindAccount   = "account"
	kindOAuth     = "oauth"
	kindWorkspace = "workspace"
	kindProject   = "project"
)

type tokenInfo struct {
	kind       string
	workspaces []string // OAuth and workspace tokens
	projectID  string   // project tokens
}

type service struct {
	ID, Name, ProjectID, Image, Repo, Branch, Domain string
	Vars                                             map[string]string
	Active                                           string // the live deployment
}

type logLine struct {
	Timestamp, Message, Severity string
}

type deployment struct {
	ID, ServiceID, Status, FailMessage string
	Logs                               []logLine
	Vars                               map[string]string
	Files                              []string
}

type workflow struct {
	ID, ProjectID, EnvID string
	Polls                int
	Done                 bool
}

// Server is the fake. Call New.
type Server struct {
	URL string

	srv         *httptest.Server
	mu          sync.Mutex
	seq         int
	rec         fakekit.Recorder[Request]
	fails       fakekit.Failures[failure]
	tokens      fakekit.Tokens
	failBuilds  map[string]string
	projects    map[string]*project
	services    map[string]*service
	deployments map[string]*deployment
	workflows   map[string]*workflow
	workspaces  []map[string]any
	kinds       map[string]tokenInfo
	unknown     tokenInfo // what an unregistered bearer token is
	dropAnswers fakekit.Failures[failure]
	schema      *ast.Schema
	// WorkflowLag is how many workflowStatus polls a new template
	// deployment answers NotFound first (Railway's read-after-write lag).
	WorkflowLag int
	// WorkflowPolls is how many workflowStatus polls a template deployment
	// stays Running (2 when zero).
	WorkflowPolls int
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{failBuilds: map[string]string{}, projects: map[string]*project{}, services: map[string]*service{},
		deployments: map[string]*deployment{}, workflows: map[string]*workflow{}, kinds: map[string]tokenInfo{}, unknown: tokenInfo{kind: kindAccount},
		workspaces: []map[string]any{{"id": PersonalWorkspace, "name": "Fake Developer's Projects"}, {"id": TeamWorkspace, "name": "Acme Team"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+GraphQLPath, s.graphql)
	mux.HandleFunc("POST /project/{projectId}/environment/{environmentId}/up", s.up)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone()})
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []any{map[string]any{"message": "Not Found"}}})
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// APIURL is the GraphQL endpoint with the query string Railway asks for.
func (s *Server) APIURL() string { return s.URL + GraphQLPath + "?source=test" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next n calls of op (a root field such as
// "serviceInstanceDeployV2", or "up") fail. status 200 answers a GraphQL
// error whose extensions.code is code (UNAUTHENTICATED answers "Not
// Authorized", RATE_LIMITED "Rate limit exceeded"); 429 answers with
// Retry-After: 1; other statuses answer that status with a GraphQL error.
func (s *Server) FailNext(op string, status int, code string, n int) {
	s.fails.Add(op, failure{status: status, code: code}, n)
}

// RateLimitNext makes the next n calls of op answer 429 with Retry-After
// of the given seconds, as Railway does past a plan's hourly limit
// (PLATFORMS.md Railway, "Rate limits": "429 with Retry-After").
func (s *Server) RateLimitNext(op string, retryAfterSeconds, n int) {
	s.fails.Add(op, failure{status: http.StatusTooManyRequests, retryAfter: retryAfterSeconds}, n)
}

// FailBuild makes every later deployment of services in the project fail
// its build with message as the last error line.
func (s *Server) FailBuild(projectName, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failBuilds[projectName] = message
}

// ValidateWith makes the fake refuse every request whose document or
// variables the schema does not allow, with a GraphQL validation error.
func (s *Server) ValidateWith(schema *ast.Schema) { s.schema = schema }

// AddOAuthToken makes token an OAuth access token granted the workspaces.
func (s *Server) AddOAuthToken(token string, workspaces ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kinds[token] = tokenInfo{kind: kindOAuth, workspaces: workspaces}
}

// UnknownTokensAreOAuth makes every bearer token not registered otherwise
// an OAuth token granted the workspaces (for a sandbox whose OAuth mock
// issues the tokens).
func (s *Server) UnknownTokensAreOAuth(workspaces ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown = tokenInfo{kind: kindOAuth, workspaces: workspaces}
}

// AddWorkspaceToken makes token a workspace token of the workspace.
func (s *Server) AddWorkspaceToken(token, workspace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kinds[token] = tokenInfo{kind: kindWorkspace, workspaces: []string{workspace}}
}

// AddProjectToken makes token a project token of a new project named
// name in the team workspace, and returns the project's id.
func (s *Server) AddProjectToken(token, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &project{ID: s.nextID("prj"), Name: name, WorkspaceID: TeamWorkspace, EnvID: s.nextID("env"), CreatedAt: time.Now().UTC()}
	s.projects[p.ID] = p
	s.kinds[token] = tokenInfo{kind: kindProject, projectID: p.ID}
	return p.ID
}

// DropAnswer makes the next n calls of op happen but answer 502 Bad
// Gateway, as an answer lost on the way.
func (s *Server) DropAnswer(op string, n int) {
	s.dropAnswers.Add(op, failure{status: http.StatusBadGateway}, n)
}

// DeleteProject deletes a project and its services, as a user can in
// Railway's dashboard.
func (s *Server) DeleteProject(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[id]; ok {
		for _, sv := range p.Services {
			delete(s.services, sv)
		}
		delete(s.projects, id)
	}
}

// ProjectWorkspace is the workspace a project was created in.
func (s *Server) ProjectWorkspace(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[id]; ok {
		return p.WorkspaceID
	}
	return ""
}

// ProjectsNamed is how many projects have the name.
func (s *Server) ProjectsNamed(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.projects {
		if p.Name == name {
			n++
		}
	}
	return n
}

// RejectToken makes the token refused ("Not Authorized", in a 200).
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// Calls is how many requests op received.
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is every request received, in order.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// ServiceVars is a service's variables (nil for an unknown service).
func (s *Server) ServiceVars(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv, ok := s.services[id]; ok {
		return copyVars(sv.Vars)
	}
	return nil
}

// DeploymentVars is the variables a deployment was built with.
func (s *Server) DeploymentVars(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deployments[id]; ok {
		return copyVars(d.Vars)
	}
	return nil
}

// DeploymentFiles is the files an uploaded deployment was built from.
func (s *Server) DeploymentFiles(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deployments[id]; ok {
		return append([]string(nil), d.Files...)
	}
	return nil
}

// ActiveDeployment is the service's live deployment.
func (s *Server) ActiveDeployment(serviceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv, ok := s.services[serviceID]; ok {
		return sv.Active
	}
	return ""
}

// Counts is how many projects and services exist.
func (s *Server) Counts() (projects, services int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.projects), len(s.services)
}

func copyVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *Server) record(r Request) { s.rec.Record(r.Op, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json", status, v)
}

func gqlErrors(message, code string) map[string]any {
	e := map[string]any{"message": message}
	if code != "" {
		e["extensions"] = map[string]any{"code": code}
	}
	return map[string]any{"data": nil, "errors": []any{e}}
}

// gqlError is a failure a resolver reports.
type gqlError struct{ message, code string }

func (e *gqlError) Error() string { return e.message }

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%06d", prefix, s.seq)
}

func writeFailure(w http.ResponseWriter, f failure) {
	switch {
	case f.status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(max(f.retryAfter, 1)))
		writeJSON(w, f.status, gqlErrors("Too many requests. Try again later.", "RATE_LIMITED"))
	case f.status == http.StatusOK || f.status == 0:
		msg := f.code
		switch f.code {
		case "UNAUTHENTICATED":
			msg = "Not Authorized"
		case "RATE_LIMITED":
			msg = "Rate limit exceeded"
		case "INTERNAL_SERVER_ERROR":
			msg = "Problem processing request"
		}
		writeJSON(w, http.StatusOK, gqlErrors(msg, f.code))
	default:
		writeJSON(w, f.status, gqlErrors(http.StatusText(f.status), f.code))
	}
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	rec := Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: raw}
	if err := json.Unmarshal(raw, &body); err != nil {
		s.record(rec)
		writeJSON(w, http.StatusBadRequest, gqlErrors("POST body sent invalid JSON.", "BAD_REQUEST"))
		return
	}
	rec.Query, rec.Variables = body.Query, body.Variables
	doc, perr := parser.ParseQuery(&ast.Source{Input: body.Query})
	if perr != nil || len(doc.Operations) == 0 {
		s.record(rec)
		writeJSON(w, http.StatusBadRequest, gqlErrors(fmt.Sprintf("Syntax Error: %v", perr), "GRAPHQL_PARSE_FAILED"))
		return
	}
	op := doc.Operations[0]
	if body.OperationName != "" {
		op = doc.Operations.ForName(body.OperationName)
	}
	if op == nil || len(op.SelectionSet) == 0 {
		s.record(rec)
		writeJSON(w, http.StatusBadRequest, gqlErrors("Unknown operation", "BAD_REQUEST"))
		return
	}
	root, ok := op.SelectionSet[0].(*ast.Field)
	if !ok {
		s.record(rec)
		writeJSON(w, http.StatusBadRequest, gqlErrors("The root selection must be a field", "BAD_REQUEST"))
		return
	}
	rec.Op = root.Name
	s.record(rec)
	if s.schema != nil {
		if err := Check(s.schema, body.Query, body.Variables, body.OperationName); err != nil {
			writeJSON(w, http.StatusBadRequest, gqlErrors(err.Error(), "GRAPHQL_VALIDATION_FAILED"))
			return
		}
	}
	tok, ok := s.token(r)
	if !ok {
		writeJSON(w, http.StatusOK, gqlErrors("Not Authorized", "UNAUTHENTICATED"))
		return
	}
	if f, ok := s.fails.Next(root.Name); ok {
		writeFailure(w, f)
		return
	}
	args := map[string]any{}
	for _, a := range root.Arguments {
		v, err := a.Value.Value(body.Variables)
		if err != nil {
			writeJSON(w, http.StatusOK, gqlErrors(err.Error(), "GRAPHQL_VALIDATION_FAILED"))
			return
		}
		args[a.Name] = v
	}
	s.mu.Lock()
	result, err := s.resolve(tok, root.Name, args)
	s.mu.Unlock()
	if f, ok := s.dropAnswers.Next(root.Name); ok {
		writeJSON(w, f.status, map[string]any{"message": "Bad Gateway"})
		return
	}
	if err != nil {
		ge, _ := err.(*gqlError)
		if ge == nil {
			ge = &gqlError{message: err.Error()}
		}
		out := gqlErrors(ge.message, ge.code)
		out["errors"].([]any)[0].(map[string]any)["path"] = []string{root.Alias}
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{root.Alias: selectFields(result, root.SelectionSet)}})
}

// token is the request's token and what kind it is: a Project-Access-Token
// header, or a bearer token (an account token unless registered as
// another kind); false when there is none or it is rejected.
func (s *Server) token(r *http.Request) (tokenInfo, bool) {
	if pt := r.Header.Get("Project-Access-Token"); pt != "" {
		s.mu.Lock()
		info, ok := s.kinds[pt]
		s.mu.Unlock()
		return info, ok && info.kind == kindProject && !s.tokens.Rejected(pt)
	}
	tok, ok := fakekit.Bearer(r)
	if !ok || s.tokens.Rejected(tok) {
		return tokenInfo{}, false
	}
	s.mu.Lock()
	info, known := s.kinds[tok]
	unknown := s.unknown
	s.mu.Unlock()
	if !known {
		return unknown, true
	}
	if info.kind == kindProject {
		return tokenInfo{}, false // a project token sent as a bearer token is no token
	}
	return info, true
}

// mayUseWorkspace reports whether the token may act in the workspace.
func (s *Server) mayUseWorkspace(t tokenInfo, ws string) bool {
	known := false
	for _, w := range s.workspaces {
		known = known || w["id"] == ws
	}
	switch t.kind {
	case kindAccount:
		return known
	case kindOAuth, kindWorkspace:
		for _, w := range t.workspaces {
			if w == ws {
				return known
			}
		}
	}
	return false
}

// mayUseProject reports whether the token may act on the project.
func (s *Server) mayUseProject(t tokenInfo, p *project) bool {
	if t.kind == kindProject {
		return p.ID == t.projectID
	}
	return p.WorkspaceID == "" || s.mayUseWorkspace(t, p.WorkspaceID)
}

// visibleWorkspaces are the workspaces the token may act in.
func (s *Server) visibleWorkspaces(t tokenInfo) []map[string]any {
	out := []map[string]any{}
	for _, w := range s.workspaces {
		if s.mayUseWorkspace(t, w["id"].(string)) {
			out = append(out, w)
		}
	}
	return out
}

func notAuthorized() error { return &gqlError{message: "Not Authorized", code: "UNAUTHENTICATED"} }

// selectFields keeps only the selected fields (by alias) of a result.
func selectFields(v any, sel ast.SelectionSet) any {
	if len(sel) == 0 {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for _, s := range sel {
			f, ok := s.(*ast.Field)
			if !ok {
				continue
			}
			if f.Name == "__typename" {
				out[f.Alias] = "Object"
				continue
			}
			out[f.Alias] = selectFields(v[f.Name], f.SelectionSet)
		}
		return out
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = selectFields(e, sel)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = selectFields(e, sel)
		}
		return out
	}
	return v
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func obj(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func vars(v any) (map[string]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &gqlError{message: "variables must be an object of strings", code: "GRAPHQL_VALIDATION_FAILED"}
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			return nil, &gqlError{message: fmt.Sprintf("variable %s must be a string", k), code: "GRAPHQL_VALIDATION_FAILED"}
		}
		out[k] = s
	}
	return out, nil
}

func num(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

func notFound(what string) error { return &gqlError{message: what + " not found", code: "NOT_FOUND"} }

func edgesOf(nodes []map[string]any) map[string]any {
	es := make([]map[string]any, len(nodes))
	for i, n := range nodes {
		es[i] = map[string]any{"node": n, "cursor": strconv.Itoa(i)}
	}
	return map[string]any{"edges": es, "pageInfo": map[string]any{"hasNextPage": false}}
}

func (s *Server) projectJSON(p *project) map[string]any {
	var svcs []map[string]any
	for _, id := range p.Services {
		sv := s.services[id]
		svcs = append(svcs, map[string]any{"id": sv.ID, "name": sv.Name})
	}
	return map[string]any{"id": p.ID, "name": p.Name, "createdAt": p.CreatedAt.Format(time.RFC3339Nano), "workspaceId": p.WorkspaceID,
		"environments": edgesOf([]map[string]any{{"id": p.EnvID, "name": "production"}}),
		"services":     edgesOf(svcs)}
}

func (s *Server) resolve(tok tokenInfo, field string, args map[string]any) (any, error) {
	switch field {
	case "me":
		if tok.kind != kindAccount && tok.kind != kindOAuth {
			return nil, notAuthorized() // `me` cannot be used with a workspace or project token
		}
		return map[string]any{"id": "user-fake", "email": "dev@example.com", "name": "Fake Developer",
			"workspaces": s.visibleWorkspaces(tok)}, nil
	case "apiToken":
		if tok.kind == kindProject {
			return nil, notAuthorized()
		}
		return map[string]any{"workspaces": s.visibleWorkspaces(tok)}, nil
	case "projectToken":
		if tok.kind != kindProject {
			return nil, &gqlError{message: "Project Token not found", code: "NOT_FOUND"}
		}
		p := s.projects[tok.projectID]
		return map[string]any{"id": "pt-" + p.ID, "projectId": p.ID, "environmentId": p.EnvID,
			"project": map[string]any{"id": p.ID, "name": p.Name}, "environment": map[string]any{"id": p.EnvID, "name": "production"}}, nil
	case "projects":
		ws := str(args, "workspaceId")
		if tok.kind == kindProject || (ws != "" && !s.mayUseWorkspace(tok, ws)) {
			return nil, notAuthorized()
		}
		var list []map[string]any
		for _, p := range s.projects {
			if (ws == "" || p.WorkspaceID == ws) && s.mayUseProject(tok, p) {
				list = append(list, s.projectJSON(p))
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i]["createdAt"].(string) > list[j]["createdAt"].(string) })
		return edgesOf(list), nil
	case "projectCreate":
		in := obj(args, "input")
		ws := str(in, "workspaceId")
		switch {
		case tok.kind == kindProject:
			return nil, notAuthorized()
		case ws == "" && tok.kind == kindOAuth:
			// An OAuth grant covers only the workspaces the user selected:
			// Railway must be told which one.
			return nil, &gqlError{message: "You must specify a workspaceId to create a project", code: "BAD_USER_INPUT"}
		case ws == "" && tok.kind == kindWorkspace:
			ws = tok.workspaces[0]
		case ws == "":
			ws = PersonalWorkspace
		}
		if !s.mayUseWorkspace(tok, ws) {
			return nil, notAuthorized()
		}
		p := &project{ID: s.nextID("prj"), Name: str(in, "name"), WorkspaceID: ws, EnvID: s.nextID("env"), CreatedAt: time.Now().UTC()}
		if p.Name == "" {
			p.Name = "fake-project"
		}
		s.projects[p.ID] = p
		return s.projectJSON(p), nil
	case "project":
		p, ok := s.projects[str(args, "id")]
		if !ok {
			return nil, notFound("Project")
		}
		if !s.mayUseProject(tok, p) {
			return nil, notAuthorized()
		}
		return s.projectJSON(p), nil
	case "serviceCreate":
		in := obj(args, "input")
		p, ok := s.projects[str(in, "projectId")]
		if !ok {
			return nil, notFound("Project")
		}
		if !s.mayUseProject(tok, p) {
			return nil, notAuthorized()
		}
		sv := &service{ID: s.nextID("svc"), Name: str(in, "name"), ProjectID: p.ID, Branch: str(in, "branch"), Vars: map[string]string{}}
		if src := obj(in, "source"); src != nil {
			sv.Image, sv.Repo = str(src, "image"), str(src, "repo")
		}
		if v, ok := in["variables"]; ok && v != nil {
			m, err := vars(v)
			if err != nil {
				return nil, err
			}
			sv.Vars = m
		}
		s.services[sv.ID] = sv
		p.Services = append(p.Services, sv.ID)
		return map[string]any{"id": sv.ID, "name": sv.Name}, nil
	case "serviceConnect":
		sv, ok := s.services[str(args, "id")]
		if !ok {
			return nil, notFound("Service")
		}
		if !s.mayUseProject(tok, s.projects[sv.ProjectID]) {
			return nil, notAuthorized()
		}
		in := obj(args, "input")
		sv.Image, sv.Repo, sv.Branch = str(in, "image"), str(in, "repo"), str(in, "branch")
		return map[string]any{"id": sv.ID, "name": sv.Name}, nil
	case "domains":
		sv, ok := s.services[str(args, "serviceId")]
		if !ok || sv.ProjectID != str(args, "projectId") {
			return nil, notFound("Service")
		}
		doms := []map[string]any{}
		if sv.Domain != "" {
			doms = append(doms, map[string]any{"id": "dom-" + sv.ID, "domain": sv.Domain, "environmentId": str(args, "environmentId"), "serviceId": sv.ID})
		}
		return map[string]any{"serviceDomains": doms, "customDomains": []map[string]any{}}, nil
	case "serviceDomainCreate":
		in := obj(args, "input")
		sv, ok := s.services[str(in, "serviceId")]
		if !ok {
			return nil, notFound("Service")
		}
		sv.Domain = strings.ToLower(strings.ReplaceAll(sv.Name, " ", "-")) + "-production.up.railway.app"
		return map[string]any{"id": s.nextID("dom"), "domain": sv.Domain}, nil
	case "variableCollectionUpsert":
		in := obj(args, "input")
		sv, ok := s.services[str(in, "serviceId")]
		if !ok {
			return nil, notFound("Service")
		}
		m, err := vars(in["variables"])
		if err != nil {
			return nil, err
		}
		if b, _ := in["replace"].(bool); b {
			sv.Vars = map[string]string{}
		}
		for k, v := range m {
			sv.Vars[k] = v
		}
		if skip, _ := in["skipDeploys"].(bool); !skip {
			s.startDeployment(sv, nil)
		}
		return true, nil
	case "variables":
		sv, ok := s.services[str(args, "serviceId")]
		if !ok {
			return map[string]any{}, nil
		}
		out := map[string]any{}
		for k, v := range sv.Vars {
			out[k] = v
		}
		return out, nil
	case "template":
		if str(args, "code") != "postgres" {
			return nil, notFound("Template")
		}
		return map[string]any{"id": "tpl-postgres", "code": "postgres", "name": "PostgreSQL",
			"serializedConfig": map[string]any{"services": map[string]any{"postgres": map[string]any{
				"name": "Postgres", "source": map[string]any{"image": "ghcr.io/railwayapp-templates/postgres-ssl:16"}}}}}, nil
	case "templateDeployV2":
		in := obj(args, "input")
		if str(in, "templateId") != "tpl-postgres" || in["serializedConfig"] == nil {
			return nil, &gqlError{message: "Invalid template", code: "BAD_USER_INPUT"}
		}
		p, ok := s.projects[str(in, "projectId")]
		if !ok {
			return nil, notFound("Project")
		}
		ws := str(in, "workspaceId")
		if ws == "" && tok.kind == kindOAuth {
			return nil, &gqlError{message: "You must specify a workspaceId to deploy a template", code: "BAD_USER_INPUT"}
		}
		if !s.mayUseProject(tok, p) || (ws != "" && ws != p.WorkspaceID) {
			return nil, notAuthorized()
		}
		wf := &workflow{ID: s.nextID("wf"), ProjectID: p.ID, EnvID: str(in, "environmentId")}
		s.workflows[wf.ID] = wf
		return map[string]any{"projectId": p.ID, "workflowId": wf.ID}, nil
	case "workflowStatus":
		wf, ok := s.workflows[str(args, "workflowId")]
		if !ok {
			return map[string]any{"status": "NotFound", "error": nil}, nil
		}
		wf.Polls++
		if wf.Polls <= s.WorkflowLag {
			return map[string]any{"status": "NotFound", "error": nil}, nil
		}
		polls := s.WorkflowLag + s.WorkflowPolls
		if s.WorkflowPolls == 0 {
			polls += 2
		}
		if wf.Polls <= polls {
			return map[string]any{"status": "Running", "error": nil}, nil
		}
		if !wf.Done {
			wf.Done = true
			p := s.projects[wf.ProjectID]
			sv := &service{ID: s.nextID("svc"), Name: "Postgres", ProjectID: p.ID, Image: "ghcr.io/railwayapp-templates/postgres-ssl:16",
				Vars: map[string]string{"PGPASSWORD": "pw-" + strconv.Itoa(s.seq),
					"DATABASE_URL":        fmt.Sprintf("postgresql://postgres:pw-%d@postgres.railway.internal:5432/railway", s.seq),
					"DATABASE_PUBLIC_URL": fmt.Sprintf("postgresql://postgres:pw-%d@shuttle.proxy.rlwy.net:%d/railway", s.seq, 30000+s.seq)}}
			s.services[sv.ID] = sv
			p.Services = append(p.Services, sv.ID)
		}
		return map[string]any{"status": "Complete", "error": nil}, nil
	case "serviceInstanceDeployV2":
		sv, ok := s.services[str(args, "serviceId")]
		if !ok {
			return nil, notFound("Service")
		}
		if sv.Image == "" && sv.Repo == "" {
			return nil, &gqlError{message: "Service has no source to deploy", code: "BAD_USER_INPUT"}
		}
		return s.startDeployment(sv, nil).ID, nil
	case "deployment":
		d, ok := s.deployments[str(args, "id")]
		if !ok {
			return nil, notFound("Deployment")
		}
		out := s.deploymentJSON(d)
		s.advance(d)
		return out, nil
	case "buildLogs":
		d, ok := s.deployments[str(args, "deploymentId")]
		if !ok {
			return nil, notFound("Deployment")
		}
		start := str(args, "startDate")
		out := []map[string]any{}
		for _, l := range d.Logs {
			if start != "" && l.Timestamp < start {
				continue
			}
			out = append(out, map[string]any{"timestamp": l.Timestamp, "message": l.Message, "severity": l.Severity,
				"attributes": []any{}})
		}
		if lim, ok := num(args["limit"]); ok && lim >= 0 && lim < len(out) {
			out = out[len(out)-lim:]
		}
		return out, nil
	case "deploymentCancel":
		d, ok := s.deployments[str(args, "id")]
		if !ok {
			return nil, notFound("Deployment")
		}
		switch d.Status {
		case "SUCCESS", "FAILED", "CRASHED":
			return nil, &gqlError{message: "Deployment cannot be cancelled", code: "BAD_USER_INPUT"}
		case "REMOVED":
		default:
			d.Status = "REMOVED"
			s.log(d, "Deployment cancelled", "info")
		}
		return true, nil
	case "deploymentRollback":
		d, ok := s.deployments[str(args, "id")]
		if !ok {
			return nil, notFound("Deployment")
		}
		if d.Status != "SUCCESS" && d.Status != "REMOVED" {
			return nil, &gqlError{message: "Deployment cannot be rolled back", code: "BAD_USER_INPUT"}
		}
		d.Status = "SUCCESS"
		s.services[d.ServiceID].Active = d.ID
		return true, nil
	}
	return nil, &gqlError{message: fmt.Sprintf("Cannot query field %q: the fake does not serve it", field), code: "GRAPHQL_VALIDATION_FAILED"}
}

func (s *Server) log(d *deployment, message, severity string) {
	d.Logs = append(d.Logs, logLine{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Message: message, Severity: severity})
}

func (s *Server) startDeployment(sv *service, files []string) *deployment {
	d := &deployment{ID: s.nextID("dep"), ServiceID: sv.ID, Status: "QUEUED", Vars: s.resolveRefs(sv), Files: files,
		FailMessage: s.failBuilds[s.projects[sv.ProjectID].Name]}
	s.deployments[d.ID] = d
	s.log(d, "Deployment queued", "info")
	return d
}

// referenceRE matches a reference variable: ${{Service.VARIABLE}}.
var referenceRE = regexp.MustCompile(`\$\{\{\s*([^.}]+)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// resolveRefs is a service's variables as its deployment sees them: each
// reference to another service of the project replaced by that variable's
// value, an unknown one by nothing, as Railway renders references when it
// deploys.
func (s *Server) resolveRefs(sv *service) map[string]string {
	out := copyVars(sv.Vars)
	p := s.projects[sv.ProjectID]
	for k, v := range out {
		out[k] = referenceRE.ReplaceAllStringFunc(v, func(ref string) string {
			m := referenceRE.FindStringSubmatch(ref)
			for _, id := range p.Services {
				if other := s.services[id]; other.Name == strings.TrimSpace(m[1]) {
					return other.Vars[m[2]]
				}
			}
			return ""
		})
	}
	return out
}

func (s *Server) deploymentJSON(d *deployment) map[string]any {
	sv := s.services[d.ServiceID]
	var static any
	if sv.Domain != "" {
		static = sv.Domain
	}
	return map[string]any{"id": d.ID, "status": d.Status, "staticUrl": static, "url": static, "serviceId": d.ServiceID}
}

// advance moves a deployment one state on per status poll.
func (s *Server) advance(d *deployment) {
	switch d.Status {
	case "QUEUED":
		d.Status = "INITIALIZING"
		s.log(d, "Initializing build", "info")
	case "INITIALIZING":
		d.Status = "BUILDING"
		s.log(d, "[1/2] RUN npm ci", "info")
		s.log(d, "[2/2] RUN npm run build", "info")
	case "BUILDING":
		if d.FailMessage != "" {
			d.Status = "FAILED"
			s.log(d, d.FailMessage, "error")
			return
		}
		d.Status = "DEPLOYING"
		s.log(d, "Build time: 12.3 seconds", "info")
	case "DEPLOYING":
		d.Status = "SUCCESS"
		s.log(d, "Deployment successful", "info")
		s.services[d.ServiceID].Active = d.ID
	}
}

// up is the CLI's undocumented upload: a tar.gz of the project, which
// starts a deployment of the service.
func (s *Server) up(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	s.record(Request{Op: "up", Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: raw})
	if _, ok := s.token(r); !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized. Please login with `railway login`"})
		return
	}
	if f, ok := s.fails.Next("up"); ok {
		writeJSON(w, f.status, map[string]any{"message": "fake failure: " + f.code})
		return
	}
	var names []string
	gz, err := gzip.NewReader(strings.NewReader(string(raw)))
	if err == nil {
		tr := tar.NewReader(gz)
		for {
			h, terr := tr.Next()
			if terr == io.EOF {
				break
			}
			if terr != nil {
				err = terr
				break
			}
			names = append(names, h.Name)
		}
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Failed to read the uploaded archive"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.projects[r.PathValue("projectId")]
	sv, ok2 := s.services[r.URL.Query().Get("serviceId")]
	if !ok || !ok2 || p.EnvID != r.PathValue("environmentId") || sv.ProjectID != p.ID {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Project, environment or service not found"})
		return
	}
	d := s.startDeployment(sv, names)
	writeJSON(w, http.StatusOK, map[string]any{"deploymentId": d.ID, "url": "https://railway.com/project/" + p.ID,
		"logsUrl": "https://railway.com/project/" + p.ID + "/service/" + sv.ID + "?id=" + d.ID, "deploymentDomain": sv.Domain})
}
