// Package youtubefake is a YouTube Data API v3 (live) test double served
// over HTTP on loopback. It answers the calls Switchboard's youtube client
// makes, at YouTube's real paths (/youtube/v3/...), with YouTube's shapes,
// its broadcast life cycle and its error answers:
//
//   - liveBroadcasts: insert, bind, transition, update (part=snippet), list, delete
//   - liveStreams: insert, list, delete
//   - channels: list (mine=true)
//
// Broadcast life cycle: created -> ready (once bound) -> testing (only with
// the monitor stream on) -> live (transition, only while the bound stream is
// active) -> complete. A transition on an inactive stream answers 403
// errorStreamInactive; to the status the broadcast is in already, 403
// redundantTransition; any other impossible one, 403 invalidTransition.
// enableAutoStart makes a ready broadcast live when its stream becomes
// active; enableAutoStop completes a live one when its stream stops.
// Tests play the encoder with SetStreamActive and PushAll.
//
// An update (PUT /liveBroadcasts) replaces every mutable property of the
// parts it names, as YouTube does: a snippet without a description or an
// end removes them. It refuses what YouTube refuses, with 400 and YouTube's
// reason: no id (idRequired), no title (titleRequired), no
// scheduledStartTime (scheduledStartTimeRequired), a start that is not in
// the future by the fake's clock (invalidScheduledStartTime), an end not
// after the start (invalidScheduledEndTime); a broadcast it does not have
// is 404 liveBroadcastNotFound. Only the snippet part is modelled: another
// part answers 400 saying so, so a client that sends one is seen.
//
// Every call needs Authorization: Bearer <token>; a missing token answers
// 401 "required", a token given to RejectToken 401 "authError".
package youtubefake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations, named as the discovery document names the methods.
const (
	OpBroadcastInsert     = "liveBroadcasts.insert"
	OpBroadcastBind       = "liveBroadcasts.bind"
	OpBroadcastTransition = "liveBroadcasts.transition"
	OpBroadcastList       = "liveBroadcasts.list"
	OpBroadcastUpdate     = "liveBroadcasts.update"
	OpBroadcastDelete     = "liveBroadcasts.delete"
	OpStreamInsert        = "liveStreams.insert"
	OpStreamList          = "liveStreams.list"
	OpStreamDelete        = "liveStreams.delete"
	OpChannelList         = "channels.list"
)

// BasePath is where the API lives on the fake, as on googleapis.com.
const BasePath = "/youtube/v3"

// Request is one request the fake received.
type Request struct {
	Op     string // "" when no operation matched
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	URL    string    // the full URL as received, for contract checks
	At     time.Time // when it arrived: what "on time" is measured by

	Status   int    // the fake's answer
	Response []byte // the fake's answer body
}

// recorder keeps a copy of the answer for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return r.ResponseWriter.Write(b)
}

// Broadcast is a broadcast as the fake holds it.
type Broadcast struct {
	ID, Title, Description          string
	ScheduledStart, ScheduledEnd    string
	PrivacyStatus                   string
	SelfDeclaredMadeForKids         bool
	LifeCycleStatus                 string
	BoundStreamID                   string
	EnableAutoStart, EnableAutoStop bool
	EnableMonitorStream             bool
}

// Stream is a liveStream as the fake holds it.
type Stream struct {
	ID, Title                            string
	IngestionType, Resolution, FrameRate string
	StreamName                           string // the stream key
	StreamStatus                         string // ready, active, inactive
	// Reusable is contentDetails.isReusable: a reusable stream may be
	// bound to many broadcasts; a non-reusable one to one, and it is
	// deleted when that broadcast completes (YouTube "might" delete it:
	// the fake always does, so a client relying on it is caught).
	Reusable bool
}

type failure struct {
	status int
	reason string
}

