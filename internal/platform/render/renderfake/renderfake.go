// Package renderfake is a Render REST API test double on loopback, under
// /v1 like the real one: owners (workspaces), static sites and web
// services from a repository or an image (each created with a first
// deploy), their update, environment variables, deploys that move through
// created, build_in_progress, update_in_progress to live (or build_failed)
// over successive polls, build logs, Postgres, rollback (201 with a new
// deploy) and cancel. It refuses what Render refuses (render-public-api.json
// and PLATFORMS.md, Render): a second service of the same name in a
// workspace (409), a web service without a runtime, a native runtime
// without its build and start commands, a static site with a runtime,
// values outside Render's enums. Errors are Render's {id?, message}; 429
// carries RateLimit-* headers and, when RetryAfter is set, Retry-After.
// Every request is recorded for contract checks.
package renderfake

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Request is one request as the fake received it.
type Request struct {
	Op     string // e.g. "createService"; "" when no route matched
	Method string
	URL    string // path and raw query, with the /v1 prefix
	Header http.Header
	Body   []byte
}

type failure struct {
	status int
	code   string
}

type logEntry struct {
	ID, Message, Timestamp, Level, Resource string
}

type service struct {
	ID, Name, OwnerID, Type, Repo, Branch, Image string
	Details                                      map[string]any // serviceDetails as given
	Env                                          map[string]string
	Live                                         string // the deploy whose build runs
	CreatedAt                                    time.Time
}

type owner struct{ ID, Name, Email, Type string }

type deploy struct {
	ID, ServiceID, Status, FailMessage, RollbackOf string
	Env                                            map[string]string
	CreatedAt                                      time.Time
}

type database struct {
	ID, Name, OwnerID, Password string
	Polls                       int
}

// Server is the fake. Call New.
type Server struct {
	URL string

	srv        *httptest.Server
	mu         sync.Mutex
	seq        int
	rec        fakekit.Recorder[Request]
	fails      fakekit.Failures[failure]
	tokens     fakekit.Tokens
	failBuilds map[string]string
	services   map[string]*service
	deploys    map[string]*deploy
	databases  map[string]*database
	owners     []owner
	lost       map[string]int // op -> answers to lose after doing the work
	logs       []logEntry
	// DatabasePolls is how many GET /postgres/{id} answer creating before
	// available (2 when zero).
	DatabasePolls int
	// RatelimitReset is the RateLimit-Reset of a FailNext 429 (1 when 0).
	RatelimitReset int
	// RetryAfter, when set, is the Retry-After (seconds) of a FailNext 429.
	RetryAfter int
	// DatabaseStatuses, when set, are what successive GET /postgres/{id}
	// answer before available (instead of DatabasePolls times creating).
	DatabaseStatuses []string
}

// OwnerID is the fake user's owner id: the API key's only workspace
// unless AddTeam adds one.
const OwnerID = "usr-fakeowner0001"

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{failBuilds: map[string]string{}, services: map[string]*service{}, deploys: map[string]*deploy{},
		databases: map[string]*database{}, lost: map[string]int{},
		owners: []owner{{ID: OwnerID, Name: "Fake Developer", Email: "dev@example.com", Type: "user"}}}
	mux := http.NewServeMux()
	route := func(pattern, op string, h func(http.ResponseWriter, *http.Request, []byte)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, op, h) })
	}
	route("GET /v1/users", "getUser", s.getUser)
	route("GET /v1/owners", "listOwners", s.listOwners)
	route("GET /v1/services", "listServices", s.listServices)
	route("POST /v1/services", "createService", s.createService)
	route("PATCH /v1/services/{id}", "updateService", s.updateService)
	route("PUT /v1/services/{id}/env-vars", "updateEnvVars", s.updateEnvVars)
	route("PUT /v1/services/{id}/env-vars/{key}", "updateEnvVar", s.updateEnvVar)
	route("GET /v1/services/{id}/deploys", "listDeploys", s.listDeploys)
	route("POST /v1/services/{id}/deploys", "createDeploy", s.createDeploy)
	route("GET /v1/services/{id}/deploys/{deployId}", "getDeploy", s.getDeploy)
	route("POST /v1/services/{id}/deploys/{deployId}/cancel", "cancelDeploy", s.cancelDeploy)
	route("POST /v1/services/{id}/rollback", "rollbackDeploy", s.rollback)
	route("GET /v1/logs", "listLogs", s.listLogs)
	route("POST /v1/postgres", "createPostgres", s.createPostgres)
	route("GET /v1/postgres/{id}", "getPostgres", s.getPostgres)
	route("GET /v1/postgres/{id}/connection-info", "getPostgresConnectionInfo", s.getConnectionInfo)
	route("/", "", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeError(w, http.StatusNotFound, "not_found", "not found")
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	return s
}

