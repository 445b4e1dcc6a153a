// Package googlemeetfake is a test double on loopback for the three Google
// services a Google Meet client calls, served on one server under the real
// services' path prefixes:
//
//   - Meet REST v2 under /v2 (spaces.create, spaces.get,
//     spaces.endActiveConference), with Google's current error shape
//     ({"error":{"code","message","status","details":[ErrorInfo]}});
//   - Calendar v3 under /calendar/v3 (events.insert, events.get,
//     events.patch, events.delete), with conferenceData whose createRequest is "pending"
//     at first and "success" after a number of reads, client-chosen event
//     ids (409 duplicate on reuse), cancelled events (410 on delete) and
//     Calendar's error shape ({"error":{"errors":[{"reason"}],"code",
//     "message"}});
//   - OpenID Connect userinfo at /v1/userinfo, with OAuth's error shape.
//
// MeetURL, CalendarURL and UserinfoURL are the three base URLs to give the
// client.
package googlemeetfake

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations, for FailNext and Calls.
const (
	OpUserinfo            = "userinfo"
	OpSpacesCreate        = "spaces.create"
	OpSpacesGet           = "spaces.get"
	OpEndActiveConference = "spaces.endActiveConference"
	OpEventsInsert        = "events.insert"
	OpEventsGet           = "events.get"
	OpEventsDelete        = "events.delete"
	OpEventsPatch         = "events.patch"
)

// The fake user.
const (
	UserSub   = "110169484474386276334"
	UserEmail = "pastor@example.org"
	UserName  = "Pat Pastor"
)

// Calendar's messages for its error reasons.
var calendarMessages = map[string]string{
	"authError":               "Invalid Credentials",
	"rateLimitExceeded":       "Rate Limit Exceeded",
	"userRateLimitExceeded":   "User Rate Limit Exceeded",
	"quotaExceeded":           "Calendar usage limits exceeded.",
	"forbidden":               "Forbidden",
	"insufficientPermissions": "Insufficient Permission: Request had insufficient authentication scopes.",
	"notFound":                "Not Found",
	"deleted":                 "Resource has been deleted",
	"duplicate":               "The requested identifier already exists.",
	"invalid":                 "Invalid Value",
	"backendError":            "Backend Error",
}

var grpcStatus = map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

// Space is the fake's record of a Meet space.
type Space struct {
	Name             string         `json:"name"`
	MeetingURI       string         `json:"meetingUri"`
	MeetingCode      string         `json:"meetingCode"`
	Config           map[string]any `json:"config"`
	ActiveConference map[string]any `json:"activeConference,omitempty"`
}

// Event is the fake's record of a Calendar event (what the client uses).
type Event struct {
	ID             string         `json:"id"`
	Status         string         `json:"status"`
	HTMLLink       string         `json:"htmlLink"`
	Summary        string         `json:"summary"`
	Start          map[string]any `json:"start"`
	End            map[string]any `json:"end"`
	Created        string         `json:"created"`
	HangoutLink    string         `json:"hangoutLink,omitempty"`
	ConferenceData map[string]any `json:"conferenceData,omitempty"`
	// reads left while the conference is pending
	pendingReads int
	failConf     bool
	code         string
}

