// Package restreamfake is a Restream API (v2) test double served over HTTP
// on loopback, at Restream's paths, with its shapes and its error answer
// {"error":{"statusCode","code","message","name"}}:
//
//   - GET /v2/user/profile
//   - GET /v2/user/streamKey (the user's default key)
//   - POST /v2/user/events/new {streamType, title, description?, scheduledFor?} -> 201 event
//   - GET /v2/user/events/in-progress, GET /v2/user/events/{id}, GET /v2/user/events/{id}/streamKey
//   - GET /v2/server/all (ingest servers; public, no token needed, as at Restream)
//
// Nothing else exists: Restream documents no start, end or delete call, so
// neither does the fake (any other path is 404).
//
// Fan-out is modelled as Restream does it: the user has channels, some
// enabled in the dashboard (SetChannels). A push to the user's default key
// reaches every enabled channel and shows as an instant in-progress event
// whose destinations are those channels. An event created through the API
// has no destinations (Restream attaches none, and the fake, like the API,
// offers no way to add a YouTube or Facebook one), so a push to its own key
// reaches nothing. Reaches says which channels a push to a key reaches;
// tests play the encoder with Push and PushAll.
// Evidence: developers.restream.io/private-api/stream-key;
// developers.restream.io/events/event-create ("The created event has no
// destinations attached"); developers.restream.io/events/event-destination-add.
//
// The event body is checked strictly: an unknown field is 400, and
// scheduledFor must be an ISO 8601 date-time string (a number is 400).
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
	OpEventsLive     = "events.inProgress"
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
	ScheduledFor                       *int64 // unix seconds, as Restream's event answers give it
	StartedAt, FinishedAt              *int64
	StreamKey                          string
	Streaming                          bool
	// Instant: the event Restream shows for a push to the default key.
	Instant bool
	// Destinations are the channels the event's stream goes to: none for
	// an event created through the API.
	Destinations []Channel
}

// Channel is one of the user's channels at Restream.
type Channel struct {
	ID       int
	Platform string // "youtube", "facebook", "twitch", ...
	Name     string
	Enabled  bool // switched on in Restream's dashboard
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
	channels  []Channel
	instant   *Event // the event of a push to the default key, while it lasts
}

// DefaultChannels are the channels a new fake's user has: YouTube and
// Facebook enabled, Twitch connected but switched off.
func DefaultChannels() []Channel {
	return []Channel{
		{ID: 1, Platform: "youtube", Name: "Grace Church YouTube", Enabled: true},
		{ID: 2, Platform: "facebook", Name: "Grace Church Facebook Page", Enabled: true},
		{ID: 3, Platform: "twitch", Name: "gracechurch on Twitch", Enabled: false},
	}
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{events: map[string]*Event{},
		userKey: "re_1000001_" + randHex(10), channels: DefaultChannels()}
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

// SetChannels replaces the user's channels.
func (s *Server) SetChannels(cs []Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = append([]Channel(nil), cs...)
}

// UserStreamKey is the user's default stream key.
func (s *Server) UserStreamKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userKey
}

// Reaches is the channels a push to key goes out to: the enabled channels
// for the user's default key, the event's destinations (none for an event
// made through the API) for an event's key, nothing for another key.
func (s *Server) Reaches(key string) []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.userKey {
		return s.enabled()
	}
	for _, e := range s.events {
		if e.StreamKey == key {
			return append([]Channel(nil), e.Destinations...)
		}
	}
	return nil
}

func (s *Server) enabled() []Channel {
	var out []Channel
	for _, c := range s.channels {
		if c.Enabled {
			out = append(out, c)
		}
	}
	return out
}

// Live is the channels a stream is on air at now, through any key.
func (s *Server) Live() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, e := range s.all() {
		if e.Status == "in-progress" {
			out = append(out, e.Destinations...)
		}
	}
	return out
}

func (s *Server) all() []*Event {
	out := make([]*Event, 0, len(s.events)+1)
	if s.instant != nil {
		out = append(out, s.instant)
	}
	for _, e := range s.events {
		out = append(out, e)
	}
	return out
}