// APIURL is the API base, as https://api.render.com/v1.
func (s *Server) APIURL() string { return s.URL + "/v1" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next n calls of op answer status with Render's error
// shape; a 429 carries RateLimit-Limit/Remaining/Reset (and Retry-After
// when RetryAfter is set).
func (s *Server) FailNext(op string, status int, code string, n int) {
	s.fails.Add(op, failure{status: status, code: code}, n)
}

// LoseAnswers makes the next n calls of op do their work and then answer
// 502, as when the connection drops after Render acted.
func (s *Server) LoseAnswers(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost[op] += n
}

// AddTeam makes the API key act for one more workspace, a team.
func (s *Server) AddTeam(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners = append(s.owners, owner{ID: id, Name: name, Email: "team@example.com", Type: "team"})
}

// ServiceInfo is a service as the fake holds it.
type ServiceInfo struct {
	ID, Name, OwnerID, Type, Repo, Branch, Image string
	Details                                      map[string]any
	Env                                          map[string]string
}

// ServicesNamed are the services of that name, in every workspace.
func (s *Server) ServicesNamed(name string) []ServiceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ServiceInfo
	for _, sv := range s.services {
		if sv.Name == name {
			out = append(out, ServiceInfo{ID: sv.ID, Name: sv.Name, OwnerID: sv.OwnerID, Type: sv.Type, Repo: sv.Repo,
				Branch: sv.Branch, Image: sv.Image, Details: sv.Details, Env: maps.Clone(sv.Env)})
		}
	}
	return out
}

// DeployStatus is a deploy's status now.
func (s *Server) DeployStatus(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deploys[id]; ok {
		return d.Status
	}
	return ""
}

// FailBuild makes later deploys of the named service fail their build with
// message as the last (error) log line.
func (s *Server) FailBuild(serviceName, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failBuilds[serviceName] = message
}

// RejectToken makes the API key refused with 401.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// Calls is how many requests op received.
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is every request received, in order.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// DeployEnv is the variables a deploy was built with.
func (s *Server) DeployEnv(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deploys[id]; ok {
		return d.Env
	}
	return nil
}

// LiveBuild is the deploy whose build the service runs now (after a
// rollback, the deploy rolled back to).
func (s *Server) LiveBuild(serviceID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sv, ok := s.services[serviceID]; ok {
		return sv.Live
	}
	return ""
}

// Services is how many services exist.
func (s *Server) Services() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.services)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string, h func(http.ResponseWriter, *http.Request, []byte)) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Record(op, Request{Op: op, Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	if op != "" && !s.tokens.Allowed(r) {
		writeError(w, http.StatusUnauthorized, "", "unauthorized")
		return
	}
	if f, ok := s.fails.Next(op); ok {
		if f.status == http.StatusTooManyRequests {
			reset := s.RatelimitReset
			if reset == 0 {
				reset = 1
			}
			// Evidence: PLATFORMS.md, Render, limits; render-oss/cli
			// pkg/client/client_gen.go reads Retry-After on 429.
			w.Header().Set("RateLimit-Limit", "30")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.Itoa(reset))
			if s.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(s.RetryAfter))
			}
			writeError(w, f.status, f.code, "rate limit exceeded")
			return
		}
		writeError(w, f.status, f.code, "fake failure")
		return
	}
	if s.lost[op] > 0 {
		s.lost[op]--
		h(httptest.NewRecorder(), r, body)
		writeError(w, http.StatusBadGateway, "", "bad gateway")
		return
	}
	h(w, r, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json; charset=utf-8", status, v)
}