// Server is the fake.
type Server struct {
	// URL is the API base to give the client: <loopback>/youtube/v3.
	URL string
	srv *httptest.Server

	mu         sync.Mutex
	seq        int
	broadcasts map[string]*Broadcast
	streams    map[string]*Stream
	rec        fakekit.Recorder[Request]
	fails      fakekit.Failures[failure]
	tokens     fakekit.Tokens
	channelID  string
	channel    string
	noChannel  bool
	latency    atomic.Int64 // nanoseconds each answer waits, outside the lock
	now        func() time.Time
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{
		broadcasts: map[string]*Broadcast{}, streams: map[string]*Stream{},
		channelID: "UCfakeChannel000000000001", channel: "Grace Church", now: time.Now,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + BasePath
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// SetClock sets the clock an update's scheduled start is held to the
// future by (tests that move time).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// RejectToken makes a token invalid: calls with it answer 401 authError.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// FailNext makes the next n calls of op answer status with a YouTube error
// of the given reason (quotaExceeded, backendError, liveStreamingNotEnabled,
// ...), with YouTube's message and domain for it.
func (s *Server) FailNext(op string, status int, reason string, n int) {
	s.fails.Add(op, failure{status, reason}, n)
}

// Calls is how many requests op received (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is the request log, oldest first.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// SetChannel names the channel behind every token.
func (s *Server) SetChannel(id, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelID, s.channel, s.noChannel = id, title, false
}

// SetNoChannel makes the account one without a YouTube channel.
func (s *Server) SetNoChannel() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noChannel = true
}

// Broadcast is a copy of a broadcast.
func (s *Server) Broadcast(id string) (Broadcast, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.broadcasts[id]
	if !ok {
		return Broadcast{}, false
	}
	return *b, true
}

// Stream is a copy of a stream.
func (s *Server) Stream(id string) (Stream, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[id]
	if !ok {
		return Stream{}, false
	}
	return *st, true
}

// Counts is how many broadcasts and streams exist.
func (s *Server) Counts() (broadcasts, streams int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.broadcasts), len(s.streams)
}

// SetStreamActive plays the encoder: active true is an encoder pushing to
// the stream, false one that stopped.
func (s *Server) SetStreamActive(streamID string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[streamID]; ok {
		s.setActive(st, active)
	}
}

// PushAll makes every stream active, as if the encoder pushed to each.
func (s *Server) PushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.streams {
		s.setActive(st, true)
	}
}

func (s *Server) setActive(st *Stream, active bool) {
	if active {
		st.StreamStatus = "active"
	} else if st.StreamStatus == "active" {
		st.StreamStatus = "inactive"
	}
	for _, b := range s.broadcasts {
		if b.BoundStreamID != st.ID {
			continue
		}
		switch {
		case active && b.EnableAutoStart && b.LifeCycleStatus == "ready":
			b.LifeCycleStatus = "live"
		case !active && b.EnableAutoStop && b.LifeCycleStatus == "live":
			b.LifeCycleStatus = "complete"
		}
	}
}

func (s *Server) newID(n int) string {
	s.seq++
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%03d%s", s.seq, hex.EncodeToString(b[:]))
	return id[:n]
}

func streamName() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:4] + "-" + h[4:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20]
}

var statusNames = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
}

// messages are YouTube's words and domain for its error reasons.
var messages = map[string][2]string{
	"quotaExceeded":               {"youtube.quota", `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`},
	"dailyLimitExceeded":          {"usageLimits", "Daily Limit Exceeded"},
	"userRequestsExceedRateLimit": {"usageLimits", "User Rate Limit Exceeded"},
	"rateLimitExceeded":           {"usageLimits", "Rate Limit Exceeded"},
	"liveStreamingNotEnabled":     {"youtube.liveBroadcast", "The user is not enabled for live streaming."},
	"insufficientLivePermissions": {"youtube.liveBroadcast", "Request is not authorized"},
	"forbidden":                   {"global", "Forbidden"},
	"backendError":                {"global", "Backend Error"},
	"authError":                   {"global", "Invalid Credentials"},
	"liveBroadcastNotFound":       {"youtube.liveBroadcast", "Broadcast not found"},
	"liveStreamNotFound":          {"youtube.liveStream", "Stream not found"},
	"errorStreamInactive":         {"youtube.liveBroadcast", "Stream is inactive"},
	"invalidTransition":           {"youtube.liveBroadcast", "Invalid transition"},
	"redundantTransition":         {"youtube.liveBroadcast", "Redundant transition"},
}