// Push plays the encoder on a stream key: pushing to the default key
// starts an instant in-progress event going out to the enabled channels;
// pushing to an event's key makes that event in-progress (reaching its
// destinations: none); stopping finishes what was in progress.
func (s *Server) Push(key string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.push(key, on)
}

func (s *Server) push(key string, on bool) {
	if key == s.userKey {
		if on && (s.instant == nil || s.instant.Status == "finished") {
			s.seq++
			s.instant = &Event{ID: fmt.Sprintf("%s-%04d", randHex(8), s.seq), Title: "Live", StreamType: "encoder",
				Status: "upcoming", Instant: true, StreamKey: s.userKey, Destinations: s.enabled()}
		}
		if s.instant != nil {
			stream(s.instant, on)
		}
		return
	}
	for _, e := range s.events {
		if e.StreamKey == key {
			stream(e, on)
		}
	}
}

// PushAll makes the encoder push to the default key and to every event's.
func (s *Server) PushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.push(s.userKey, true)
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
	case method == http.MethodGet && p == "/v2/user/events/in-progress":
		return OpEventsLive, ""
	case method == http.MethodGet && len(segs) == 4 && segs[0] == "v2" && segs[1] == "user" && segs[2] == "events":
		return OpEventGet, segs[3]
	case method == http.MethodGet && len(segs) == 5 && segs[0] == "v2" && segs[1] == "user" && segs[2] == "events" && segs[4] == "streamKey":
		return OpEventStreamKey, segs[3]
	}
	return "", ""
}

// eventJSON is an event as Restream answers it (times in unix seconds,
// as its event answers show; developers.restream.io/events/in-progress-events).
func eventJSON(e *Event) map[string]any {
	dests := make([]any, 0, len(e.Destinations))
	for _, d := range e.Destinations {
		dests = append(dests, map[string]any{"channelId": d.ID, "externalUrl": nil, "streamingPlatformId": d.Platform})
	}
	return map[string]any{
		"id": e.ID, "status": e.Status, "title": e.Title, "description": e.Description,
		"coverUrl": nil, "scheduledFor": e.ScheduledFor, "startedAt": e.StartedAt, "finishedAt": e.FinishedAt,
		"isInstant": e.Instant, "isRecordOnly": false, "showId": nil, "destinations": dests,
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
	case OpEventsLive:
		out := []any{}
		for _, e := range s.all() {
			if e.Status == "in-progress" {
				out = append(out, eventJSON(e))
			}
		}
		writeJSON(w, http.StatusOK, out)
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
		StreamType   string          `json:"streamType"`
		Title        string          `json:"title"`
		Description  string          `json:"description"`
		ScheduledFor json.RawMessage `json:"scheduledFor"`
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
	// scheduledFor is an ISO 8601 date-time string; unix seconds are refused.
	// Evidence: developers.restream.io/events/event-create ("scheduledFor string … ISO 8601 date-time").
	var scheduledFor *int64
	if len(in.ScheduledFor) > 0 && string(in.ScheduledFor) != "null" {
		var text string
		at, err := time.Time{}, json.Unmarshal(in.ScheduledFor, &text)
		if err == nil {
			at, err = time.Parse(time.RFC3339, text)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "", `"scheduledFor" must be a valid ISO 8601 date-time string`)
			return
		}
		if at.Before(time.Now().Add(-time.Minute)) {
			writeError(w, http.StatusBadRequest, "", `"scheduledFor" must be in the future`)
			return
		}
		ts := at.Unix()
		scheduledFor = &ts
	}
	s.seq++
	e := &Event{ID: fmt.Sprintf("%s-%04d", randHex(8), s.seq), Title: in.Title, Description: in.Description,
		StreamType: in.StreamType, Status: "upcoming", ScheduledFor: scheduledFor,
		StreamKey: fmt.Sprintf("re_1000001_event%s", randHex(12))}
	s.events[e.ID] = e
	writeJSON(w, http.StatusCreated, eventJSON(e))
}
