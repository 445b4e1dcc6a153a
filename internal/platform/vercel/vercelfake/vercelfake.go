// Package vercelfake is a Vercel REST API test double on loopback. It
// serves the paths the vercel client uses, under their real versions, with
// Vercel's states (QUEUED -> BUILDING -> READY, or ERROR, CANCELED) and its
// error shape {"error":{"code","message"}}; content-addressed files with
// the missing_files answer; and deployment events as build logs. Every
// request is recorded for contract checks.
//
// Files are kept as Vercel keeps them: by SHA-1 digest, per account or
// team (the teamId a call names; none is the token's personal account),
// not per project. A deployment created with a file list answers 400
// {"error":{"code":"missing_files","missing":[digests]}} naming the digests
// its scope does not hold (vercel/vercel packages/client/src/upload.ts
// reads error.missing on code missing_files), and creates nothing; a file
// any earlier deployment of the scope uploaded is not missing.
//
// As Vercel does, it reports READY before the production aliases are
// assigned: the poll after READY assigns them (aliasAssigned true, or an
// aliasError with FailAlias), and only then does the deployment serve
// production (readySubstate PROMOTED). Instant rollback (POST /v1/projects/
// {projectId}/rollback/{deploymentId}) is refused for a deployment that
// never served production; promote serves one that never did. Sensitive
// environment variables are refused outside preview and production.
package vercelfake

