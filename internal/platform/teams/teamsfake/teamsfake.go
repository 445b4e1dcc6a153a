// Package teamsfake is a Microsoft Graph v1.0 test double on loopback for
// the online-meeting calls Switchboard makes: GET /me,
// POST /me/onlineMeetings/createOrGet (idempotent by externalId, as Graph
// is), GET, PATCH and DELETE /me/onlineMeetings/{id}, with Graph's error shape
// ({"error":{"code":"InvalidAuthenticationToken","message":...}}).
package teamsfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations, for FailNext and Calls.
const (
	OpMe          = "me"
	OpCreateOrGet = "onlineMeetings.createOrGet"
	OpGet         = "onlineMeetings.get"
	OpDelete      = "onlineMeetings.delete"
	OpUpdate      = "onlineMeetings.update"
)

// Graph's messages for the error codes the fake sends.
var messages = map[string]string{
	"InvalidAuthenticationToken":  "Access token has expired or is not yet valid.",
	"Forbidden":                   "Forbidden",
	"Authorization_RequestDenied": "Insufficient privileges to complete the operation.",
	"AuthenticationError":         "Error authenticating with resource",
	"TooManyRequests":             "Too many requests, please try again later.",
	"BadRequest":                  "Invalid request.",
	"NotFound":                    "The requested resource does not exist.",
	"ServiceNotAvailable":         "The service is temporarily unavailable.",
	"InternalServerError":         "An internal server error occurred.",
}

// OrganizerID is the fake user's id.
const OrganizerID = "48d31887-5fad-4d73-a9f5-3c356e68a038"

// Meeting is the fake's record of an online meeting (Graph's onlineMeeting,
// in part).
type Meeting struct {
	ID                    string         `json:"id"`
	ExternalID            string         `json:"externalId"`
	Subject               string         `json:"subject"`
	StartDateTime         string         `json:"startDateTime"`
	EndDateTime           string         `json:"endDateTime"`
	CreationDateTime      string         `json:"creationDateTime"`
	JoinWebURL            string         `json:"joinWebUrl"`
	VideoTeleconferenceID string         `json:"videoTeleconferenceId"`
	JoinMeetingIDSettings map[string]any `json:"joinMeetingIdSettings"`
	ChatInfo              map[string]any `json:"chatInfo"`
	Participants          map[string]any `json:"participants"`
	deleted               bool
}

