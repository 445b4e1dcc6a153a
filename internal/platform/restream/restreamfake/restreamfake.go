// Package restreamfake is a Restream API (v2) test double served over HTTP
// on loopback, at Restream's paths, with its shapes and its error answer
// {"error":{"statusCode","code","message","name"}}:
//
//   - GET /v2/user/profile
//   - POST /v2/user/events/new {streamType, title, description, scheduledFor} -> 201 event
//   - GET /v2/user/events/{id}, GET /v2/user/events/{id}/streamKey
//   - GET /v2/user/streamKey (the user's default key)
//   - GET /v2/server/all (ingest servers; public, no token needed, as at Restream)
//
// Nothing else exists: Restream documents no start, end or delete call, so
// neither does the fake (any other path is 404). Event status: upcoming ->
// in-progress when the encoder pushes -> finished when it stops; tests play
// the encoder with SetStreaming and PushAll. The event body is checked
// strictly: an unknown field is 400.
//
// Every call but the server list needs Authorization: Bearer <token>; a
// missing or rejected (RejectToken) token is 401 invalid_token.
package restreamfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations.
const (
	OpProfile        = "user.profile"
	OpEventNew       = "events.new"
	OpEventGet       = "events.get"
	OpEventStreamKey = "events.streamKey"
	OpUserStreamKey  = "user.streamKey"
	OpServers        = "server.all"
)

// Request is one request the fake received.
type Request struct {
	Op     string
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	URL    string
	Bearer bool // whether Authorization: Bearer <token> was sent
}

// Event is an event as the fake holds it.
type Event struct {
	ID, Title, Description, StreamType string
	Status                             string // upcoming, in-progress, finished
	ScheduledFor                       *int64
	StartedAt, FinishedAt              *int64
	StreamKey                          string
	Streaming                          bool
}

type failure struct {
	status int
	name   string
}

// Server is the fake.
type Server struct {
	URL string // the API base to give the client (paths start with /v2)
	srv *httptest.Server

	mu        sync.Mutex
	seq       int
	events    map[string]*Event
	rec       fakekit.Recorder[Request]
	fails     fakekit.Failures[failure]
	tokens    fakekit.Tokens
	noServers bool
	userKey   string
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{events: map[string]*Event{},
		userKey: "re_1000001_" + randHex(10)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// RejectToken makes a token invalid: calls with it answer 401 invalid_token.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// SetNoServers makes the server list empty.
func (s *Server) SetNoServers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noServers = true
}

// FailNext makes the next n calls of op answer status with Restream's
// error of the given name ("" picks one for the status: invalid_token for
// 401, internal_error for 500...).
func (s *Server) FailNext(op string, status int, name string, n int) {
	s.fails.Add(op, failure{status, name}, n)
}

// Calls is how many requests op received (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is the request log, oldest first.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// Event is a copy of an event.
func (s *Server) Event(id string) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return Event{}, false
	}
	return *e, true
}

// SetStreaming plays the encoder for one event: pushing makes an upcoming
// event in-progress; stopping finishes an in-progress one.
func (s *Server) SetStreaming(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.events[id]; ok {
		stream(e, on)
	}
}

// PushAll makes the encoder push to every event.
func (s *Server) PushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		stream(e, true)
	}
}

func stream(e *Event, on bool) {
	e.Streaming = on
	now := time.Now().Unix()
	switch {
	case on && e.Status == "upcoming":
		e.Status, e.StartedAt = "in-progress", &now
	case !on && e.Status == "in-progress":
		e.Status, e.FinishedAt = "finished", &now
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var names = map[int][2]string{
	400: {"bad_request", "Bad Request"},
	401: {"invalid_token", "Invalid token: access token is invalid"},
	403: {"forbidden", "Forbidden"},
	404: {"not_found", "Not Found"},
	429: {"too_many_requests", "Too Many Requests"},
	500: {"internal_error", "Internal Server Error"},
	502: {"bad_gateway", "Bad Gateway"},
	503: {"service_unavailable", "Service Unavailable"},
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json; charset=utf-8", status, v)
}

func writeError(w http.ResponseWriter, status int, name, message string) {
	d := names[status]
	if name == "" {
		name = d[0]
	}
	if message == "" {
		message = d[1]
	}
	if message == "" {
		message = http.StatusText(status)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"statusCode": status, "code": status, "message": message, "name": name}})
}