func writeError(w http.ResponseWriter, status int, id, message string) {
	body := map[string]any{"message": message}
	if id != "" {
		body["id"] = id
	}
	writeJSON(w, status, body)
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s-%014d", prefix, s.seq)
}

func (s *Server) getUser(w http.ResponseWriter, _ *http.Request, _ []byte) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "Fake Developer", "email": "dev@example.com"})
}

func (s *Server) listOwners(w http.ResponseWriter, _ *http.Request, _ []byte) {
	out := []any{}
	for _, o := range s.owners {
		out = append(out, map[string]any{"owner": map[string]any{"id": o.ID, "name": o.Name, "email": o.Email, "type": o.Type}, "cursor": o.ID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) isOwner(id string) bool {
	return slices.ContainsFunc(s.owners, func(o owner) bool { return o.ID == id })
}

func (s *Server) serviceJSON(sv *service) map[string]any {
	details := maps.Clone(sv.Details)
	if details == nil {
		details = map[string]any{}
	}
	details["url"] = "https://" + strings.ToLower(strings.ReplaceAll(sv.Name, " ", "-")) + ".onrender.com"
	out := map[string]any{"id": sv.ID, "name": sv.Name, "ownerId": sv.OwnerID, "type": sv.Type,
		"autoDeploy": "no", "serviceDetails": details, "createdAt": sv.CreatedAt.Format(time.RFC3339Nano)}
	if sv.Repo != "" {
		out["repo"], out["branch"] = sv.Repo, sv.Branch
	}
	if sv.Image != "" {
		out["imagePath"] = sv.Image
	}
	return out
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	out := []any{}
	for _, sv := range s.services {
		if names := q["name"]; len(names) > 0 && !contains(names, sv.Name) {
			continue
		}
		if owners := q["ownerId"]; len(owners) > 0 && !contains(owners, sv.OwnerID) {
			continue
		}
		out = append(out, map[string]any{"service": s.serviceJSON(sv), "cursor": sv.ID})
	}
	writeJSON(w, http.StatusOK, out)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type envVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// The enums the fake holds requests to. Evidence: render-public-api.json
// serviceType, serviceRuntime, autoDeploy, region; paidPlan plus "free"
// (render-oss/render-mcp-server ValidServicePlanValues).
var (
	serviceTypes = []string{"static_site", "web_service", "private_service", "background_worker", "cron_job"}
	runtimes     = []string{"docker", "elixir", "go", "node", "python", "ruby", "rust", "image"}
	plans        = []string{"free", "starter", "standard", "pro", "pro_plus", "pro_max", "pro_ultra"}
	regions      = []string{"frankfurt", "oregon", "ohio", "singapore", "virginia"}
)

// serviceIn is POST /services and PATCH /services/{id}.
type serviceIn struct {
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	OwnerID    string   `json:"ownerId"`
	Repo       string   `json:"repo"`
	Branch     string   `json:"branch"`
	AutoDeploy string   `json:"autoDeploy"`
	EnvVars    []envVar `json:"envVars"`
	Image      *struct {
		OwnerID   string `json:"ownerId"`
		ImagePath string `json:"imagePath"`
	} `json:"image"`
	ServiceDetails map[string]any `json:"serviceDetails"`
}

// checkDetails is what Render refuses in a service's details: a static
// site takes no runtime (staticSiteDetailsPOST declares none); a web
// service needs one (webServiceDetailsPOST requires runtime), and a
// native runtime its build and start commands
// (nativeEnvironmentDetailsPOST requires both).
func checkDetails(typ string, d map[string]any, creating bool) string {
	str := func(k string) string { v, _ := d[k].(string); return v }
	if v, ok := d["plan"]; ok && !slices.Contains(plans, fmt.Sprint(v)) {
		return fmt.Sprintf("invalid plan %v", v)
	}
	if v, ok := d["region"]; ok && !slices.Contains(regions, fmt.Sprint(v)) {
		return fmt.Sprintf("invalid region %v", v)
	}
	switch typ {
	case "static_site":
		for _, k := range []string{"runtime", "envSpecificDetails", "plan", "region"} {
			if _, ok := d[k]; ok {
				return "serviceDetails." + k + " is not a field of a static site"
			}
		}
	case "web_service":
		rt := str("runtime")
		if rt == "" && creating {
			return "serviceDetails.runtime is required for a web service"
		}
		if rt != "" && !slices.Contains(runtimes, rt) {
			return fmt.Sprintf("invalid runtime %q", rt)
		}
		env, _ := d["envSpecificDetails"].(map[string]any)
		if rt != "" && rt != "docker" && rt != "image" {
			if b, _ := env["buildCommand"].(string); b == "" {
				return "envSpecificDetails.buildCommand is required for runtime " + rt
			}
			if st, _ := env["startCommand"].(string); st == "" {
				return "envSpecificDetails.startCommand is required for runtime " + rt
			}
		}
		if _, ok := d["publishPath"]; ok {
			return "serviceDetails.publishPath is not a field of a web service"
		}
	}
	return ""
}

func (s *Server) createService(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in serviceIn
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid JSON")
		return
	}
	if in.ServiceDetails == nil {
		in.ServiceDetails = map[string]any{}
	}
	switch {
	case in.Type == "" || in.Name == "" || in.OwnerID == "":
		writeError(w, http.StatusBadRequest, "", "type, name and ownerId are required")
		return
	case !slices.Contains(serviceTypes, in.Type):
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf("invalid service type %q", in.Type))
		return
	case in.AutoDeploy != "" && in.AutoDeploy != "yes" && in.AutoDeploy != "no":
		writeError(w, http.StatusBadRequest, "", "autoDeploy must be yes or no")
		return
	case (in.Repo == "") == (in.Image == nil):
		writeError(w, http.StatusBadRequest, "", "exactly one of repo and image is required")
		return
	case in.Image != nil && in.Type == "static_site":
		writeError(w, http.StatusBadRequest, "", "a static site is built from a repository")
		return
	case !s.isOwner(in.OwnerID):
		writeError(w, http.StatusNotFound, "", "owner not found")
		return
	}
	if msg := checkDetails(in.Type, in.ServiceDetails, true); msg != "" {
		writeError(w, http.StatusBadRequest, "", msg)
		return
	}
	for _, sv := range s.services {
		// Evidence: render-oss/cli pkg/client/types_gen.go "Must be unique
		// within the workspace"; render-public-api.json POST /services 409.
		if sv.Name == in.Name && sv.OwnerID == in.OwnerID {
			writeError(w, http.StatusConflict, "", fmt.Sprintf("a service named %q already exists in this workspace", in.Name))
			return
		}
	}
	sv := &service{ID: s.nextID("srv"), Name: in.Name, OwnerID: in.OwnerID, Type: in.Type, Repo: in.Repo, Branch: in.Branch,
		Details: in.ServiceDetails, Env: map[string]string{}, CreatedAt: time.Now().UTC()}
	if in.Image != nil {
		sv.Image = in.Image.ImagePath
	}
	for _, e := range in.EnvVars {
		sv.Env[e.Key] = e.Value
	}
	s.services[sv.ID] = sv
	d := s.startDeploy(sv)
	writeJSON(w, http.StatusCreated, map[string]any{"service": s.serviceJSON(sv), "deployId": d.ID})
}

// updateService is PATCH /services/{id}: the source and build settings
// change; the type cannot.
func (s *Server) updateService(w http.ResponseWriter, r *http.Request, body []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	var in serviceIn
	if err := json.Unmarshal(body, &in); err != nil || in.Type != "" || in.OwnerID != "" {
		writeError(w, http.StatusBadRequest, "", "invalid service update")
		return
	}
	if in.ServiceDetails != nil {
		if msg := checkDetails(sv.Type, in.ServiceDetails, false); msg != "" {
			writeError(w, http.StatusBadRequest, "", msg)
			return
		}
		merged := maps.Clone(sv.Details)
		if merged == nil {
			merged = map[string]any{}
		}
		maps.Copy(merged, in.ServiceDetails)
		if msg := checkDetails(sv.Type, merged, true); msg != "" {
			writeError(w, http.StatusBadRequest, "", msg)
			return
		}
		sv.Details = merged
	}
	if in.Repo != "" {
		sv.Repo = in.Repo
	}
	if in.Branch != "" {
		sv.Branch = in.Branch
	}
	if in.Image != nil {
		sv.Image = in.Image.ImagePath
	}
	if in.Name != "" {
		sv.Name = in.Name
	}
	writeJSON(w, http.StatusOK, s.serviceJSON(sv))
}

func (s *Server) startDeploy(sv *service) *deploy {
	env := make(map[string]string, len(sv.Env))
	for k, v := range sv.Env {
		env[k] = v
	}
	d := &deploy{ID: s.nextID("dep"), ServiceID: sv.ID, Status: "created", Env: env, FailMessage: s.failBuilds[sv.Name], CreatedAt: time.Now().UTC()}
	s.deploys[d.ID] = d
	return d
}

func (s *Server) log(sv *service, message, level string) {
	s.seq++
	s.logs = append(s.logs, logEntry{ID: fmt.Sprintf("log-%06d", s.seq), Message: message,
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Level: level, Resource: sv.ID})
}

func (s *Server) updateEnvVars(w http.ResponseWriter, r *http.Request, body []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	var in []envVar
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "", "the body must be an array of {key, value}")
		return
	}
	sv.Env = map[string]string{}
	out := []any{}
	for _, e := range in {
		sv.Env[e.Key] = e.Value
		out = append(out, map[string]any{"envVar": map[string]any{"key": e.Key, "value": e.Value}, "cursor": e.Key})
	}
	writeJSON(w, http.StatusOK, out)
}