import (
	"crypto/sha1" //nolint:gosec // Vercel's content address
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Request is one request as the fake received it.
type Request struct {
	Op     string // the operationId in Vercel's OpenAPI description, "" when no route matched
	Method string
	URL    string // path and raw query
	Header http.Header
	Body   []byte
}

type failure struct {
	status int
	code   string
}

type project struct {
	ID, Name  string
	Env       map[string]string
	EnvTypes  map[string]string
	Live      string // the production deployment
	CreatedAt int64  // Unix ms
}

type event struct {
	Type         string         `json:"type"`
	Created      int64          `json:"created"`
	Date         int64          `json:"date"`
	DeploymentID string         `json:"deploymentId"`
	ID           string         `json:"id"`
	Serial       string         `json:"serial"`
	Text         string         `json:"text,omitempty"`
	Info         map[string]any `json:"info"`
}

type deployment struct {
	ID, URL, ProjectID, Name string
	State                    string
	Env                      map[string]string
	Files                    map[string]string // path -> sha
	GitSource                map[string]any
	FailMessage              string
	Events                   []event
	CreatedAt                int64
	// AliasAssigned: the production aliases point at it; Served: it has
	// served production (readySubstate PROMOTED); Staged: its project does
	// not assign production domains, so it stays STAGED once READY.
	AliasAssigned, Served, Staged bool
	AliasError                    *aliasFailure
}

type aliasFailure struct{ code, message string }

// Team is a team the fake's user is a member of.
type Team struct {
	ID, Slug, Name string
	CreatedAt      int64 // Unix ms
}

// DefaultTeams are the user's teams until SetTeams changes them: the Hobby
// team of an account moved to teams, and a Pro team it was invited to.
var DefaultTeams = []Team{
	{ID: "team_fakehobby", Slug: "fakedev-projects", Name: "Fake Developer's projects", CreatedAt: 1700000000000},
	{ID: "team_gracechurch", Slug: "grace-church", Name: "Grace Church", CreatedAt: 1710000000000},
}

// Server is the fake. Its zero value is not usable: call New.
type Server struct {
	URL string

	srv         *httptest.Server
	mu          sync.Mutex
	seq         int
	rec         fakekit.Recorder[Request]
	fails       fakekit.Failures[failure]
	fileFails   fakekit.Failures[failure] // by digest
	lost        fakekit.Failures[struct{}]
	tokens      fakekit.Tokens
	failBuilds  map[string]string
	failAliases map[string]aliasFailure      // by project name
	staged      map[string]bool              // project names whose deployments stay staged
	projects    map[string]*project          // by id
	files       map[string]map[string][]byte // by scope (teamId, "" for the personal account), then sha1
	deployments map[string]*deployment
	inflight    int
	maxInflight int
	// RetryAfter is the Retry-After (and limit.reset distance) of a
	// FailNext 429; 1 s when zero.
	RetryAfter time.Duration
	// NoRetryAfterHeader leaves Retry-After off a FailNext 429, so only the
	// body's limit.reset (and X-RateLimit-Reset) tell when to come back.
	NoRetryAfterHeader bool
	// UploadDelay holds every file upload this long, so that concurrent
	// uploads overlap and MaxConcurrentUploads can see them.
	UploadDelay time.Duration
	// LegacyUser answers GET /v2/user as an account not moved to teams
	// (no version "northstar"): it has a personal account besides its teams.
	LegacyUser bool
	teams      []Team
}

// SetTeams replaces the user's teams.
func (s *Server) SetTeams(teams ...Team) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams = slices.Clone(teams)
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{
		failBuilds: map[string]string{}, failAliases: map[string]aliasFailure{}, staged: map[string]bool{},
		projects: map[string]*project{}, files: map[string]map[string][]byte{},
		deployments: map[string]*deployment{}, teams: slices.Clone(DefaultTeams),
	}
	mux := http.NewServeMux()
	route := func(pattern, op string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, op, h) })
	}
	route("GET /v2/user", "getAuthUser", s.getAuthUser)
	route("GET /v2/teams", "getTeams", s.getTeams)
	route("GET /v9/projects/{idOrName}", "getProject", s.getProject)
	route("POST /v11/projects", "createProject", s.createProject)
	route("POST /v10/projects/{idOrName}/env", "createProjectEnv", s.createProjectEnv)
	route("POST /v2/files", "uploadFile", s.uploadFile)
	route("POST /v13/deployments", "createDeployment", s.createDeployment)
	route("GET /v13/deployments/{idOrUrl}", "getDeployment", s.getDeployment)
	route("GET /v3/deployments/{idOrUrl}/events", "getDeploymentEvents", s.getDeploymentEvents)
	route("PATCH /v12/deployments/{id}/cancel", "cancelDeployment", s.cancelDeployment)
	route("POST /v10/projects/{projectId}/promote/{deploymentId}", "requestPromote", s.requestPromote)
	// Not in the vendored description; @vercel/sdk src/funcs/projectsRequestRollback.ts.
	route("POST /v1/projects/{projectId}/rollback/{deploymentId}", "requestRollback", s.requestRollback)
	route("/", "", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeError(w, http.StatusNotFound, "not_found", "The requested path was not found")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next n calls of op (an operationId, e.g.
// "createDeployment") answer status with Vercel's error shape and code. A
// 429 carries Retry-After, X-RateLimit-* headers and the rate_limited body
// with limit{remaining, reset, total}.
func (s *Server) FailNext(op string, status int, code string, n int) {
	s.fails.Add(op, failure{status: status, code: code}, n)
}

// FailUpload makes the next n uploads of the file with the digest answer
// status with Vercel's error shape and code.
func (s *Server) FailUpload(sha string, status int, code string, n int) {
	s.fileFails.Add(sha, failure{status: status, code: code}, n)
}

// LoseAnswers makes the next n calls of op do their work and then answer
// 504, as when Vercel acted but its answer never reached the caller.
func (s *Server) LoseAnswers(op string, n int) { s.lost.Add(op, struct{}{}, n) }

// FailBuild makes every later deployment of the project end in ERROR,
// with message as its error and its last stderr line.
func (s *Server) FailBuild(projectName, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failBuilds[projectName] = message
}

// FailAlias makes the alias assignment of every later deployment of the
// project fail after its build is READY, with Vercel's aliasError.
func (s *Server) FailAlias(projectName, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAliases[projectName] = aliasFailure{code: code, message: message}
}

// StageProduction makes later deployments of the project staged: READY,
// but never assigned the production domains (a project whose production
// domains are not assigned automatically), so they never serve
// production until promoted.
func (s *Server) StageProduction(projectName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.staged[projectName] = true
}

// AddProject makes a project the user created in Vercel itself, an hour
// ago, and returns its id.
func (s *Server) AddProject(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &project{ID: s.nextID("prj"), Name: name, Env: map[string]string{}, EnvTypes: map[string]string{},
		CreatedAt: time.Now().Add(-time.Hour).UnixMilli()}
	s.projects[p.ID] = p
	return p.ID
}

// EnvType is the type a project's variable was set with ("" when unset).
func (s *Server) EnvType(projectID, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[projectID]; ok {
		return p.EnvTypes[key]
	}
	return ""
}

// DeploymentGitSource is the gitSource the deployment was created from
// (nil for files or an unknown deployment).
func (s *Server) DeploymentGitSource(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deployments[id]; ok {
		return d.GitSource
	}
	return nil
}

// RejectToken makes the token invalid: 403 forbidden with invalidToken,
// as Vercel answers.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// Calls is how many requests op received (failed ones too).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is every request received, in order.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// MaxConcurrentUploads is the most file uploads that were in flight at
// once.
func (s *Server) MaxConcurrentUploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInflight
}

// HasFile reports whether a file with the digest was uploaded to the
// scope (a teamId, "" for the personal account).
func (s *Server) HasFile(scope, sha string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.files[scope][sha]
	return ok
}

// ForgetFiles drops every uploaded file of every scope, so the next
// deployment meets missing_files.
func (s *Server) ForgetFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files = map[string]map[string][]byte{}
}