// Server is the fake. Any non-empty bearer token is accepted unless
// rejected with RejectToken.
type Server struct {
	URL string
	// PendingReads is how many events.get reads see a new event's conference
	// still "pending" before it turns "success" (1 by default; 0 makes it
	// succeed at insert).
	PendingReads int
	// ConferenceFailure makes new events' conferences end in "failure".
	ConferenceFailure bool

	srv    *httptest.Server
	mu     sync.Mutex
	rec    fakekit.Recorder[contract.Request]
	fails  fakekit.Failures[fakekit.Canned]
	tokens fakekit.Tokens
	spaces map[string]*Space
	events map[string]*Event
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{PendingReads: 1, spaces: map[string]*Space{}, events: map[string]*Event{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// MeetURL is the Meet API base (GOOGLE_MEET_API_URL).
func (s *Server) MeetURL() string { return s.URL + "/v2" }

// CalendarURL is the Calendar API base (GOOGLE_MEET_CALENDAR_API_URL).
func (s *Server) CalendarURL() string { return s.URL + "/calendar/v3" }

// UserinfoURL is the userinfo endpoint (GOOGLE_MEET_USERINFO_URL).
func (s *Server) UserinfoURL() string { return s.URL + "/v1/userinfo" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// RejectToken makes the fake answer 401 to tok.
func (s *Server) RejectToken(tok string) { s.tokens.Reject(tok) }

// FailNext makes the next n calls of op fail with status and Google's body
// for the reason code: Calendar's shape (errors[].reason) for events.*,
// Meet's (status and an ErrorInfo detail) for spaces.*, OAuth's
// ({"error":code}) for userinfo.
func (s *Server) FailNext(op string, status int, code string, n int) {
	var body string
	switch {
	case strings.HasPrefix(op, "events."):
		body = calendarBody(status, code, "")
	case op == OpUserinfo:
		b, _ := json.Marshal(map[string]string{"error": code, "error_description": "Invalid Credentials"})
		body = string(b)
	default:
		body = meetBody(status, code, "")
	}
	s.FailNextWith(op, status, nil, body, n)
}

// FailNextWith makes the next n calls of op answer as given.
func (s *Server) FailNextWith(op string, status int, header http.Header, body string, n int) {
	// An n below 1 still fails one call.
	s.fails.Add(op, fakekit.Canned{Status: status, Header: header, Body: body}, max(n, 1))
}

// Calls is how many requests for op arrived (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is every request received, in order.
func (s *Server) Requests() []contract.Request { return s.rec.Requests() }

// Event is the event's record; ok is false for an unknown id.
func (s *Server) Event(id string) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[id]
	if !ok {
		return Event{}, false
	}
	return *e, true
}

// Events is how many events are not cancelled.
func (s *Server) Events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.Status != "cancelled" {
			n++
		}
	}
	return n
}

// Space is the space's record ("spaces/..."); ok is false when unknown.
func (s *Server) Space(name string) (Space, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.spaces[name]
	if !ok {
		return Space{}, false
	}
	return *sp, true
}

// StartConference is someone joining the space: it gets an active
// conference.
func (s *Server) StartConference(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.spaces[name]; ok {
		sp.ActiveConference = map[string]any{"conferenceRecord": "conferenceRecords/" + randomID(12)}
	}
}

var (
	spacePath  = regexp.MustCompile(`^/v2/(spaces/[^/:]+)$`)
	endPath    = regexp.MustCompile(`^/v2/(spaces/[^/:]+):endActiveConference$`)
	eventsPath = regexp.MustCompile(`^/calendar/v3/calendars/([^/]+)/events$`)
	eventPath  = regexp.MustCompile(`^/calendar/v3/calendars/([^/]+)/events/([^/]+)$`)
	eventIDRE  = regexp.MustCompile(`^[a-v0-9]{5,}$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Log(contract.Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})

	p := r.URL.Path
	var op, arg string
	switch {
	case r.Method == http.MethodGet && p == "/v1/userinfo":
		op = OpUserinfo
	case r.Method == http.MethodPost && p == "/v2/spaces":
		op = OpSpacesCreate
	case r.Method == http.MethodGet && spacePath.MatchString(p):
		op, arg = OpSpacesGet, spacePath.FindStringSubmatch(p)[1]
	case r.Method == http.MethodPost && endPath.MatchString(p):
		op, arg = OpEndActiveConference, endPath.FindStringSubmatch(p)[1]
	case r.Method == http.MethodPost && eventsPath.MatchString(p):
		op = OpEventsInsert
	case r.Method == http.MethodGet && eventPath.MatchString(p):
		op, arg = OpEventsGet, eventPath.FindStringSubmatch(p)[2]
	case r.Method == http.MethodDelete && eventPath.MatchString(p):
		op, arg = OpEventsDelete, eventPath.FindStringSubmatch(p)[2]
	case r.Method == http.MethodPatch && eventPath.MatchString(p):
		op, arg = OpEventsPatch, eventPath.FindStringSubmatch(p)[2]
	default:
		fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(meetBody(404, "", "Method not found.")))
		return
	}
	s.rec.Count(op)

	if !s.tokens.Allowed(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		switch {
		case op == OpUserinfo:
			fakekit.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		case strings.HasPrefix(op, "events."):
			fakekit.WriteJSON(w, http.StatusUnauthorized, json.RawMessage(calendarBody(401, "authError", "")))
		default:
			fakekit.WriteJSON(w, http.StatusUnauthorized, json.RawMessage(meetBody(401, "ACCESS_TOKEN_EXPIRED",
				"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")))
		}
		return
	}
	if f, ok := s.fails.Next(op); ok {
		f.Write(w, fakekit.ContentTypeJSON)
		return
	}

	switch op {
	case OpUserinfo:
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"sub": UserSub, "email": UserEmail, "email_verified": true,
			"name": UserName, "given_name": "Pat", "family_name": "Pastor"})
	case OpSpacesCreate:
		code := meetingCode()
		sp := &Space{Name: "spaces/" + randomID(12), MeetingCode: code, MeetingURI: "https://meet.google.com/" + code,
			Config: map[string]any{"accessType": "TRUSTED", "entryPointAccess": "ALL"}}
		s.spaces[sp.Name] = sp
		fakekit.WriteJSON(w, http.StatusOK, sp)
	case OpSpacesGet:
		sp, ok := s.spaces[arg]
		if !ok {
			fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(meetBody(404, "", "Requested entity was not found.")))
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, sp)
	case OpEndActiveConference:
		sp, ok := s.spaces[arg]
		if !ok {
			fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(meetBody(404, "", "Requested entity was not found.")))
			return
		}
		if sp.ActiveConference == nil {
			fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(meetBodyStatus(400, "FAILED_PRECONDITION", "", "No active conference in the space.")))
			return
		}
		sp.ActiveConference = nil
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{})
	case OpEventsInsert:
		s.insert(w, r, body)
	case OpEventsGet:
		e, ok := s.events[arg]
		if !ok {
			fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(calendarBody(404, "notFound", "")))
			return
		}
		if e.pendingReads > 0 {
			e.pendingReads--
			if e.pendingReads == 0 {
				s.settle(e)
			}
		}
		fakekit.WriteJSON(w, http.StatusOK, e)
	case OpEventsPatch:
		s.patch(w, r, arg, body)
	case OpEventsDelete:
		e, ok := s.events[arg]
		switch {
		case !ok:
			fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(calendarBody(404, "notFound", "")))
		case e.Status == "cancelled":
			fakekit.WriteJSON(w, http.StatusGone, json.RawMessage(calendarBody(410, "deleted", "")))
		default:
			e.Status = "cancelled"
			w.WriteHeader(http.StatusNoContent)
		}
	}
}

func (s *Server) insert(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		ID             string         `json:"id"`
		Summary        string         `json:"summary"`
		Start          map[string]any `json:"start"`
		End            map[string]any `json:"end"`
		ConferenceData *struct {
			CreateRequest *struct {
				RequestID             string `json:"requestId"`
				ConferenceSolutionKey struct {
					Type string `json:"type"`
				} `json:"conferenceSolutionKey"`
			} `json:"createRequest"`
		} `json:"conferenceData"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "parseError", "Parse Error")))
		return
	}
	if in.Start == nil || in.End == nil {
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "required", "Missing end time.")))
		return
	}
	for _, t := range []map[string]any{in.Start, in.End} {
		if v, _ := t["dateTime"].(string); v != "" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid start time.")))
				return
			}
		}
	}
	if in.ID != "" {
		if !eventIDRE.MatchString(in.ID) {
			fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid resource id value.")))
			return
		}
		if _, ok := s.events[in.ID]; ok {
			fakekit.WriteJSON(w, http.StatusConflict, json.RawMessage(calendarBody(409, "duplicate", "")))
			return
		}
	} else {
		in.ID = base32hexID(26)
	}
	e := &Event{ID: in.ID, Status: "confirmed", Summary: in.Summary, Start: in.Start, End: in.End,
		HTMLLink: "https://www.google.com/calendar/event?eid=" + in.ID, Created: time.Now().UTC().Format(time.RFC3339)}
	// Without conferenceDataVersion=1 Calendar ignores conferenceData.
	if r.URL.Query().Get("conferenceDataVersion") == "1" && in.ConferenceData != nil && in.ConferenceData.CreateRequest != nil {
		cr := in.ConferenceData.CreateRequest
		if cr.ConferenceSolutionKey.Type != "hangoutsMeet" {
			fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid conference type value.")))
			return
		}
		e.code = meetingCode()
		e.failConf = s.ConferenceFailure
		e.ConferenceData = map[string]any{"createRequest": map[string]any{"requestId": cr.RequestID,
			"conferenceSolutionKey": map[string]any{"type": "hangoutsMeet"}, "status": map[string]any{"statusCode": "pending"}}}
		e.pendingReads = s.PendingReads
		if e.pendingReads == 0 {
			s.settle(e)
		}
	}
	s.events[e.ID] = e
	fakekit.WriteJSON(w, http.StatusOK, e)
}