// updateEnvVar is PUT /services/{id}/env-vars/{key} {value}: one
// variable added or changed, the others kept.
func (s *Server) updateEnvVar(w http.ResponseWriter, r *http.Request, body []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	var in struct {
		Value *string `json:"value"`
	}
	if json.Unmarshal(body, &in) != nil || in.Value == nil {
		writeError(w, http.StatusBadRequest, "", "value is required")
		return
	}
	sv.Env[r.PathValue("key")] = *in.Value
	writeJSON(w, http.StatusOK, map[string]any{"key": r.PathValue("key"), "value": *in.Value})
}

// listDeploys is GET /services/{id}/deploys: newest first, limit at most.
func (s *Server) listDeploys(w http.ResponseWriter, r *http.Request, _ []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "", "limit must be 1 to 100")
			return
		}
		limit = n
	}
	var list []*deploy
	for _, d := range s.deploys {
		if d.ServiceID == sv.ID {
			list = append(list, d)
		}
	}
	slices.SortFunc(list, func(a, b *deploy) int { return strings.Compare(b.ID, a.ID) }) // ids grow with time
	out := []any{}
	for i, d := range list {
		if i == limit {
			break
		}
		out = append(out, map[string]any{"deploy": s.deployJSON(d), "cursor": d.ID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deployJSON(d *deploy) map[string]any {
	return map[string]any{"id": d.ID, "status": d.Status, "trigger": "api", "createdAt": d.CreatedAt.Format(time.RFC3339Nano)}
}

func (s *Server) createDeploy(w http.ResponseWriter, r *http.Request, body []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	var in struct {
		ClearCache string `json:"clearCache"`
	}
	if len(body) > 0 && json.Unmarshal(body, &in) != nil || (in.ClearCache != "" && in.ClearCache != "clear" && in.ClearCache != "do_not_clear") {
		writeError(w, http.StatusBadRequest, "", "clearCache must be clear or do_not_clear")
		return
	}
	writeJSON(w, http.StatusCreated, s.deployJSON(s.startDeploy(sv)))
}

func (s *Server) findDeploy(r *http.Request) (*service, *deploy) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		return nil, nil
	}
	d, ok := s.deploys[r.PathValue("deployId")]
	if !ok || d.ServiceID != sv.ID {
		return sv, nil
	}
	return sv, d
}

// getDeploy answers the status, then moves it on one state.
func (s *Server) getDeploy(w http.ResponseWriter, r *http.Request, _ []byte) {
	sv, d := s.findDeploy(r)
	if d == nil {
		writeError(w, http.StatusNotFound, "", "deploy not found")
		return
	}
	writeJSON(w, http.StatusOK, s.deployJSON(d))
	switch d.Status {
	case "created":
		d.Status = "build_in_progress"
		s.log(sv, "==> Cloning from "+sv.Repo+sv.Image, "info")
		if build := sv.buildCommand(); build != "" {
			s.log(sv, "==> Running build command '"+build+"'...", "info")
		}
	case "build_in_progress":
		if d.FailMessage != "" {
			d.Status = "build_failed"
			s.log(sv, d.FailMessage, "error")
			s.log(sv, "==> Build failed", "info")
			return
		}
		d.Status = "update_in_progress"
		s.log(sv, "==> Build successful", "info")
		if sv.Type == "static_site" {
			publish, _ := sv.Details["publishPath"].(string)
			if publish == "" {
				publish = "public" // Evidence: staticSiteDetailsPOST.publishPath "Defaults to \"public\""
			}
			s.log(sv, "==> Uploading build from "+publish+"...", "info")
		}
	case "update_in_progress":
		d.Status = "live"
		if sv.Type == "static_site" {
			s.log(sv, "==> Your site is live", "info")
		} else {
			s.log(sv, "==> Your service is live", "info")
		}
		for _, other := range s.deploys {
			if other.ServiceID == sv.ID && other.ID != d.ID && other.Status == "live" {
				other.Status = "deactivated"
			}
		}
		sv.Live = d.ID
		if d.RollbackOf != "" {
			sv.Live = d.RollbackOf
		}
	}
}

func (s *Server) cancelDeploy(w http.ResponseWriter, r *http.Request, _ []byte) {
	_, d := s.findDeploy(r)
	if d == nil {
		writeError(w, http.StatusNotFound, "", "deploy not found")
		return
	}
	switch d.Status {
	case "live", "deactivated", "build_failed", "update_failed":
		writeError(w, http.StatusConflict, "", "the deploy has finished and cannot be canceled")
		return
	}
	d.Status = "canceled"
	writeJSON(w, http.StatusOK, s.deployJSON(d))
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, body []byte) {
	sv, ok := s.services[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "service not found")
		return
	}
	var in struct {
		DeployID string `json:"deployId"`
	}
	if json.Unmarshal(body, &in) != nil || in.DeployID == "" {
		writeError(w, http.StatusBadRequest, "", "deployId is required")
		return
	}
	target, ok := s.deploys[in.DeployID]
	if !ok || target.ServiceID != sv.ID || (target.Status != "live" && target.Status != "deactivated") {
		writeError(w, http.StatusBadRequest, "", "only a deploy that was live can be rolled back to")
		return
	}
	// Evidence: render-public-api.json /services/{serviceId}/rollback POST
	// 201 -> deploy: a new deploy, followed like any other.
	d := s.startDeploy(sv)
	d.RollbackOf, d.Env, d.Status = target.ID, target.Env, "update_in_progress"
	writeJSON(w, http.StatusCreated, s.deployJSON(d))
}