// writeError answers YouTube's error shape.
func writeError(w http.ResponseWriter, status int, reason, message string) {
	domain := "global"
	if m, ok := messages[reason]; ok {
		domain = m[0]
		if message == "" {
			message = m[1]
		}
	}
	if message == "" {
		message = reason
	}
	st := statusNames[status]
	if st == "" {
		st = "UNKNOWN"
	}
	fakekit.WriteJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": message, "status": st,
		"errors": []map[string]any{{"message": message, "domain": domain, "reason": reason}},
	}})
}

func route(method, p string) string {
	switch p {
	case "/liveBroadcasts":
		switch method {
		case http.MethodPost:
			return OpBroadcastInsert
		case http.MethodGet:
			return OpBroadcastList
		case http.MethodDelete:
			return OpBroadcastDelete
		case http.MethodPut:
			return OpBroadcastUpdate
		}
	case "/liveBroadcasts/bind":
		if method == http.MethodPost {
			return OpBroadcastBind
		}
	case "/liveBroadcasts/transition":
		if method == http.MethodPost {
			return OpBroadcastTransition
		}
	case "/liveStreams":
		switch method {
		case http.MethodPost:
			return OpStreamInsert
		case http.MethodGet:
			return OpStreamList
		case http.MethodDelete:
			return OpStreamDelete
		}
	case "/channels":
		if method == http.MethodGet {
			return OpChannelList
		}
	}
	return ""
}

// SetLatency makes every answer wait d before it is worked out, as a
// distant API would (benchmarks); requests wait in parallel.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if d := time.Duration(s.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	op := ""
	if rel, ok := strings.CutPrefix(r.URL.Path, BasePath); ok {
		op = route(r.Method, rel)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.rec.Log(Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		URL: "http://" + r.Host + r.URL.RequestURI(), At: arrived})
	w := &recorder{ResponseWriter: rw}
	defer s.rec.Update(i, func(q *Request) { q.Status, q.Response = w.status, w.body })
	if op == "" {
		writeError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	s.rec.Count(op)

	tok, hasBearer := fakekit.Bearer(r)
	switch {
	case !hasBearer:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		fakekit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code":    401,
			"message": "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
			"errors": []map[string]any{{"message": "Login Required.", "domain": "global", "reason": "required",
				"location": "Authorization", "locationType": "header"}},
			"status": "UNAUTHENTICATED",
		}})
		return
	case s.tokens.Rejected(tok):
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		fakekit.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code":    401,
			"message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
			"errors": []map[string]any{{"message": "Invalid Credentials", "domain": "global", "reason": "authError",
				"location": "Authorization", "locationType": "header"}},
			"status": "UNAUTHENTICATED",
		}})
		return
	}
	if f, ok := s.fails.Next(op); ok {
		writeError(w, f.status, f.reason, "")
		return
	}

	q := r.URL.Query()
	parts, ok := s.parts(w, op, q)
	if !ok {
		return
	}
	switch op {
	case OpBroadcastInsert:
		s.insertBroadcast(w, body, parts)
	case OpBroadcastUpdate:
		s.updateBroadcast(w, body, parts)
	case OpStreamInsert:
		s.insertStream(w, body, parts)
	case OpBroadcastBind:
		s.bind(w, q, parts)
	case OpBroadcastTransition:
		s.transition(w, q, parts)
	case OpBroadcastList:
		items := []any{}
		for _, id := range ids(q) {
			if b, ok := s.broadcasts[id]; ok {
				items = append(items, broadcastJSON(b, parts))
			}
		}
		fakekit.WriteJSON(w, http.StatusOK, listJSON("youtube#liveBroadcastListResponse", items))
	case OpStreamList:
		items := []any{}
		for _, id := range ids(q) {
			if st, ok := s.streams[id]; ok {
				items = append(items, streamJSON(st, parts))
			}
		}
		fakekit.WriteJSON(w, http.StatusOK, listJSON("youtube#liveStreamListResponse", items))
	case OpBroadcastDelete:
		id := q.Get("id")
		if _, ok := s.broadcasts[id]; !ok {
			writeError(w, http.StatusNotFound, "liveBroadcastNotFound", "")
			return
		}
		delete(s.broadcasts, id)
		w.WriteHeader(http.StatusNoContent)
	case OpStreamDelete:
		id := q.Get("id")
		if _, ok := s.streams[id]; !ok {
			writeError(w, http.StatusNotFound, "liveStreamNotFound", "")
			return
		}
		delete(s.streams, id)
		w.WriteHeader(http.StatusNoContent)
	case OpChannelList:
		if q.Get("mine") != "true" && q.Get("id") == "" {
			writeError(w, http.StatusBadRequest, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, forUsername, forHandle, managedByMe, categoryId")
			return
		}
		items := []any{}
		if !s.noChannel {
			ch := map[string]any{"kind": "youtube#channel", "etag": "e", "id": s.channelID}
			if parts["snippet"] {
				ch["snippet"] = map[string]any{"title": s.channel, "description": "", "customUrl": "@gracechurch",
					"publishedAt": "2015-03-01T10:00:00Z"}
			}
			items = append(items, ch)
		}
		fakekit.WriteJSON(w, http.StatusOK, listJSON("youtube#channelListResponse", items))
	}
}

