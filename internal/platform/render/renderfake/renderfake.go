// Package renderfake is a Render REST API test double on loopback, under
// /v1 like the real one: owners, web services from a repository or an
// image (each created with a first deploy), environment variables,
// deploys that move through created, build_in_progress, update_in_progress
// to live (or build_failed) over successive polls, build logs, Postgres,
// rollback and cancel. Errors are Render's {id?, message}; 429 carries
// Ratelimit-* headers and no Retry-After. Every request is recorded for
// contract checks.
package renderfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	ID, Name, OwnerID, Repo, Branch, Image string
	Env                                    map[string]string
	Live                                   string // the deploy whose build runs
}

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
	logs       []logEntry
	// DatabasePolls is how many GET /postgres/{id} answer creating before
	// available (2 when zero).
	DatabasePolls int
	// RatelimitReset is the Ratelimit-Reset of a FailNext 429 (1 when 0).
	RatelimitReset int
}

// OwnerID is the fake user's owner id.
const OwnerID = "usr-fakeowner0001"

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{failBuilds: map[string]string{}, services: map[string]*service{}, deploys: map[string]*deploy{},
		databases: map[string]*database{}}
	mux := http.NewServeMux()
	route := func(pattern, op string, h func(http.ResponseWriter, *http.Request, []byte)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, op, h) })
	}
	route("GET /v1/users", "getUser", s.getUser)
	route("GET /v1/owners", "listOwners", s.listOwners)
	route("GET /v1/services", "listServices", s.listServices)
	route("POST /v1/services", "createService", s.createService)
	route("PUT /v1/services/{id}/env-vars", "updateEnvVars", s.updateEnvVars)
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
// shape; a 429 carries Ratelimit-Limit/Remaining/Reset and no Retry-After.
func (s *Server) FailNext(op string, status int, code string, n int) {
	s.fails.Add(op, failure{status: status, code: code}, n)
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
			w.Header().Set("Ratelimit-Limit", "30")
			w.Header().Set("Ratelimit-Remaining", "0")
			w.Header().Set("Ratelimit-Reset", strconv.Itoa(reset))
			writeError(w, f.status, f.code, "rate limit exceeded")
			return
		}
		writeError(w, f.status, f.code, "fake failure")
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
	writeJSON(w, http.StatusOK, []any{
		map[string]any{"owner": map[string]any{"id": "tea-fakesharedteam", "name": "Shared Team", "email": "team@example.com", "type": "team"}, "cursor": "c1"},
		map[string]any{"owner": map[string]any{"id": OwnerID, "name": "Fake Developer", "email": "dev@example.com", "type": "user"}, "cursor": "c2"},
	})
}

func (s *Server) serviceJSON(sv *service) map[string]any {
	out := map[string]any{"id": sv.ID, "name": sv.Name, "ownerId": sv.OwnerID, "type": "web_service",
		"autoDeploy": "no", "serviceDetails": map[string]any{"url": "https://" + strings.ToLower(strings.ReplaceAll(sv.Name, " ", "-")) + ".onrender.com"}}
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

func (s *Server) createService(w http.ResponseWriter, _ *http.Request, body []byte) {
	var in struct {
		Type    string   `json:"type"`
		Name    string   `json:"name"`
		OwnerID string   `json:"ownerId"`
		Repo    string   `json:"repo"`
		Branch  string   `json:"branch"`
		EnvVars []envVar `json:"envVars"`
		Image   *struct {
			OwnerID   string `json:"ownerId"`
			ImagePath string `json:"imagePath"`
		} `json:"image"`
		ServiceDetails *struct {
			Runtime string `json:"runtime"`
		} `json:"serviceDetails"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "", "invalid JSON")
		return
	}
	switch {
	case in.Type == "" || in.Name == "" || in.OwnerID == "":
		writeError(w, http.StatusBadRequest, "", "type, name and ownerId are required")
		return
	case (in.Repo == "") == (in.Image == nil):
		writeError(w, http.StatusBadRequest, "", "exactly one of repo and image is required")
		return
	case in.ServiceDetails == nil || in.ServiceDetails.Runtime == "":
		writeError(w, http.StatusBadRequest, "", "serviceDetails.runtime is required for a web service")
		return
	case in.OwnerID != OwnerID && in.OwnerID != "tea-fakesharedteam":
		writeError(w, http.StatusNotFound, "", "owner not found")
		return
	}
	sv := &service{ID: s.nextID("srv"), Name: in.Name, OwnerID: in.OwnerID, Repo: in.Repo, Branch: in.Branch, Env: map[string]string{}}
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
		s.log(sv, "==> Running build command 'npm install && npm run build --if-present'...", "info")
	case "build_in_progress":
		if d.FailMessage != "" {
			d.Status = "build_failed"
			s.log(sv, d.FailMessage, "error")
			s.log(sv, "==> Build failed", "info")
			return
		}
		d.Status = "update_in_progress"
		s.log(sv, "==> Build successful", "info")
	case "update_in_progress":
		d.Status = "live"
		s.log(sv, "==> Your service is live", "info")
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
	if db.Polls > polls {
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