// listLogs answers {hasMore, nextStartTime, nextEndTime, logs}, forward
// from startTime (inclusive), limit lines at a time.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	if q.Get("ownerId") == "" || len(q["resource"]) == 0 {
		writeError(w, http.StatusBadRequest, "", "ownerId and resource are required")
		return
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "", "limit must be 1 to 100")
			return
		}
		limit = n
	}
	start := q.Get("startTime")
	if start != "" {
		if _, err := time.Parse(time.RFC3339Nano, start); err != nil {
			writeError(w, http.StatusBadRequest, "", "startTime must be RFC 3339")
			return
		}
	}
	var match []logEntry
	for _, l := range s.logs {
		if !contains(q["resource"], l.Resource) || (q.Get("type") != "" && q.Get("type") != "build") {
			continue
		}
		if start != "" && l.Timestamp < start {
			continue
		}
		match = append(match, l)
	}
	page := map[string]any{"hasMore": false, "logs": []any{}}
	if len(match) > limit {
		page["hasMore"] = true
		page["nextStartTime"] = match[limit].Timestamp
		page["nextEndTime"] = time.Now().UTC().Format(time.RFC3339Nano)
		match = match[:limit]
	}
	out := []any{}
	for _, l := range match {
		out = append(out, map[string]any{"id": l.ID, "message": l.Message, "timestamp": l.Timestamp,
			"labels": []any{map[string]any{"name": "resource", "value": l.Resource}, map[string]any{"name": "type", "value": "build"},
				map[string]any{"name": "level", "value": l.Level}}})
	}
	page["logs"] = out
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) createPostgres(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Name    string `json:"name"`
		OwnerID string `json:"ownerId"`
		Plan    string `json:"plan"`
		Version string `json:"version"`
	}
	if json.Unmarshal(body, &in) != nil || in.Name == "" || in.OwnerID == "" || in.Plan == "" || in.Version == "" {
		writeError(w, http.StatusBadRequest, "", "name, ownerId, plan and version are required")
		return
	}
	db := &database{ID: s.nextID("dpg"), Name: in.Name, OwnerID: in.OwnerID, Password: fmt.Sprintf("pw%08d", s.seq)}
	s.databases[db.ID] = db
	writeJSON(w, http.StatusCreated, map[string]any{"id": db.ID, "name": db.Name, "status": "creating", "plan": in.Plan, "version": in.Version})
}