// Deployments is how many deployments exist.
func (s *Server) Deployments() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deployments)
}

// DeploymentEnv is the project's environment as the deployment's build saw
// it (nil for an unknown deployment).
func (s *Server) DeploymentEnv(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deployments[id]; ok {
		return d.Env
	}
	return nil
}

// LiveDeployment is the project's production deployment (by project id).
func (s *Server) LiveDeployment(projectID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[projectID]; ok {
		return p.Live
	}
	return ""
}

// Projects is how many projects exist.
func (s *Server) Projects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.projects)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string, h func(http.ResponseWriter, *http.Request, []byte)) {
	body, _ := io.ReadAll(r.Body)
	s.rec.Record(op, Request{Op: op, Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	f, failing := s.fails.Next(op)
	if op != "" && !s.tokens.Allowed(r) {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": map[string]any{
			"code": "forbidden", "message": "Not authorized", "invalidToken": true}})
		return
	}
	if failing {
		s.writeFailure(w, f)
		return
	}
	if op == "uploadFile" {
		s.mu.Lock()
		s.inflight++
		s.maxInflight = max(s.maxInflight, s.inflight)
		delay := s.UploadDelay
		s.mu.Unlock()
		time.Sleep(delay)
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, lose := s.lost.Next(op); lose {
		h(httptest.NewRecorder(), r, body)
		writeError(w, http.StatusGatewayTimeout, "gateway_timeout", "fake: the answer was lost")
		return
	}
	h(w, r, body)
}

func (s *Server) writeFailure(w http.ResponseWriter, f failure) {
	if f.status == http.StatusTooManyRequests {
		ra := s.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		reset := time.Now().Add(ra).Unix()
		if !s.NoRetryAfterHeader {
			w.Header().Set("Retry-After", strconv.Itoa(int((ra+time.Second-1)/time.Second)))
		}
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		code := f.code
		if code == "" {
			code = "rate_limited"
		}
		writeJSON(w, f.status, map[string]any{"error": map[string]any{
			"code": code, "message": "Rate limit exceeded",
			"limit": map[string]any{"remaining": 0, "reset": reset, "total": 100}}})
		return
	}
	code := f.code
	if code == "" {
		code = "internal_server_error"
	}
	writeError(w, f.status, code, "fake failure: "+code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json; charset=utf-8", status, v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%06d", prefix, s.seq)
}

func (s *Server) getAuthUser(w http.ResponseWriter, _ *http.Request, _ []byte) {
	user := map[string]any{"id": "usr_fake", "email": "dev@example.com", "name": "Fake Developer", "username": "fakedev",
		"defaultTeamId": nil, "version": "northstar"}
	if s.LegacyUser {
		delete(user, "version")
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user})
}