// Server is the fake. Any non-empty bearer token is accepted unless
// rejected with RejectToken.
type Server struct {
	URL string // the root; Graph v1.0 is under URL+"/v1.0"

	srv        *httptest.Server
	mu         sync.Mutex
	rec        fakekit.Recorder[contract.Request]
	fails      fakekit.Failures[fakekit.Canned]
	tokens     fakekit.Tokens
	byID       map[string]*Meeting
	byExternal map[string]*Meeting
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{byID: map[string]*Meeting{}, byExternal: map[string]*Meeting{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// APIURL is the base URL to give the client (as MICROSOFT_TEAMS_API_URL).
func (s *Server) APIURL() string { return s.URL + "/v1.0" }

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// RejectToken makes the fake answer 401 InvalidAuthenticationToken to tok.
func (s *Server) RejectToken(tok string) { s.tokens.Reject(tok) }

// FailNext makes the next n calls of op fail with status and Graph's body
// for code; a 429 or 503 carries Retry-After: 1, as Graph's do.
func (s *Server) FailNext(op string, status int, code string, n int) {
	msg, ok := messages[code]
	if !ok {
		msg = code
	}
	var h http.Header
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		h = http.Header{"Retry-After": {"1"}}
	}
	s.FailNextWith(op, status, h, graphBody(code, msg), n)
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

// Meetings is how many meetings exist (not deleted).
func (s *Server) Meetings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.byID {
		if !m.deleted {
			n++
		}
	}
	return n
}

// Meeting is the meeting with this id; ok is false when unknown or deleted.
func (s *Server) Meeting(id string) (Meeting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok || m.deleted {
		return Meeting{}, false
	}
	return *m, true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Log(contract.Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})

	var op, id string
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && p == "/v1.0/me":
		op = OpMe
	case r.Method == http.MethodPost && p == "/v1.0/me/onlineMeetings/createOrGet":
		op = OpCreateOrGet
	case strings.HasPrefix(p, "/v1.0/me/onlineMeetings/") && (r.Method == http.MethodGet || r.Method == http.MethodDelete || r.Method == http.MethodPatch):
		op = map[string]string{http.MethodGet: OpGet, http.MethodDelete: OpDelete, http.MethodPatch: OpUpdate}[r.Method]
		id = strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0/me/onlineMeetings/")
		id, _ = url.PathUnescape(id)
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+p+"'.")
		return
	}
	s.rec.Count(op)

	tok, ok := fakekit.Bearer(r)
	if !ok {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	if s.tokens.Rejected(tok) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", messages["InvalidAuthenticationToken"])
		return
	}
	if f, ok := s.fails.Next(op); ok {
		f.Write(w, "application/json")
		return
	}

	switch op {
	case OpMe:
		writeJSON(w, http.StatusOK, map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
			"id":             OrganizerID, "displayName": "Adele Vance", "userPrincipalName": "AdeleV@contoso.com",
			"mail": "AdeleV@contoso.com", "givenName": "Adele", "surname": "Vance"})
	case OpCreateOrGet:
		s.createOrGet(w, body)
	case OpUpdate:
		s.update(w, id, body)
	case OpGet, OpDelete:
		m, ok := s.byID[id]
		if !ok || m.deleted {
			graphError(w, http.StatusNotFound, "NotFound", messages["NotFound"])
			return
		}
		if op == OpGet {
			writeJSON(w, http.StatusOK, m)
			return
		}
		m.deleted = true
		delete(s.byExternal, m.ExternalID)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) createOrGet(w http.ResponseWriter, body []byte) {
	var in struct {
		ExternalID    string `json:"externalId"`
		Subject       string `json:"subject"`
		StartDateTime string `json:"startDateTime"`
		EndDateTime   string `json:"endDateTime"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
		return
	}
	if in.ExternalID == "" {
		graphError(w, http.StatusBadRequest, "BadRequest", "externalId is required.")
		return
	}
	if m, ok := s.byExternal[in.ExternalID]; ok {
		writeJSON(w, http.StatusOK, m)
		return
	}
	now := time.Now().UTC()
	start, end := now, now.Add(time.Hour)
	for _, f := range []struct {
		v   string
		out *time.Time
	}{{in.StartDateTime, &start}, {in.EndDateTime, &end}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.v)
		if err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid date time value.")
			return
		}
		*f.out = t.UTC()
	}
	if !end.After(start) {
		graphError(w, http.StatusBadRequest, "BadRequest", "The end time must be after the start time.")
		return
	}
	thread := "19:meeting_" + random(32) + "@thread.v2"
	m := &Meeting{
		ID:               base64.StdEncoding.EncodeToString([]byte("1*" + OrganizerID + "*0**" + thread)),
		ExternalID:       in.ExternalID,
		Subject:          in.Subject,
		StartDateTime:    start.Format("2006-01-02T15:04:05.0000000Z"),
		EndDateTime:      end.Format("2006-01-02T15:04:05.0000000Z"),
		CreationDateTime: now.Format("2006-01-02T15:04:05.0000000Z"),
		JoinWebURL: "https://teams.microsoft.com/l/meetup-join/" + url.PathEscape(thread) + "/0?context=" +
			url.QueryEscape(fmt.Sprintf(`{"Tid":"9f4ebab6-520d-49c0-85cc-7b25c78d4a93","Oid":"%s"}`, OrganizerID)),
		VideoTeleconferenceID: random(10),
		JoinMeetingIDSettings: map[string]any{"isPasscodeRequired": true, "joinMeetingId": "1234567890", "passcode": random(6)},
		ChatInfo:              map[string]any{"threadId": thread, "messageId": "0"},
		Participants: map[string]any{"organizer": map[string]any{"upn": "AdeleV@contoso.com", "role": "presenter",
			"identity": map[string]any{"user": map[string]any{"id": OrganizerID, "displayName": "Adele Vance"}}}},
	}
	s.byID[m.ID] = m
	s.byExternal[m.ExternalID] = m
	writeJSON(w, http.StatusCreated, m)
}

// update is PATCH /me/onlineMeetings/{id}: subject, startDateTime and
// endDateTime replace the meeting's and the meeting is answered 200.
// Refused as Graph documents: changing either time needs both ("Adjusting
// the start or end date/time of an online meeting always requires both
// startDateTime and endDateTime", learn.microsoft.com/graph/api/
// onlinemeeting-update), with Graph's error shape (400 BadRequest); an
// unknown meeting is 404 NotFound.
func (s *Server) update(w http.ResponseWriter, id string, body []byte) {
	m, ok := s.byID[id]
	if !ok || m.deleted {
		graphError(w, http.StatusNotFound, "NotFound", messages["NotFound"])
		return
	}
	var in struct {
		Subject       *string `json:"subject"`
		StartDateTime *string `json:"startDateTime"`
		EndDateTime   *string `json:"endDateTime"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		graphError(w, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
		return
	}
	if (in.StartDateTime == nil) != (in.EndDateTime == nil) {
		graphError(w, http.StatusBadRequest, "BadRequest", "Both startDateTime and endDateTime are required to change the meeting's time.")
		return
	}
	if in.StartDateTime != nil {
		start, err1 := time.Parse(time.RFC3339Nano, *in.StartDateTime)
		end, err2 := time.Parse(time.RFC3339Nano, *in.EndDateTime)
		switch {
		case err1 != nil || err2 != nil:
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid date time value.")
			return
		case !end.After(start):
			graphError(w, http.StatusBadRequest, "BadRequest", "The end time must be after the start time.")
			return
		}
		m.StartDateTime = start.UTC().Format("2006-01-02T15:04:05.0000000Z")
		m.EndDateTime = end.UTC().Format("2006-01-02T15:04:05.0000000Z")
	}
	if in.Subject != nil {
		m.Subject = *in.Subject
	}
	writeJSON(w, http.StatusOK, m)
}

func graphBody(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id": "6cc6a868-b05a-44d1-924e-844124b45d1d", "client-request-id": "6cc6a868-b05a-44d1-924e-844124b45d1d"}}})
	return string(b)
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, graphBody(code, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	fakekit.WriteJSONAs(w, "application/json", status, v)
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