var validParts = map[string][]string{
	OpBroadcastInsert:     {"id", "snippet", "contentDetails", "status", "monetizationDetails"},
	OpBroadcastBind:       {"id", "snippet", "contentDetails", "status"},
	OpBroadcastUpdate:     {"id", "snippet", "contentDetails", "status", "monetizationDetails"},
	OpBroadcastTransition: {"id", "snippet", "contentDetails", "status"},
	OpBroadcastList:       {"id", "snippet", "contentDetails", "status", "statistics", "monetizationDetails"},
	OpStreamInsert:        {"id", "snippet", "cdn", "contentDetails", "status"},
	OpStreamList:          {"id", "snippet", "cdn", "contentDetails", "status"},
	OpChannelList:         {"id", "snippet", "contentDetails", "statistics", "status", "brandingSettings"},
}

// parts reads the part parameter where the method takes one: it is
// required, and each part must be one the method knows.
func (s *Server) parts(w http.ResponseWriter, op string, q url.Values) (map[string]bool, bool) {
	valid, takes := validParts[op]
	if !takes {
		return nil, true
	}
	raw := strings.Join(q["part"], ",")
	if raw == "" {
		writeError(w, http.StatusBadRequest, "required", "Required parameter: part")
		return nil, false
	}
	out := map[string]bool{}
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(valid, p) {
			writeError(w, http.StatusBadRequest, "unexpectedPart", "'"+p+"'")
			return nil, false
		}
		out[p] = true
	}
	return out, true
}

func ids(q url.Values) []string {
	var out []string
	for _, v := range q["id"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, id)
			}
		}
	}
	return out
}

func listJSON(kind string, items []any) map[string]any {
	return map[string]any{"kind": kind, "etag": "e", "items": items,
		"pageInfo": map[string]any{"totalResults": len(items), "resultsPerPage": 5}}
}

func broadcastJSON(b *Broadcast, parts map[string]bool) map[string]any {
	out := map[string]any{"kind": "youtube#liveBroadcast", "etag": "e", "id": b.ID}
	if parts["snippet"] {
		sn := map[string]any{"title": b.Title, "description": b.Description, "scheduledStartTime": b.ScheduledStart,
			"channelId": "UCfakeChannel000000000001", "publishedAt": "2026-01-01T00:00:00Z", "isDefaultBroadcast": false,
			"liveChatId": "chat-" + b.ID}
		if b.ScheduledEnd != "" {
			sn["scheduledEndTime"] = b.ScheduledEnd
		}
		out["snippet"] = sn
	}
	if parts["status"] {
		out["status"] = map[string]any{"lifeCycleStatus": b.LifeCycleStatus, "privacyStatus": b.PrivacyStatus,
			"recordingStatus": "notRecording", "madeForKids": b.SelfDeclaredMadeForKids,
			"selfDeclaredMadeForKids": b.SelfDeclaredMadeForKids}
	}
	if parts["contentDetails"] {
		cd := map[string]any{"enableAutoStart": b.EnableAutoStart, "enableAutoStop": b.EnableAutoStop,
			"monitorStream": map[string]any{"enableMonitorStream": b.EnableMonitorStream, "broadcastStreamDelayMs": 0},
			"enableDvr":     true, "enableEmbed": true, "recordFromStart": true, "latencyPreference": "normal"}
		if b.BoundStreamID != "" {
			cd["boundStreamId"] = b.BoundStreamID
			cd["boundStreamLastUpdateTimeMs"] = time.Now().UTC().Format(time.RFC3339)
		}
		out["contentDetails"] = cd
	}
	return out
}