func (s *Server) getTeams(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	num := func(name string, def int64) (int64, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil && n > 0
	}
	limit, ok1 := num("limit", 20)
	since, ok2 := num("since", 0)
	until, ok3 := num("until", 1<<62)
	if !ok1 || !ok2 || !ok3 {
		writeError(w, http.StatusBadRequest, "bad_request", "One of the provided values in the request query is invalid.")
		return
	}
	teams := slices.Clone(s.teams)
	sort.Slice(teams, func(i, j int) bool { return teams[i].CreatedAt > teams[j].CreatedAt })
	var page []map[string]any
	var last int64
	more := false
	for _, t := range teams {
		if t.CreatedAt >= until || (since > 0 && t.CreatedAt <= since) {
			continue
		}
		if int64(len(page)) == limit {
			more = true
			break
		}
		page = append(page, map[string]any{"id": t.ID, "slug": t.Slug, "name": t.Name, "avatar": nil, "createdAt": t.CreatedAt,
			"membership": map[string]any{"role": "OWNER", "confirmed": true}})
		last = t.CreatedAt
	}
	var next any
	if more {
		next = last
	}
	writeJSON(w, http.StatusOK, map[string]any{"teams": append([]map[string]any{}, page...),
		"pagination": map[string]any{"count": len(page), "next": next, "prev": nil}})
}

func (s *Server) findProject(idOrName string) *project {
	if p, ok := s.projects[idOrName]; ok {
		return p
	}
	for _, p := range s.projects {
		if p.Name == idOrName {
			return p
		}
	}
	return nil
}

func projectJSON(p *project) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "accountId": "usr_fake", "framework": nil, "createdAt": p.CreatedAt}
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, _ []byte) {
	p := s.findProject(r.PathValue("idOrName"))
	if p == nil {
		writeError(w, http.StatusNotFound, "not_found", "Project not found")
		return
	}
	writeJSON(w, http.StatusOK, projectJSON(p))
}

var nameRE = regexp.MustCompile(`^[a-z0-9._-]{1,100}$`)

func (s *Server) createProject(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(body, &in) != nil || in.Name == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "Invalid request: missing required property `name`.")
		return
	}
	if !nameRE.MatchString(in.Name) || strings.Contains(in.Name, "---") {
		writeError(w, http.StatusBadRequest, "bad_request", "Project names can be up to 100 characters long and must be lowercase. They can include letters, digits, and the following characters: '.', '_', '-'. However, they cannot contain the sequence '---'.")
		return
	}
	if s.findProject(in.Name) != nil {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("Project %q already exists, please use a new name.", in.Name))
		return
	}
	p := &project{ID: s.nextID("prj"), Name: in.Name, Env: map[string]string{}, EnvTypes: map[string]string{}, CreatedAt: time.Now().UnixMilli()}
	s.projects[p.ID] = p
	writeJSON(w, http.StatusOK, projectJSON(p))
}