func (s *Server) getPostgres(w http.ResponseWriter, r *http.Request, _ []byte) {
	db, ok := s.databases[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "postgres not found")
		return
	}
	db.Polls++
	polls := s.DatabasePolls
	if polls == 0 {
		polls = 2
	}
	status := "creating"
	switch {
	case len(s.DatabaseStatuses) > 0 && db.Polls <= len(s.DatabaseStatuses):
		status = s.DatabaseStatuses[db.Polls-1]
	case len(s.DatabaseStatuses) > 0 || db.Polls > polls:
		status = "available"
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": db.ID, "name": db.Name, "status": status})
}

func (s *Server) getConnectionInfo(w http.ResponseWriter, r *http.Request, _ []byte) {
	db, ok := s.databases[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "postgres not found")
		return
	}
	internal := fmt.Sprintf("postgresql://app:%s@%s-a/app", db.Password, db.ID)
	writeJSON(w, http.StatusOK, map[string]any{"password": db.Password, "internalConnectionString": internal,
		"externalConnectionString": fmt.Sprintf("postgresql://app:%s@%s-a.oregon-postgres.render.com/app", db.Password, db.ID),
		"psqlCommand":              "PGPASSWORD=" + db.Password + " psql -h " + db.ID + "-a.oregon-postgres.render.com -U app app"})
}

func (sv *service) buildCommand() string {
	if b, _ := sv.Details["buildCommand"].(string); b != "" {
		return b
	}
	env, _ := sv.Details["envSpecificDetails"].(map[string]any)
	b, _ := env["buildCommand"].(string)
	return b
}