func streamJSON(st *Stream, parts map[string]bool) map[string]any {
	out := map[string]any{"kind": "youtube#liveStream", "etag": "e", "id": st.ID}
	if parts["snippet"] {
		out["snippet"] = map[string]any{"title": st.Title, "channelId": "UCfakeChannel000000000001",
			"publishedAt": "2026-01-01T00:00:00Z", "isDefaultStream": false}
	}
	if parts["cdn"] {
		out["cdn"] = map[string]any{"ingestionType": st.IngestionType, "resolution": st.Resolution, "frameRate": st.FrameRate,
			"ingestionInfo": map[string]any{
				"streamName":                  st.StreamName,
				"ingestionAddress":            "rtmp://a.rtmp.youtube.com/live2",
				"backupIngestionAddress":      "rtmp://b.rtmp.youtube.com/live2?backup=1",
				"rtmpsIngestionAddress":       "rtmps://a.rtmps.youtube.com/live2",
				"rtmpsBackupIngestionAddress": "rtmps://b.rtmps.youtube.com/live2?backup=1",
			}}
	}
	if parts["contentDetails"] {
		out["contentDetails"] = map[string]any{"isReusable": st.Reusable,
			"closedCaptionsIngestionUrl": "http://upload.youtube.com/closedcaption?cid=" + st.ID}
	}
	if parts["status"] {
		out["status"] = map[string]any{"streamStatus": st.StreamStatus,
			"healthStatus": map[string]any{"status": map[bool]string{true: "good", false: "noData"}[st.StreamStatus == "active"]}}
	}
	return out
}