func (s *Server) createProjectEnv(w http.ResponseWriter, r *http.Request, body []byte) {
	p := s.findProject(r.PathValue("idOrName"))
	if p == nil {
		writeError(w, http.StatusNotFound, "not_found", "Project not found")
		return
	}
	type envVar struct {
		Key    string   `json:"key"`
		Value  string   `json:"value"`
		Type   string   `json:"type"`
		Target []string `json:"target"`
	}
	var vars []envVar
	if err := json.Unmarshal(body, &vars); err != nil {
		var one envVar
		if json.Unmarshal(body, &one) != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "Invalid request body.")
			return
		}
		vars = []envVar{one}
	}
	upsert := r.URL.Query().Get("upsert") == "true"
	created := []map[string]any{}
	for _, v := range vars {
		if v.Key == "" || v.Type == "" || len(v.Target) == 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "Invalid request: `key`, `value`, `type` and `target` are required.")
			return
		}
		if _, exists := p.Env[v.Key]; exists && !upsert {
			writeError(w, http.StatusBadRequest, "ENV_ALREADY_EXISTS", fmt.Sprintf("A variable with the name `%s` already exists.", v.Key))
			return
		}
		// "You can only create sensitive environment variables in the
		// preview and production environments" (vercel.com/docs/
		// environment-variables/sensitive-environment-variables). Vercel's
		// error code for it is not documented: the generic shape is used.
		if v.Type == "sensitive" && slices.Contains(v.Target, "development") {
			writeError(w, http.StatusBadRequest, "bad_request", "Sensitive environment variables can only be created in the preview and production environments.")
			return
		}
	}
	for _, v := range vars {
		p.Env[v.Key] = v.Value
		p.EnvTypes[v.Key] = v.Type
		created = append(created, map[string]any{"key": v.Key, "type": v.Type, "target": v.Target, "id": s.nextID("env")})
	}
	writeJSON(w, http.StatusCreated, map[string]any{"created": created, "failed": []any{}})
}

func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request, body []byte) {
	digest := r.Header.Get("x-vercel-digest")
	if digest == "" {
		writeError(w, http.StatusBadRequest, "missing_digest", "Missing `x-vercel-digest` header.")
		return
	}
	if cl := r.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
		writeError(w, http.StatusBadRequest, "invalid_content_length", "The Content-Length does not match the body.")
		return
	}
	sum := sha1.Sum(body) //nolint:gosec // Vercel's content address
	if hex.EncodeToString(sum[:]) != digest {
		writeError(w, http.StatusBadRequest, "invalid_digest", "The file's SHA1 digest does not match its content.")
		return
	}
	if f, failing := s.fileFails.Next(digest); failing {
		s.writeFailure(w, f)
		return
	}
	scope := r.URL.Query().Get("teamId")
	if s.files[scope] == nil {
		s.files[scope] = map[string][]byte{}
	}
	s.files[scope][digest] = body
	writeJSON(w, http.StatusOK, map[string]any{"urls": []string{}})
}

func (s *Server) addEvent(d *deployment, typ, text, state string) {
	now := time.Now().UnixMilli()
	s.seq++
	info := map[string]any{"type": "build", "name": "bld_" + d.ID}
	if state != "" {
		info["readyState"] = state
	}
	d.Events = append(d.Events, event{Type: typ, Created: now, Date: now, DeploymentID: d.ID,
		ID: fmt.Sprintf("evt_%06d", s.seq), Serial: fmt.Sprintf("%d%06d", now, s.seq), Text: text, Info: info})
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Name    string `json:"name"`
		Project string `json:"project"`
		Target  string `json:"target"`
		Files   []struct {
			File string `json:"file"`
			SHA  string `json:"sha"`
			Size int    `json:"size"`
		} `json:"files"`
		GitSource map[string]any `json:"gitSource"`
	}
	if json.Unmarshal(body, &in) != nil || in.Name == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "Invalid request: missing required property `name`.")
		return
	}
	if in.GitSource != nil {
		if msg := checkGitSource(in.GitSource); msg != "" {
			writeError(w, http.StatusBadRequest, "incorrect_git_source_info", msg)
			return
		}
	}
	if r.URL.Query().Get("skipAutoDetectionConfirmation") != "1" {
		writeError(w, http.StatusBadRequest, "missing_project_settings", "The `projectSettings` object is required for new projects, or use `skipAutoDetectionConfirmation`.")
		return
	}
	var missing []string
	files := map[string]string{}
	have := s.files[r.URL.Query().Get("teamId")]
	named := map[string]bool{}
	for _, f := range in.Files {
		if _, ok := have[f.SHA]; !ok && !named[f.SHA] {
			missing = append(missing, f.SHA)
			named[f.SHA] = true
		}
		files[f.File] = f.SHA
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "missing_files", "message": "Missing files", "missing": missing}})
		return
	}
	ref := in.Project
	if ref == "" {
		ref = in.Name
	}
	p := s.findProject(ref)
	if p == nil {
		p = &project{ID: s.nextID("prj"), Name: in.Name, Env: map[string]string{}, EnvTypes: map[string]string{}, CreatedAt: time.Now().UnixMilli()}
		s.projects[p.ID] = p
	}
	env := make(map[string]string, len(p.Env))
	for k, v := range p.Env {
		env[k] = v
	}
	d := &deployment{ID: s.nextID("dpl"), ProjectID: p.ID, Name: p.Name, State: "QUEUED", Env: env, Files: files,
		GitSource: in.GitSource, FailMessage: s.failBuilds[p.Name], CreatedAt: time.Now().UnixMilli(), Staged: s.staged[p.Name]}
	if f, ok := s.failAliases[p.Name]; ok {
		d.AliasError = &f
	}
	d.URL = fmt.Sprintf("%s-%s.vercel.app", p.Name, strings.ToLower(d.ID[len(d.ID)-6:]))
	s.deployments[d.ID] = d
	s.addEvent(d, "deployment-state", "", "QUEUED")
	writeJSON(w, http.StatusOK, s.deploymentJSON(d))
}