// patch is events.patch: the fields given replace the event's, start and
// end merged into what the event has (patch semantics), answered with the
// event. Refused as Calendar refuses: an unknown event 404 notFound; a
// deleted (cancelled) one 403 forbidden (googleapis/google-api-ruby-client
// #1811: an update of a deleted event "got a 403 forbidden error"); a
// malformed time or an unknown zone 400 invalid; an end before the start
// 400 timeRangeEmpty; a sendUpdates outside its enum 400 invalid.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	e, ok := s.events[id]
	switch {
	case !ok:
		fakekit.WriteJSON(w, http.StatusNotFound, json.RawMessage(calendarBody(404, "notFound", "")))
		return
	case e.Status == "cancelled":
		fakekit.WriteJSON(w, http.StatusForbidden, json.RawMessage(calendarBody(403, "forbidden", "")))
		return
	}
	if su := r.URL.Query().Get("sendUpdates"); su != "" && su != "all" && su != "externalOnly" && su != "none" {
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid value for: sendUpdates")))
		return
	}
	var in struct {
		Summary *string        `json:"summary"`
		Start   map[string]any `json:"start"`
		End     map[string]any `json:"end"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "parseError", "Parse Error")))
		return
	}
	start, end := merged(e.Start, in.Start), merged(e.End, in.End)
	for _, t := range []struct {
		name string
		v    map[string]any
	}{{"start", start}, {"end", end}} {
		if tz, _ := t.v["timeZone"].(string); tz != "" {
			if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
				fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid time zone definition for "+t.name+" time.")))
				return
			}
		}
	}
	st, err1 := time.Parse(time.RFC3339, str(start["dateTime"]))
	en, err2 := time.Parse(time.RFC3339, str(end["dateTime"]))
	switch {
	case err1 != nil:
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid start time.")))
		return
	case err2 != nil:
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "invalid", "Invalid end time.")))
		return
	case en.Before(st):
		fakekit.WriteJSON(w, http.StatusBadRequest, json.RawMessage(calendarBody(400, "timeRangeEmpty", "The specified time range is empty.")))
		return
	}
	e.Start, e.End = start, end
	if in.Summary != nil {
		e.Summary = *in.Summary
	}
	fakekit.WriteJSON(w, http.StatusOK, e)
}

// merged is the event time old with the fields of patch over it.
func merged(old, patch map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range old {
		out[k] = v
	}
	for k, v := range patch {
		out[k] = v
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// settle ends a pending conference request in success (or failure).
func (s *Server) settle(e *Event) {
	cr := e.ConferenceData["createRequest"].(map[string]any)
	if e.failConf {
		cr["status"] = map[string]any{"statusCode": "failure"}
		return
	}
	cr["status"] = map[string]any{"statusCode": "success"}
	uri := "https://meet.google.com/" + e.code
	e.ConferenceData["conferenceId"] = e.code
	e.ConferenceData["conferenceSolution"] = map[string]any{"key": map[string]any{"type": "hangoutsMeet"}, "name": "Google Meet",
		"iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png"}
	e.ConferenceData["entryPoints"] = []any{map[string]any{"entryPointType": "video", "uri": uri, "label": "meet.google.com/" + e.code}}
	e.HangoutLink = uri
}

func calendarBody(status int, reason, msg string) string {
	if msg == "" {
		msg = calendarMessages[reason]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"errors": []any{map[string]any{"domain": "global", "reason": reason, "message": msg}},
		"code":   status, "message": msg}})
	return string(b)
}

func meetBody(status int, reason, msg string) string {
	return meetBodyStatus(status, grpcStatus[status], reason, msg)
}

func meetBodyStatus(status int, grpc, reason, msg string) string {
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := map[string]any{"code": status, "message": msg, "status": grpc}
	if reason != "" {
		e["details"] = []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
			"domain": "googleapis.com", "metadata": map[string]any{"service": "meet.googleapis.com"}}}
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	return string(b)
}

func pick(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[j.Int64()]
	}
	return string(b)
}

func meetingCode() string {
	const az = "abcdefghijklmnopqrstuvwxyz"
	return pick(az, 3) + "-" + pick(az, 4) + "-" + pick(az, 3)
}

func randomID(n int) string {
	return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n)
}

func base32hexID(n int) string { return pick("0123456789abcdefghijklmnopqrstuv", n) }
