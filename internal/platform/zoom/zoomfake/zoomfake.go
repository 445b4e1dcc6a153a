// Package zoomfake is a Zoom API v2 test double on loopback: the meeting
// calls Switchboard makes, at Zoom's paths, with Zoom's states (waiting,
// started, ended; deleted) and Zoom's error bodies
// ({"code":124,"message":"Invalid access token."}).
//
// Scopes are granular, one per endpoint (Scope): a token that lacks the
// endpoint's scope is answered HTTP 400 {"code":4711,"message":"Invalid
// access token, does not contain scopes:[...]."}. A token carries the
// scopes given with SetTokenScopes, or else DefaultScopes (what the app's
// settings grant). Evidence: PLATFORMS.md Zoom "(corrected) Scopes" and
// "(corrected) Missing scope"; devforum.zoom.us/t/108207.
package zoomfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations, for FailNext and Calls.
const (
	OpUsersMe         = "users.me"
	OpCreateMeeting   = "meetings.create"
	OpGetMeeting      = "meetings.get"
	OpUpdateMeeting   = "meetings.update"
	OpMeetingStatus   = "meetings.status"
	OpDeleteMeeting   = "meetings.delete"
	DefaultDailyLimit = 100
)

// Meeting states as Zoom reports them; "ended" and "deleted" are the
// fake's names for what Zoom shows as a finished meeting and a 404.
const (
	StatusWaiting = "waiting"
	StatusStarted = "started"
	StatusEnded   = "ended"
	StatusDeleted = "deleted"
)

// Messages Zoom sends with its error codes.
var messages = map[int]string{
	124:  "Invalid access token.",
	200:  "No permission.",
	300:  "Invalid field.",
	429:  "You have reached the maximum per-second rate limit for this API. Try again later.",
	1001: "User does not exist: me.",
	3000: "Cannot access meeting information.",
	3001: "Meeting does not exist.",
	3161: "Meeting hosting and scheduling capabilities are not allowed for your user account.",
	4700: "Invalid access token.",
	4711: "Invalid access token, does not contain scopes:[meeting:write:meeting, meeting:write:meeting:admin].",
}

// Scope is the granular scope each operation needs (user-managed apps use
// the names without ":admin").
var Scope = map[string]string{
	OpUsersMe:       "user:read:user",
	OpCreateMeeting: "meeting:write:meeting",
	OpGetMeeting:    "meeting:read:meeting",
	OpUpdateMeeting: "meeting:update:meeting",
	OpMeetingStatus: "meeting:update:status",
	OpDeleteMeeting: "meeting:delete:meeting",
}