// checkGitSource holds a gitSource to the forms of vercel-openapi.json's
// createDeployment (each names its type, a ref and its repository); ""
// when it is one of them.
func checkGitSource(g map[string]any) string {
	required := map[string][][]string{
		"github":         {{"org", "repo"}, {"repoId"}},
		"github-limited": {{"org", "repo"}, {"repoId"}},
		"gitlab":         {{"projectId"}},
		"bitbucket":      {{"owner", "slug"}, {"repoUuid"}},
	}
	typ, _ := g["type"].(string)
	forms, ok := required[typ]
	if !ok {
		return fmt.Sprintf("Invalid gitSource type %q.", typ)
	}
	if ref, _ := g["ref"].(string); ref == "" {
		return "The gitSource must name a `ref`."
	}
	for _, form := range forms {
		all := true
		for _, k := range form {
			if v, present := g[k]; !present || v == "" {
				all = false
			}
		}
		if all {
			return ""
		}
	}
	return fmt.Sprintf("The %s gitSource does not name its repository.", typ)
}

func (s *Server) deploymentJSON(d *deployment) map[string]any {
	// The production aliases are named from creation; aliasAssigned says
	// whether they point at this deployment yet.
	out := map[string]any{"id": d.ID, "url": d.URL, "name": d.Name, "readyState": d.State, "status": d.State,
		"projectId": d.ProjectID, "target": "production", "createdAt": d.CreatedAt,
		"alias": []string{d.Name + ".vercel.app"}, "aliasAssigned": d.AliasAssigned, "aliasError": nil}
	if d.State == "READY" {
		out["readySubstate"] = map[bool]string{true: "PROMOTED", false: "STAGED"}[d.Served]
		if d.AliasError != nil && !d.AliasAssigned {
			out["aliasError"] = map[string]any{"code": d.AliasError.code, "message": d.AliasError.message}
		}
	}
	if d.State == "ERROR" {
		out["errorCode"] = "BUILD_FAILED"
		out["errorMessage"] = d.FailMessage
	}
	return out
}

// advance moves a deployment one state on, emitting its build log lines.
func (s *Server) advance(d *deployment) {
	switch d.State {
	case "QUEUED":
		d.State = "BUILDING"
		s.addEvent(d, "deployment-state", "", "BUILDING")
		s.addEvent(d, "command", "Running \"npm run build\"", "")
		s.addEvent(d, "stdout", fmt.Sprintf("Building %d files", len(d.Files)), "")
	case "BUILDING":
		if d.FailMessage != "" {
			d.State = "ERROR"
			s.addEvent(d, "stderr", d.FailMessage, "")
			s.addEvent(d, "exit", "Command \"npm run build\" exited with 1", "")
			s.addEvent(d, "deployment-state", "", "ERROR")
			return
		}
		d.State = "READY"
		s.addEvent(d, "stdout", "Build Completed", "")
		s.addEvent(d, "deployment-state", "", "READY")
	case "READY":
		// The poll after READY finds the aliases assigned (or failed).
		if d.AliasAssigned || d.AliasError != nil || d.Staged {
			return
		}
		s.goLive(d)
	}
}