func (s *Server) insertBroadcast(w http.ResponseWriter, body []byte, parts map[string]bool) {
	var in struct {
		Snippet struct {
			Title, Description, ScheduledStartTime, ScheduledEndTime string
		}
		Status struct {
			PrivacyStatus           string
			SelfDeclaredMadeForKids bool
		}
		ContentDetails struct {
			EnableAutoStart, EnableAutoStop *bool
			MonitorStream                   *struct{ EnableMonitorStream bool }
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	if strings.TrimSpace(in.Snippet.Title) == "" {
		writeError(w, http.StatusBadRequest, "titleRequired", "The request metadata must specify a title.")
		return
	}
	if len([]rune(in.Snippet.Title)) > 100 || strings.ContainsAny(in.Snippet.Title, "<>") {
		writeError(w, http.StatusBadRequest, "invalidTitle", "The request metadata specifies an invalid broadcast title.")
		return
	}
	if in.Snippet.ScheduledStartTime == "" {
		writeError(w, http.StatusBadRequest, "scheduledStartTimeRequired", "The request must specify a scheduled start time.")
		return
	}
	start, err := time.Parse(time.RFC3339, in.Snippet.ScheduledStartTime)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalidScheduledStartTime", "The scheduled start time is invalid.")
		return
	}
	if in.Snippet.ScheduledEndTime != "" {
		end, err := time.Parse(time.RFC3339, in.Snippet.ScheduledEndTime)
		if err != nil || !end.After(start) {
			writeError(w, http.StatusBadRequest, "invalidScheduledEndTime", "The scheduled end time must be after the scheduled start time.")
			return
		}
	}
	switch in.Status.PrivacyStatus {
	case "public", "unlisted", "private":
	default:
		writeError(w, http.StatusBadRequest, "invalidPrivacyStatus", "The request metadata specifies an invalid privacy status.")
		return
	}
	b := &Broadcast{
		ID: s.newID(11), Title: in.Snippet.Title, Description: in.Snippet.Description,
		ScheduledStart: in.Snippet.ScheduledStartTime, ScheduledEnd: in.Snippet.ScheduledEndTime,
		PrivacyStatus: in.Status.PrivacyStatus, SelfDeclaredMadeForKids: in.Status.SelfDeclaredMadeForKids,
		LifeCycleStatus: "created", EnableAutoStart: true, EnableAutoStop: false, EnableMonitorStream: true,
	}
	// YouTube's defaults: auto start on, auto stop off ("The default value
	// for this property is false": youtube-v3-discovery.json
	// LiveBroadcastContentDetails.enableAutoStop), monitor stream on.
	if p := in.ContentDetails.EnableAutoStart; p != nil {
		b.EnableAutoStart = *p
	}
	if p := in.ContentDetails.EnableAutoStop; p != nil {
		b.EnableAutoStop = *p
	}
	if m := in.ContentDetails.MonitorStream; m != nil {
		b.EnableMonitorStream = m.EnableMonitorStream
	}
	s.broadcasts[b.ID] = b
	fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
}

// updateBroadcast is liveBroadcasts.update: the parts named replace the
// broadcast's (see the package doc); only the snippet is modelled.
func (s *Server) updateBroadcast(w http.ResponseWriter, body []byte, parts map[string]bool) {
	for p := range parts {
		if p != "id" && p != "snippet" {
			writeError(w, http.StatusBadRequest, "invalidValue", "the fake models updating the snippet part only, not "+p)
			return
		}
	}
	var in struct {
		ID      string `json:"id"`
		Snippet *struct {
			Title, Description, ScheduledStartTime, ScheduledEndTime string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	if in.ID == "" {
		writeError(w, http.StatusBadRequest, "idRequired", "The request metadata must specify the id of the broadcast to update.")
		return
	}
	b, ok := s.broadcasts[in.ID]
	if !ok {
		writeError(w, http.StatusNotFound, "liveBroadcastNotFound", "")
		return
	}
	if !parts["snippet"] {
		fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
		return
	}
	sn := in.Snippet
	switch {
	case sn == nil || strings.TrimSpace(sn.Title) == "":
		writeError(w, http.StatusBadRequest, "titleRequired", "The request metadata must specify a title.")
		return
	case len([]rune(sn.Title)) > 100 || strings.ContainsAny(sn.Title, "<>"):
		writeError(w, http.StatusBadRequest, "invalidTitle", "The request metadata specifies an invalid broadcast title.")
		return
	case sn.ScheduledStartTime == "":
		writeError(w, http.StatusBadRequest, "scheduledStartTimeRequired", "The request must specify a scheduled start time.")
		return
	}
	start, err := time.Parse(time.RFC3339, sn.ScheduledStartTime)
	if err != nil || !start.After(s.now()) {
		writeError(w, http.StatusBadRequest, "invalidScheduledStartTime", "The scheduled start time must be in the future.")
		return
	}
	if sn.ScheduledEndTime != "" {
		end, err := time.Parse(time.RFC3339, sn.ScheduledEndTime)
		if err != nil || !end.After(start) {
			writeError(w, http.StatusBadRequest, "invalidScheduledEndTime", "The scheduled end time must be after the scheduled start time.")
			return
		}
	}
	b.Title, b.Description, b.ScheduledStart, b.ScheduledEnd = sn.Title, sn.Description, sn.ScheduledStartTime, sn.ScheduledEndTime
	fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
}

func (s *Server) insertStream(w http.ResponseWriter, body []byte, parts map[string]bool) {
	var in struct {
		Snippet        struct{ Title string }
		CDN            struct{ IngestionType, Resolution, FrameRate, Format string } `json:"cdn"`
		ContentDetails struct{ IsReusable *bool }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error")
		return
	}
	if strings.TrimSpace(in.Snippet.Title) == "" {
		writeError(w, http.StatusBadRequest, "titleRequired", "The request metadata must specify a title.")
		return
	}
	if in.CDN.IngestionType == "" {
		writeError(w, http.StatusBadRequest, "ingestionTypeRequired", "The ingestion type is required.")
		return
	}
	if in.CDN.Format == "" && (in.CDN.Resolution == "" || in.CDN.FrameRate == "") {
		writeError(w, http.StatusBadRequest, "resolutionRequired", "The resolution and frame rate are required.")
		return
	}
	st := &Stream{ID: "S" + s.newID(23), Title: in.Snippet.Title, IngestionType: in.CDN.IngestionType,
		Resolution: in.CDN.Resolution, FrameRate: in.CDN.FrameRate, StreamName: streamName(), StreamStatus: "ready", Reusable: true}
	// "If you set this value to false, then the stream will not be reusable": reusable unless told so
	// (youtube-v3-discovery.json LiveStreamContentDetails.isReusable). A write sets only the parts
	// its part parameter names ("identifies the properties that the write operation will set",
	// liveStreams.insert's part parameter), so isReusable without contentDetails there is ignored.
	if p := in.ContentDetails.IsReusable; p != nil && parts["contentDetails"] {
		st.Reusable = *p
	}
	s.streams[st.ID] = st
	fakekit.WriteJSON(w, http.StatusOK, streamJSON(st, parts))
}

func (s *Server) bind(w http.ResponseWriter, q url.Values, parts map[string]bool) {
	b, ok := s.broadcasts[q.Get("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "liveBroadcastNotFound", "")
		return
	}
	sid := q.Get("streamId")
	if sid == "" { // no stream: unbind
		b.BoundStreamID = ""
		if b.LifeCycleStatus == "ready" {
			b.LifeCycleStatus = "created"
		}
		fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
		return
	}
	st, ok := s.streams[sid]
	if !ok {
		writeError(w, http.StatusNotFound, "liveStreamNotFound", "")
		return
	}
	if !st.Reusable {
		for _, other := range s.broadcasts {
			if other.ID != b.ID && other.BoundStreamID == sid {
				// "A non-reusable stream can only be bound to one broadcast"; the error YouTube gives is
				// not documented: the fake answers the documented bind refusal.
				writeError(w, http.StatusForbidden, "liveBroadcastBindingNotAllowed", "The stream is not reusable and is bound to another broadcast.")
				return
			}
		}
	}
	if b.LifeCycleStatus != "created" && b.LifeCycleStatus != "ready" {
		writeError(w, http.StatusForbidden, "invalidTransition", "The broadcast cannot be bound in its current state.")
		return
	}
	b.BoundStreamID = sid
	b.LifeCycleStatus = "ready"
	fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
}

func (s *Server) transition(w http.ResponseWriter, q url.Values, parts map[string]bool) {
	to := q.Get("broadcastStatus")
	if to != "testing" && to != "live" && to != "complete" {
		writeError(w, http.StatusBadRequest, "invalidValue", "Invalid value for broadcastStatus")
		return
	}
	b, ok := s.broadcasts[q.Get("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "liveBroadcastNotFound", "")
		return
	}
	if b.LifeCycleStatus == to {
		writeError(w, http.StatusForbidden, "redundantTransition", "")
		return
	}
	active := false
	if st, ok := s.streams[b.BoundStreamID]; ok {
		active = st.StreamStatus == "active"
	}
	switch to {
	case "testing":
		if b.LifeCycleStatus != "ready" || !b.EnableMonitorStream {
			writeError(w, http.StatusForbidden, "invalidTransition", "")
			return
		}
		if !active {
			writeError(w, http.StatusForbidden, "errorStreamInactive", "")
			return
		}
	case "live":
		if b.LifeCycleStatus != "testing" && !(b.LifeCycleStatus == "ready" && !b.EnableMonitorStream) {
			writeError(w, http.StatusForbidden, "invalidTransition", "")
			return
		}
		if !active {
			writeError(w, http.StatusForbidden, "errorStreamInactive", "")
			return
		}
	case "complete":
		if b.LifeCycleStatus != "live" && b.LifeCycleStatus != "testing" {
			writeError(w, http.StatusForbidden, "invalidTransition", "")
			return
		}
	}
	b.LifeCycleStatus = to
	if st, ok := s.streams[b.BoundStreamID]; ok && to == "complete" && !st.Reusable {
		delete(s.streams, st.ID) // "might be deleted by an automated process after the broadcast ends"
	}
	fakekit.WriteJSON(w, http.StatusOK, broadcastJSON(b, parts))
}

// BroadcastIDs lists the broadcasts' ids, sorted.
func (s *Server) BroadcastIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.broadcasts))
	for id := range s.broadcasts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