// AllScopes is every scope in Scope: what a token carries by default.
func AllScopes() []string {
	out := make([]string, 0, len(Scope))
	for _, sc := range Scope {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out
}

// Meeting is the fake's record of one meeting.
type Meeting struct {
	ID        int64          `json:"id"`
	UUID      string         `json:"uuid"`
	HostID    string         `json:"host_id"`
	Topic     string         `json:"topic"`
	Type      int            `json:"type"`
	Status    string         `json:"status"`
	StartTime string         `json:"start_time,omitempty"`
	Duration  int            `json:"duration"`
	Timezone  string         `json:"timezone,omitempty"`
	CreatedAt string         `json:"created_at"`
	StartURL  string         `json:"start_url"`
	JoinURL   string         `json:"join_url"`
	Password  string         `json:"password,omitempty"`
	Settings  map[string]any `json:"settings,omitempty"`
}

// Server is the fake. Any non-empty bearer token is accepted unless
// rejected with RejectToken.
type Server struct {
	URL string // the root; the API is under URL+"/v2"
	// DailyCreateLimit is how many meetings one user may create per day
	// (Zoom's is 100); past it meetings.create answers 429 with Zoom's
	// daily-limit message.
	DailyCreateLimit int

	srv      *httptest.Server
	mu       sync.Mutex
	rec      fakekit.Recorder[contract.Request]
	fails    fakekit.Failures[fakekit.Canned]
	tokens   fakekit.Tokens
	meetings map[int64]*Meeting
	nextID   int64
	created  int                 // creates and changes today: Zoom's one daily limit counts both
	scopes   map[string][]string // token -> its scopes
	defaults []string
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{DailyCreateLimit: DefaultDailyLimit, meetings: map[int64]*Meeting{}, nextID: 89012345670,
		scopes: map[string][]string{}, defaults: AllScopes()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// APIURL is the base URL to give the client (as ZOOM_API_URL).
func (s *Server) APIURL() string { return s.URL + "/v2" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// RejectToken makes the fake answer 401 (code 124) to this token.
func (s *Server) RejectToken(tok string) { s.tokens.Reject(tok) }

// FailNext makes the next n calls of op fail with status and Zoom's body
// for code ({"code":code,"message":...}).
func (s *Server) FailNext(op string, status int, code string, n int) {
	c, err := strconv.Atoi(code)
	if err != nil {
		panic("zoomfake: Zoom's error codes are numbers: " + code)
	}
	msg, ok := messages[c]
	if !ok {
		msg = "Error " + code + "."
	}
	body, _ := json.Marshal(map[string]any{"code": c, "message": msg})
	s.FailNextWith(op, status, nil, string(body), n)
}

// FailNextWith makes the next n calls of op answer status, header and body
// as given.
func (s *Server) FailNextWith(op string, status int, header http.Header, body string, n int) {
	// An n below 1 still fails one call.
	s.fails.Add(op, fakekit.Canned{Status: status, Header: header, Body: body}, max(n, 1))
}

// Calls is how many requests for op arrived (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is every request received, in order.
func (s *Server) Requests() []contract.Request { return s.rec.Requests() }

// Meeting is the meeting's current record; ok is false for an unknown id.
func (s *Server) Meeting(id int64) (Meeting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.meetings[id]
	if !ok {
		return Meeting{}, false
	}
	return *m, true
}

// SetTokenScopes gives one token exactly these scopes.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes[token] = append([]string(nil), scopes...)
}

// SetDefaultScopes sets the scopes of every token not given its own (the
// app's settings at Zoom).
func (s *Server) SetDefaultScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaults = append([]string(nil), scopes...)
}

func (s *Server) hasScope(token, want string) bool {
	have, ok := s.scopes[token]
	if !ok {
		have = s.defaults
	}
	return slices.Contains(have, want)
}

// StartMeeting is the host joining: a waiting meeting becomes started.
func (s *Server) StartMeeting(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.meetings[id]; ok && m.Status == StatusWaiting {
		m.Status = StatusStarted
	}
}

var (
	meetingPath = regexp.MustCompile(`^/v2/meetings/([0-9]+)$`)
	statusPath  = regexp.MustCompile(`^/v2/meetings/([0-9]+)/status$`)
	createPath  = regexp.MustCompile(`^/v2/users/([^/]+)/meetings$`)
	passwordRE  = regexp.MustCompile(`^[A-Za-z0-9@_*-]{1,10}$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Log(contract.Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})

	var op string
	var id int64
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/v2/users/me":
		op = OpUsersMe
	case r.Method == http.MethodPost && createPath.MatchString(p):
		op = OpCreateMeeting
	case meetingPath.MatchString(p) && (r.Method == http.MethodGet || r.Method == http.MethodDelete || r.Method == http.MethodPatch):
		op = map[string]string{http.MethodGet: OpGetMeeting, http.MethodDelete: OpDeleteMeeting, http.MethodPatch: OpUpdateMeeting}[r.Method]
		id, _ = strconv.ParseInt(meetingPath.FindStringSubmatch(p)[1], 10, 64)
	case r.Method == http.MethodPut && statusPath.MatchString(p):
		op = OpMeetingStatus
		id, _ = strconv.ParseInt(statusPath.FindStringSubmatch(p)[1], 10, 64)
	default:
		zoomError(w, http.StatusNotFound, 404, "Not found: "+r.Method+" "+p)
		return
	}
	s.rec.Count(op)

	if !s.tokens.Allowed(r) {
		zoomError(w, http.StatusUnauthorized, 124, messages[124])
		return
	}
	if tok, _ := fakekit.Bearer(r); !s.hasScope(strings.TrimSpace(tok), Scope[op]) {
		zoomError(w, http.StatusBadRequest, 4711,
			fmt.Sprintf("Invalid access token, does not contain scopes:[%s, %s:admin].", Scope[op], Scope[op]))
		return
	}
	if f, ok := s.fails.Next(op); ok {
		f.Write(w, "application/json;charset=UTF-8")
		return
	}

	switch op {
	case OpUsersMe:
		writeJSON(w, http.StatusOK, map[string]any{"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
			"display_name": "Jill Chill", "email": "jchill@example.com", "type": 2, "account_id": "q6gBJVO5TzexKYTb_I2rpg",
			"timezone": "America/Los_Angeles", "status": "active"})
	case OpCreateMeeting:
		s.create(w, body)
	case OpGetMeeting:
		m, ok := s.meetings[id]
		if !ok || m.Status == StatusDeleted {
			zoomError(w, http.StatusNotFound, 3001, fmt.Sprintf("Meeting does not exist: %d.", id))
			return
		}
		writeJSON(w, http.StatusOK, m)
	case OpUpdateMeeting:
		s.update(w, id, body)
	case OpMeetingStatus:
		m, ok := s.meetings[id]
		if !ok || m.Status == StatusDeleted {
			zoomError(w, http.StatusNotFound, 3001, fmt.Sprintf("Meeting does not exist: %d.", id))
			return
		}
		var in struct {
			Action string `json:"action"`
		}
		if json.Unmarshal(body, &in) != nil || in.Action != "end" {
			zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
			return
		}
		m.Status = StatusEnded
		w.WriteHeader(http.StatusNoContent)
	case OpDeleteMeeting:
		m, ok := s.meetings[id]
		if !ok || m.Status == StatusDeleted {
			zoomError(w, http.StatusNotFound, 3001, fmt.Sprintf("Meeting does not exist: %d.", id))
			return
		}
		// zoom-meeting-openapi.json, DELETE /meetings/{meetingId} 400: codes
		// 3002 (in progress) and 3007 (ended), in Zoom's words.
		switch m.Status {
		case StatusStarted:
			zoomError(w, http.StatusBadRequest, 3002, "Sorry, you cannot delete this meeting since it is in progress.")
			return
		case StatusEnded:
			zoomError(w, http.StatusBadRequest, 3007, "Sorry, you cannot delete this meeting since it has ended.")
			return
		}
		m.Status = StatusDeleted
		w.WriteHeader(http.StatusNoContent)
	}
}

// overDailyLimit counts one meeting create or change against the user's
// daily limit, which Zoom shares between the two
// (zoom-meeting-openapi.json: "A maximum of {rateLimitNumber} meetings can
// be created/updated for a single user in one day"), and answers 429 once
// it is reached.
func (s *Server) overDailyLimit(w http.ResponseWriter) bool {
	if s.created >= s.DailyCreateLimit {
		zoomError(w, http.StatusTooManyRequests, 429, fmt.Sprintf("You have exceeded the daily rate limit (%d) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.", s.DailyCreateLimit))
		return true
	}
	s.created++
	return false
}

func (s *Server) create(w http.ResponseWriter, body []byte) {
	var in struct {
		Topic     string         `json:"topic"`
		Type      *int           `json:"type"`
		StartTime string         `json:"start_time"`
		Duration  int            `json:"duration"`
		Timezone  string         `json:"timezone"`
		Password  *string        `json:"password"`
		Settings  map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		zoomError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	typ := 2
	if in.Type != nil {
		typ = *in.Type
	}
	switch {
	case typ != 1 && typ != 2 && typ != 3 && typ != 8:
		zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
		return
	case typ == 2 && in.StartTime != "":
		if _, err := time.Parse("2006-01-02T15:04:05Z", in.StartTime); err != nil {
			zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
			return
		}
	}
	if in.Password != nil && !passwordRE.MatchString(*in.Password) {
		zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
		return
	}
	if s.overDailyLimit(w) {
		return
	}
	s.nextID++
	id := s.nextID
	pwd := ""
	if in.Password != nil {
		pwd = *in.Password
	}
	m := &Meeting{ID: id, UUID: randomString(16), HostID: "KDcuGIm1QgePTO8WbOqwIQ", Topic: in.Topic, Type: typ,
		Status: StatusWaiting, Duration: in.Duration, Timezone: in.Timezone, CreatedAt: time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		StartURL: fmt.Sprintf("https://us05web.zoom.us/s/%d?zak=%s", id, randomString(48)),
		JoinURL:  fmt.Sprintf("https://us05web.zoom.us/j/%d?pwd=%s", id, randomString(24)),
		Password: pwd, Settings: in.Settings}
	if typ != 1 {
		m.StartTime = in.StartTime
	}
	s.meetings[id] = m
	writeJSON(w, http.StatusCreated, m)
}

// update is PATCH /meetings/{id} as Zoom's description has it: the fields
// given replace the meeting's, answered 204 with no body; a meeting that
// has started (or ended) is refused with 400 code 3000, an unknown one
// 404 code 3001, a malformed field 300; changes count against the same
// daily limit as creates ("A maximum of {rateLimitNumber} meetings can be
// created/updated for a single user in one day").
func (s *Server) update(w http.ResponseWriter, id int64, body []byte) {
	m, ok := s.meetings[id]
	if !ok || m.Status == StatusDeleted {
		zoomError(w, http.StatusNotFound, 3001, fmt.Sprintf("A meeting with this %d is not found or has expired.", id))
		return
	}
	var in struct {
		Topic     *string        `json:"topic"`
		Type      *int           `json:"type"`
		StartTime *string        `json:"start_time"`
		Duration  *int           `json:"duration"`
		Timezone  *string        `json:"timezone"`
		Password  *string        `json:"password"`
		Settings  map[string]any `json:"settings"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		zoomError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	if in.StartTime != nil {
		// GMT with a Z, or local time in the meeting's timezone.
		_, errGMT := time.Parse("2006-01-02T15:04:05Z", *in.StartTime)
		if _, errLocal := time.Parse("2006-01-02T15:04:05", *in.StartTime); errGMT != nil && errLocal != nil {
			zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
			return
		}
	}
	switch {
	case in.Type != nil && *in.Type != 1 && *in.Type != 2 && *in.Type != 3 && *in.Type != 8,
		in.Duration != nil && *in.Duration < 0,
		in.Password != nil && !passwordRE.MatchString(*in.Password):
		zoomError(w, http.StatusBadRequest, 300, "Invalid field.")
		return
	case m.Status == StatusStarted || m.Status == StatusEnded:
		zoomError(w, http.StatusBadRequest, 3000, "You cannot update or delete meetings that have started using this method.")
		return
	case s.overDailyLimit(w):
		return
	}
	if in.Topic != nil {
		m.Topic = *in.Topic
	}
	if in.Type != nil {
		m.Type = *in.Type
	}
	if in.StartTime != nil {
		m.StartTime = *in.StartTime
	}
	if in.Duration != nil {
		m.Duration = *in.Duration
	}
	if in.Timezone != nil {
		m.Timezone = *in.Timezone
	}
	if in.Password != nil {
		m.Password = *in.Password
	}
	for k, v := range in.Settings {
		if m.Settings == nil {
			m.Settings = map[string]any{}
		}
		m.Settings[k] = v
	}
	w.WriteHeader(http.StatusNoContent)
}

func zoomError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json;charset=UTF-8", status, v)
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