// goLive points the project's production aliases at d.
func (s *Server) goLive(d *deployment) {
	d.AliasAssigned, d.Served = true, true
	if p, ok := s.projects[d.ProjectID]; ok {
		p.Live = d.ID
	}
}

func (s *Server) findDeployment(idOrURL string) *deployment {
	if d, ok := s.deployments[idOrURL]; ok {
		return d
	}
	for _, d := range s.deployments {
		if d.URL == idOrURL {
			return d
		}
	}
	return nil
}

// getDeployment answers the state, then moves it on: successive polls see
// QUEUED, BUILDING, then READY (or ERROR).
func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := s.findDeployment(r.PathValue("idOrUrl"))
	if d == nil {
		writeError(w, http.StatusNotFound, "not_found", "The deployment could not be found.")
		return
	}
	writeJSON(w, http.StatusOK, s.deploymentJSON(d))
	s.advance(d)
}

func (s *Server) getDeploymentEvents(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := s.findDeployment(r.PathValue("idOrUrl"))
	if d == nil {
		writeError(w, http.StatusNotFound, "not_found", "The deployment could not be found.")
		return
	}
	q := r.URL.Query()
	var since int64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "Invalid query parameter `since`.")
			return
		}
		since = n
	}
	out := []event{}
	for _, e := range d.Events {
		if e.Created >= since {
			out = append(out, e)
		}
	}
	if q.Get("direction") == "backward" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l >= 0 && l < len(out) {
		out = out[:l]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelDeployment(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := s.findDeployment(r.PathValue("id"))
	if d == nil {
		writeError(w, http.StatusNotFound, "not_found", "The deployment could not be found.")
		return
	}
	switch d.State {
	case "READY", "ERROR":
		writeError(w, http.StatusBadRequest, "bad_request", "The deployment has finished and cannot be canceled.")
		return
	case "CANCELED":
	default:
		d.State = "CANCELED"
		s.addEvent(d, "deployment-state", "", "CANCELED")
	}
	writeJSON(w, http.StatusOK, s.deploymentJSON(d))
}

// projectDeployment finds the path's project and its deployment, or
// answers 404.
func (s *Server) projectDeployment(w http.ResponseWriter, r *http.Request) *deployment {
	p := s.findProject(r.PathValue("projectId"))
	if p == nil {
		writeError(w, http.StatusNotFound, "not_found", "Project not found")
		return nil
	}
	d := s.findDeployment(r.PathValue("deploymentId"))
	if d == nil || d.ProjectID != p.ID {
		writeError(w, http.StatusNotFound, "not_found", "The deployment could not be found.")
		return nil
	}
	return d
}

// requestPromote points production at a READY deployment (one that never
// served production: a staged one).
func (s *Server) requestPromote(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := s.projectDeployment(w, r)
	if d == nil {
		return
	}
	if d.State != "READY" {
		writeError(w, http.StatusBadRequest, "bad_request", "Only a READY deployment can be promoted.")
		return
	}
	s.goLive(d)
	w.WriteHeader(http.StatusCreated)
}

// requestRollback is Vercel's instant rollback: only to a deployment that
// has served production ("Instant rollback … revert to an earlier
// deployment that has served production traffic", Vercel's Promoting
// Deployments docs). Vercel's exact refusal is not documented: the
// generic 400 {"error":{"code","message"}} is answered.
func (s *Server) requestRollback(w http.ResponseWriter, r *http.Request, _ []byte) {
	d := s.projectDeployment(w, r)
	if d == nil {
		return
	}
	if d.State != "READY" || !d.Served {
		writeError(w, http.StatusBadRequest, "bad_request", "Only a deployment that has served production traffic can be rolled back to; promote a staged deployment instead.")
		return
	}
	s.goLive(d)
	w.WriteHeader(http.StatusCreated)
}