func route(method, p string) (op, eventID string) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case method == http.MethodGet && p == "/v2/user/profile":
		return OpProfile, ""
	case method == http.MethodGet && p == "/v2/user/streamKey":
		return OpUserStreamKey, ""
	case method == http.MethodGet && p == "/v2/server/all":
		return OpServers, ""
	case method == http.MethodPost && p == "/v2/user/events/new":
		return OpEventNew, ""
	case method == http.MethodGet && len(segs) == 4 && segs[0] == "v2" && segs[1] == "user" && segs[2] == "events":
		return OpEventGet, segs[3]
	case method == http.MethodGet && len(segs) == 5 && segs[0] == "v2" && segs[1] == "user" && segs[2] == "events" && segs[4] == "streamKey":
		return OpEventStreamKey, segs[3]
	}
	return "", ""
}

func eventJSON(e *Event) map[string]any {
	return map[string]any{
		"id": e.ID, "status": e.Status, "title": e.Title, "description": e.Description,
		"coverUrl": nil, "scheduledFor": e.ScheduledFor, "startedAt": e.StartedAt, "finishedAt": e.FinishedAt,
		"isInstant": e.ScheduledFor == nil, "isRecordOnly": false, "showId": nil, "destinations": []any{},
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	op, eventID := route(r.Method, r.URL.Path)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, bearer := fakekit.Bearer(r)
	s.rec.Log(Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		URL: "http://" + r.Host + r.URL.RequestURI(), Bearer: bearer})
	if op == "" {
		writeError(w, http.StatusNotFound, "", "")
		return
	}
	s.rec.Count(op)
	if op != OpServers {
		if tok, ok := fakekit.Bearer(r); !ok || s.tokens.Rejected(strings.TrimSpace(tok)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="restream", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid_token", "Invalid token: access token is invalid")
			return
		}
	}
	if f, ok := s.fails.Next(op); ok {
		writeError(w, f.status, f.name, "")
		return
	}
	switch op {
	case OpProfile:
		writeJSON(w, http.StatusOK, map[string]any{"id": 1000001, "username": "gracechurch", "email": "media@grace.example"})
	case OpUserStreamKey:
		writeJSON(w, http.StatusOK, map[string]any{"streamKey": s.userKey, "srtUrl": "srt://live.restream.io:2010?streamid=srt_" + s.userKey})
	case OpServers:
		if s.noServers {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		writeJSON(w, http.StatusOK, []any{
			map[string]any{"id": 1, "name": "Autodetect", "url": "live.restream.io", "rtmpUrl": "rtmp://live.restream.io/live", "latitude": "0", "longitude": "0"},
			map[string]any{"id": 2, "name": "EU-Central (Frankfurt, DE)", "url": "fra.restream.io", "rtmpUrl": "rtmp://fra.restream.io/live", "latitude": "50.1109", "longitude": "8.6821"},
		})
	case OpEventNew:
		s.create(w, body)
	case OpEventGet, OpEventStreamKey:
		e, ok := s.events[eventID]
		if !ok {
			writeError(w, http.StatusNotFound, "", "Event not found")
			return
		}
		if op == OpEventGet {
			writeJSON(w, http.StatusOK, eventJSON(e))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"streamKey": e.StreamKey, "srtUrl": "srt://live.restream.io:2010?streamid=srt_" + e.StreamKey})
	}
}

func (s *Server) create(w http.ResponseWriter, body []byte) {
	var in struct {
		StreamType   string `json:"streamType"`
		Title        string `json:"title"`
		Description  string `json:"description"`
		ScheduledFor *int64 `json:"scheduledFor"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "", "Invalid body: "+err.Error())
		return
	}
	if in.StreamType != "encoder" && in.StreamType != "studio" {
		writeError(w, http.StatusBadRequest, "", `"streamType" must be one of [encoder, studio]`)
		return
	}
	if strings.TrimSpace(in.Title) == "" {
		writeError(w, http.StatusBadRequest, "", `"title" is required`)
		return
	}
	if in.ScheduledFor != nil && *in.ScheduledFor < time.Now().Add(-time.Minute).Unix() {
		writeError(w, http.StatusBadRequest, "", `"scheduledFor" must be in the future`)
		return
	}
	s.seq++
	e := &Event{ID: fmt.Sprintf("%s-%04d", randHex(8), s.seq), Title: in.Title, Description: in.Description,
		StreamType: in.StreamType, Status: "upcoming", ScheduledFor: in.ScheduledFor,
		StreamKey: fmt.Sprintf("re_1000001_event%s", randHex(12))}
	s.events[e.ID] = e
	writeJSON(w, http.StatusCreated, eventJSON(e))
}
