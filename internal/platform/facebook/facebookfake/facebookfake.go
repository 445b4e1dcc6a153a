// Package facebookfake is a Graph API (v21.0) live video test double served
// over HTTP on loopback. It answers the calls Switchboard's facebook client
// makes, at Graph's paths (/v21.0/...), with Graph's shapes and its error
// answer {"error":{"message","type","code","error_subcode","fbtrace_id"}}:
//
//   - GET /me?fields=id,name, GET /me/accounts (Pages with their tokens, paged)
//   - POST /{user-or-page}/live_videos (the SDK's create_live_video parameters)
//   - POST /{id} (the SDK's LiveVideo update parameters: status, planned_start_time, end_live_video...)
//   - GET /{id}?fields=status, DELETE /{id}
//   - GET /oauth/access_token?grant_type=fb_exchange_token (long-lived token exchange)
//   - DELETE /me/permissions (the whole grant), DELETE /me/permissions/{name}
//     (one permission): see Grant
//
// It refuses what Graph refuses, with code 100 (invalid parameter): a
// parameter the SDK does not declare for the call (CreateParams,
// UpdateParams: facebook-python-business-sdk @94914f9d page.py, user.py
// create_live_video and livevideo.py api_update, as in
// shared/specs/facebook-livevideo-params.json), an enum value outside its
// enum, and planned_start_time on create (developers.facebook.com/docs/
// live-video-api/guides/scheduling: "will return an error"; scheduling on
// create takes event_params). A Page's live videos need that Page's access
// token (developers.facebook.com/docs/live-video-api getting started): a
// user token there is refused with code 210 ("A page access token is
// required"), another Page's token with code 200.
//
// Live video states: UNPUBLISHED (or SCHEDULED_UNPUBLISHED) at creation,
// SCHEDULED_UNPUBLISHED after an update with planned_start_time -> LIVE
// once published (LIVE_NOW) while the encoder pushes (either order) ->
// LIVE_STOPPED on end_live_video (VOD, PROCESSING and SCHEDULED_EXPIRED can
// be set with SetStatus); a scheduled video can be SCHEDULED_CANCELED.
// planned_start_time must be 10 minutes to 7 days ahead ("(#100) invalid
// planned start time"). Tests play the encoder with SetStreaming and PushAll.
//
// Every call but the token exchange needs Authorization: Bearer <token>;
// Graph answers a missing token with code 104 and a bad one (RejectToken)
// with OAuthException code 190, both with HTTP 400 as Graph does. A token
// AddPage handed out acts as that Page (/me is the Page); any other token
// acts as the user.
package facebookfake

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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations.
const (
	OpMe          = "me"
	OpAccounts    = "me.accounts"
	OpCreate      = "live_videos.create"
	OpUpdate      = "live_video.update" // POST /{id}: status or end_live_video
	OpGet         = "live_video.get"
	OpDelete      = "live_video.delete"
	OpExchange    = "oauth.access_token"
	OpRevoke      = "me.permissions.delete" // DELETE /me/permissions: the user's grant of the app is withdrawn
	OpPermissions = "me.permissions"        // GET /me/permissions: what the user granted and declined
	Version       = "v21.0"
	UserID        = "100012345678901"
	defaultSecret = "fake-app-secret"
)

// Request is one request the fake received. Form merges the query and a
// form body, as Graph reads them.
type Request struct {
	Op     string
	Method string
	Path   string
	Query  url.Values
	Form   url.Values
	Body   []byte
	URL    string
	Token  string // the bearer token sent (tests check which token went where)
}

// LiveVideo is a live video as the fake holds it. Target is the node of
// the create's path ("me", the user id or a Page id); Page is the Page it
// belongs to ("" for the user's).
type LiveVideo struct {
	ID, Target, Page, Title, Description string
	Status                               string
	PlannedStart                         int64
	EventParams                          string // the create's event_params, as sent
	Published                            bool   // LIVE_NOW was asked: live as soon as the encoder pushes
	Streaming                            bool
	StreamKey                            string
	// PersistentKey is the persistent stream key enabled on the video
	// (persistent_stream_key_status ENABLE); "" when none.
	PersistentKey string
}

// The parameters Graph takes, by call: the SDK's param_types at
// facebook-python-business-sdk @94914f9d (page.py and user.py
// create_live_video, livevideo.py api_update), the same lists as
// shared/specs/facebook-livevideo-params.json (the client's tests hold
// them equal). planned_start_time is in the update's list only.
var (
	userCreateParams = []string{"content_tags", "description", "enable_backup_ingest", "encoding_settings", "event_params",
		"fisheye_video_cropped", "front_z_rotation", "is_audio_only", "is_spherical", "original_fov", "privacy", "projection",
		"published", "schedule_custom_profile_image", "spatial_audio_format", "status", "stereoscopic_mode",
		"stop_on_delete_stream", "stream_type", "title"}
	pageOnlyCreateParams = []string{"crossposting_actions", "custom_labels", "game_show", "targeting"}
	updateParams         = []string{"allow_bm_crossposting", "content_tags", "cross_share_to_group_ids", "crossposting_actions",
		"custom_labels", "description", "direct_share_status", "embeddable", "end_live_video", "event_params", "is_audio_only",
		"is_manual_mode", "live_comment_moderation_setting", "master_ingest_stream_id", "og_icon_id", "og_phrase",
		"persistent_stream_key_status", "place", "planned_start_time", "privacy", "published", "schedule_custom_profile_image",
		"schedule_feed_background_image", "sponsor_id", "sponsor_relationship", "status", "stream_type", "tags", "targeting", "title"}
	// enums are the LiveVideo enums the calls use, by parameter (the
	// SDK's nested classes; the same values on create and update).
	enums = map[string][]string{
		"status":                          {"LIVE_NOW", "SCHEDULED_CANCELED", "SCHEDULED_LIVE", "SCHEDULED_UNPUBLISHED", "UNPUBLISHED"},
		"stream_type":                     {"AMBIENT", "REGULAR"},
		"projection":                      {"CUBEMAP", "EQUIRECTANGULAR", "HALF_EQUIRECTANGULAR"},
		"stereoscopic_mode":               {"LEFT_RIGHT", "MONO", "MULTI_VIEW", "TOP_BOTTOM"},
		"spatial_audio_format":            {"ambiX_4"},
		"persistent_stream_key_status":    {"DISABLE", "ENABLE", "REGENERATE"},
		"live_comment_moderation_setting": {"DEFAULT", "DISCUSSION", "FOLLOWED", "FOLLOWER", "NO_HYPERLINK", "PROTECTED_MODE", "RESTRICTED", "SLOW", "SUPPORTER", "TAGGED"},
	}
)

// CreateParams lists the parameters a create on a Page (page) or a user
// takes, sorted.
func CreateParams(page bool) []string {
	out := slices.Clone(userCreateParams)
	if page {
		out = append(out, pageOnlyCreateParams...)
	}
	slices.Sort(out)
	return out
}

// UpdateParams lists the parameters an update takes, sorted.
func UpdateParams() []string {
	out := slices.Clone(updateParams)
	slices.Sort(out)
	return out
}

// Enum is the values Graph takes for an enum parameter (nil: not an enum).
func Enum(param string) []string { return slices.Clone(enums[param]) }

// Error is a Graph error answer.
type Error struct {
	Message string
	Type    string
	Code    int
	Subcode int
}

type failure struct {
	status int
	err    Error
}

type page struct{ id, name, token string }

// Server is the fake.
type Server struct {
	URL      string // the API base to give the client: <loopback>/v21.0
	TokenURL string // the token endpoint: <loopback>/v21.0/oauth/access_token
	srv      *httptest.Server

	mu           sync.Mutex
	seq          int
	videos       map[string]*LiveVideo
	rec          fakekit.Recorder[Request]
	fails        fakekit.Failures[failure]
	tokens       fakekit.Tokens
	grant        *Grant
	pages        []page
	userName     string
	clientID     string
	clientSecret string
	now          func() time.Time
	persistent   map[string]string // the persistent stream key by owner (a Page id, "" for the user)
	noPersistent map[string]bool   // owners Graph refuses a persistent stream key (DenyPersistentKey)
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{
		videos: map[string]*LiveVideo{}, persistent: map[string]string{}, noPersistent: map[string]bool{},
		userName: "Grace Church Media", clientID: "fake-app-id", clientSecret: defaultSecret, now: time.Now,
	}
	s.grant = NewGrant()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/" + Version
	s.TokenURL = s.URL + "/oauth/access_token"
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// SetApp sets the app id and secret the token exchange accepts.
func (s *Server) SetApp(clientID, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clientID, s.clientSecret = clientID, clientSecret
}

// AddPage adds a Page the user manages, with its Page token.
func (s *Server) AddPage(id, name, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, page{id, name, token})
}

// PageToken is the access token AddPage gave a Page.
func (s *Server) PageToken(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.page(id)
	return p.token, ok
}

// DenyPersistentKey makes Graph refuse a persistent stream key on the
// live videos of owner (a Page id; "" for the user's own), with its
// permissions error (code 200), as for a Page that may not use one.
func (s *Server) DenyPersistentKey(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noPersistent[owner] = true
}

// PersistentKey is owner's persistent stream key ("" before one was
// enabled).
func (s *Server) PersistentKey(owner string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.persistent[owner]
}

// RejectToken makes a token invalid: calls with it answer code 190.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

// Graph's words for its common codes.
var messages = map[int]Error{
	1:   {Message: "An unknown error occurred", Type: "OAuthException"},
	2:   {Message: "An unexpected error has occurred. Please retry your request later.", Type: "OAuthException"},
	4:   {Message: "(#4) Application request limit reached", Type: "OAuthException"},
	10:  {Message: "(#10) Application does not have permission for this action", Type: "OAuthException"},
	17:  {Message: "(#17) User request limit reached", Type: "OAuthException"},
	32:  {Message: "(#32) Page request limit reached", Type: "OAuthException"},
	100: {Message: "(#100) Invalid parameter", Type: "OAuthException"},
	190: {Message: "Error validating access token: Session has expired.", Type: "OAuthException", Subcode: 463},
	200: {Message: "(#200) Permissions error", Type: "OAuthException"},
	613: {Message: "(#613) Calls to this api have exceeded the rate limit.", Type: "OAuthException"},
}

// messageFor is Graph's error for code.
func messageFor(code int) Error {
	e, ok := messages[code]
	if !ok {
		e = Error{Message: fmt.Sprintf("(#%d) Error", code), Type: "OAuthException"}
	}
	e.Code = code
	return e
}

// FailNext makes the next n calls of op answer status with Graph's error
// for code (17 throttling, 190 expired token, 200 permissions...).
func (s *Server) FailNext(op string, status, code, n int) {
	s.FailNextWith(op, status, messageFor(code), n)
}

// FailNextWith makes the next n calls of op answer status with e.
func (s *Server) FailNextWith(op string, status int, e Error, n int) {
	s.fails.Add(op, failure{status, e}, n)
}

// Calls is how many requests op received (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is the request log, oldest first.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// Video is a copy of a live video.
func (s *Server) Video(id string) (LiveVideo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.videos[id]
	if !ok {
		return LiveVideo{}, false
	}
	return *v, true
}

// VideosOn lists the ids of the live videos of a Page ("" for the
// user's), sorted.
func (s *Server) VideosOn(page string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, v := range s.videos {
		if v.Page == page {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Videos is how many live videos exist.
func (s *Server) Videos() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.videos)
}

// SetStatus forces a video's status (VOD, PROCESSING, SCHEDULED_EXPIRED...).
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.videos[id]; ok {
		v.Status = status
	}
}

// SetStreaming plays the encoder for one video. A published video goes
// LIVE when the encoder pushes; one that stops pushing stays LIVE until it
// is ended (Facebook waits for the encoder to come back).
func (s *Server) SetStreaming(id string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.videos[id]; ok {
		v.Streaming = on
		settle(v)
	}
}

// PushAll makes the encoder push to every video.
func (s *Server) PushAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.videos {
		v.Streaming = true
		settle(v)
	}
}

func ended(status string) bool {
	switch status {
	case "LIVE_STOPPED", "PROCESSING", "VOD", "SCHEDULED_CANCELED", "SCHEDULED_EXPIRED":
		return true
	}
	return false
}

func settle(v *LiveVideo) {
	if v.Published && v.Streaming && !ended(v.Status) {
		v.Status = "LIVE"
	}
}

func (s *Server) trace() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "A" + hex.EncodeToString(b[:])
}

func (s *Server) writeError(w http.ResponseWriter, status int, e Error) {
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	body := map[string]any{"message": e.Message, "type": e.Type, "code": e.Code, "fbtrace_id": s.trace()}
	if e.Subcode != 0 {
		body["error_subcode"] = e.Subcode
	}
	if e.Code == 190 || e.Code == 104 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+e.Message+`"`)
	}
	fakekit.WriteJSON(w, status, map[string]any{"error": body})
}

func notFound(id string) Error {
	return Error{Code: 100, Subcode: 33, Type: "GraphMethodException",
		Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id)}
}

func invalid(msg string) Error {
	return Error{Code: 100, Type: "OAuthException", Message: "(#100) " + msg}
}

func route(method string, segs []string) string {
	switch {
	case len(segs) == 1 && segs[0] == "me" && method == http.MethodGet:
		return OpMe
	case len(segs) == 2 && segs[0] == "me" && segs[1] == "accounts" && method == http.MethodGet:
		return OpAccounts
	case len(segs) == 2 && isUser(segs[0]) && segs[1] == "permissions" && method == http.MethodDelete:
		return OpRevoke
	case len(segs) == 2 && isUser(segs[0]) && segs[1] == "permissions" && method == http.MethodGet:
		return OpPermissions
	case len(segs) == 3 && isUser(segs[0]) && segs[1] == "permissions" && segs[2] != "" && method == http.MethodDelete:
		return OpRevokePermission
	case len(segs) == 2 && segs[0] == "oauth" && segs[1] == "access_token" && method == http.MethodGet:
		return OpExchange
	case len(segs) == 2 && segs[1] == "live_videos" && method == http.MethodPost:
		return OpCreate
	case len(segs) == 1 && segs[0] != "me":
		switch method {
		case http.MethodPost:
			return OpUpdate
		case http.MethodGet:
			return OpGet
		case http.MethodDelete:
			return OpDelete
		}
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	_ = r.ParseForm()
	rel, _ := strings.CutPrefix(r.URL.Path, "/"+Version+"/")
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	op := ""
	if strings.HasPrefix(r.URL.Path, "/"+Version+"/") {
		op = route(r.Method, segs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bearer, _ := fakekit.Bearer(r)
	s.rec.Log(Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Form: r.Form, Body: body,
		URL: "http://" + r.Host + r.URL.RequestURI(), Token: strings.TrimSpace(bearer)})
	if op == "" {
		s.writeError(w, http.StatusBadRequest, Error{Code: 2500, Type: "OAuthException", Message: "Unknown path components: /" + rel})
		return
	}
	s.rec.Count(op)

	owner := ""
	if op != OpExchange {
		tok, hasBearer := fakekit.Bearer(r)
		owner = s.ownerOf(strings.TrimSpace(tok))
		switch {
		case !hasBearer:
			s.writeError(w, http.StatusBadRequest, Error{Code: 104, Type: "OAuthException", Message: "An access token is required to request this resource."})
			return
		case s.tokens.Rejected(strings.TrimSpace(tok)):
			s.writeError(w, http.StatusBadRequest, messages190())
			return
		}
	}
	if f, ok := s.fails.Next(op); ok {
		s.writeError(w, f.status, f.err)
		return
	}
	if e := s.checkGrant(r, op, segs); e != nil {
		s.writeError(w, http.StatusBadRequest, *e)
		return
	}
	f := r.Form
	switch op {
	case OpMe:
		// With a Page token, /me is the Page.
		out := map[string]any{"id": UserID}
		name := s.userName
		if p, ok := s.page(owner); ok {
			out["id"], name = p.id, p.name
		}
		if strings.Contains(f.Get("fields"), "name") {
			out["name"] = name
		}
		fakekit.WriteJSON(w, http.StatusOK, out)
	case OpAccounts:
		if owner != "" {
			s.writeError(w, http.StatusBadRequest, invalid("Tried accessing nonexisting field (accounts) on node type (Page)"))
			return
		}
		s.accounts(w, f)
	case OpRevoke, OpRevokePermission:
		s.revoke(w, r, segs)
	case OpPermissions:
		if owner != "" {
			s.writeError(w, http.StatusBadRequest, invalid("Tried accessing nonexisting field (permissions) on node type (Page)"))
			return
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"data": s.grant.Permissions()})
	case OpExchange:
		s.exchange(w, f)
	case OpCreate:
		s.create(w, segs[0], f, owner)
	case OpUpdate:
		if v, ok := s.video(w, segs[0], owner); ok {
			s.update(w, v, f)
		}
	case OpGet:
		v, ok := s.video(w, segs[0], owner)
		if !ok {
			return
		}
		out := map[string]any{"id": v.ID}
		for _, field := range strings.Split(f.Get("fields"), ",") {
			switch field {
			case "status":
				out["status"] = v.Status
			case "title":
				out["title"] = v.Title
			case "description":
				out["description"] = v.Description
			case "planned_start_time":
				if v.PlannedStart != 0 {
					out["planned_start_time"] = time.Unix(v.PlannedStart, 0).UTC().Format("2006-01-02T15:04:05-0700")
				}
			}
		}
		fakekit.WriteJSON(w, http.StatusOK, out)
	case OpDelete:
		if _, ok := s.video(w, segs[0], owner); !ok {
			return
		}
		delete(s.videos, segs[0])
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
	}
}

func messages190() Error { return messageFor(190) }

// accounts answers GET /me/accounts a page at a time (limit, default 25;
// after, the cursor of the page before), with paging.next while more
// follow, as Graph's cursor paging does.
func (s *Server) accounts(w http.ResponseWriter, f url.Values) {
	fields := f.Get("fields")
	limit := 25
	if n, err := strconv.Atoi(f.Get("limit")); err == nil && n > 0 && n <= 100 {
		limit = n
	}
	start := 0
	if a := f.Get("after"); a != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(a, "cursor-"))
		if err != nil || n < 0 || n > len(s.pages) {
			s.writeError(w, http.StatusBadRequest, invalid("Invalid cursor"))
			return
		}
		start = n
	}
	end := min(start+limit, len(s.pages))
	data := []any{}
	for _, p := range s.pages[start:end] {
		item := map[string]any{"id": p.id}
		if strings.Contains(fields, "name") {
			item["name"] = p.name
		}
		if strings.Contains(fields, "access_token") {
			item["access_token"] = p.token
		}
		data = append(data, item)
	}
	out := map[string]any{"data": data}
	if len(data) > 0 {
		paging := map[string]any{"cursors": map[string]any{"before": "cursor-" + strconv.Itoa(start), "after": "cursor-" + strconv.Itoa(end)}}
		if end < len(s.pages) {
			paging["next"] = s.URL + "/me/accounts?limit=" + strconv.Itoa(limit) + "&after=cursor-" + strconv.Itoa(end)
		}
		out["paging"] = paging
	}
	fakekit.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) exchange(w http.ResponseWriter, f url.Values) {
	if f.Get("grant_type") != "fb_exchange_token" {
		s.writeError(w, http.StatusBadRequest, invalid("Invalid grant_type"))
		return
	}
	if f.Get("client_id") != s.clientID {
		s.writeError(w, http.StatusBadRequest, Error{Code: 101, Type: "OAuthException", Message: "Error validating application. Invalid application ID."})
		return
	}
	if f.Get("client_secret") != s.clientSecret {
		s.writeError(w, http.StatusBadRequest, Error{Code: 1, Type: "OAuthException", Message: "Error validating client secret."})
		return
	}
	tok := f.Get("fb_exchange_token")
	if tok == "" || s.tokens.Rejected(tok) {
		s.writeError(w, http.StatusBadRequest, messages190())
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	fakekit.WriteJSON(w, http.StatusOK, map[string]any{"access_token": "EAAlong" + hex.EncodeToString(b[:]), "token_type": "bearer", "expires_in": 5183944})
}

// ownerOf is the Page a token acts as, "" for the user.
func (s *Server) ownerOf(tok string) string {
	for _, p := range s.pages {
		if p.token == tok {
			return p.id
		}
	}
	return ""
}

func (s *Server) page(id string) (page, bool) {
	for _, p := range s.pages {
		if id != "" && p.id == id {
			return p, true
		}
	}
	return page{}, false
}

// needPageToken is Graph's answer to a user token on a Page's edge.
func needPageToken() Error {
	return Error{Code: 210, Type: "OAuthException", Message: "(#210) A page access token is required to request this resource."}
}

// video finds a live video the token may act on: the user's with a user
// token, a Page's with that Page's token. Otherwise it writes Graph's
// answer and reports false.
func (s *Server) video(w http.ResponseWriter, id, owner string) (*LiveVideo, bool) {
	v, ok := s.videos[id]
	switch {
	case !ok:
		s.writeError(w, http.StatusBadRequest, notFound(id))
		return nil, false
	case v.Page != "" && owner == "":
		s.writeError(w, http.StatusBadRequest, needPageToken())
		return nil, false
	case v.Page != owner:
		s.writeError(w, http.StatusBadRequest, notFound(id))
		return nil, false
	}
	return v, true
}

// checkParams refuses a parameter the call does not take and an enum
// value outside its enum, with Graph's invalid-parameter error.
func (s *Server) checkParams(w http.ResponseWriter, f url.Values, allowed []string) bool {
	for name, vals := range f {
		if name == "planned_start_time" && !slices.Contains(allowed, name) {
			// developers.facebook.com/docs/live-video-api/guides/scheduling
			s.writeError(w, http.StatusBadRequest, invalid("planned_start_time is not accepted when creating a live video: to schedule one, use event_params"))
			return false
		}
		if !slices.Contains(allowed, name) {
			s.writeError(w, http.StatusBadRequest, invalid("Invalid parameter: "+name))
			return false
		}
		if e, ok := enums[name]; ok && (len(vals) != 1 || !slices.Contains(e, vals[0])) {
			s.writeError(w, http.StatusBadRequest, invalid(fmt.Sprintf("param %s must be one of {%s}", name, strings.Join(e, ", "))))
			return false
		}
	}
	return true
}

// SetClock sets the clock Facebook's 7-day scheduling window is counted
// from (tests that move time).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// plannedStart reads a planned start (Unix seconds or RFC 3339) and holds
// it to Facebook's window, 10 minutes to 7 days ahead.
func (s *Server) plannedStart(v string) (int64, bool) {
	ts, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return 0, false
		}
		ts = t.Unix()
	}
	lead := time.Unix(ts, 0).Sub(s.now())
	return ts, lead >= 10*time.Minute && lead <= 7*24*time.Hour
}

func (s *Server) create(w http.ResponseWriter, target string, f url.Values, owner string) {
	onPage := ""
	switch {
	case target == "me" || target == UserID:
		onPage = owner // with a Page token, /me is the Page
	default:
		if _, ok := s.page(target); !ok {
			s.writeError(w, http.StatusBadRequest, notFound(target))
			return
		}
		onPage = target
		switch owner {
		case target:
		case "":
			s.writeError(w, http.StatusBadRequest, needPageToken())
			return
		default:
			s.writeError(w, http.StatusBadRequest, messageFor(200))
			return
		}
	}
	if !s.checkParams(w, f, CreateParams(onPage != "")) {
		return
	}
	status := f.Get("status")
	if status == "" {
		status = "UNPUBLISHED"
	}
	v := &LiveVideo{Target: target, Page: onPage, Title: f.Get("title"), Description: f.Get("description")}
	switch status {
	case "LIVE_NOW":
		v.Status, v.Published = "UNPUBLISHED", true
	case "UNPUBLISHED":
		v.Status = "UNPUBLISHED"
	case "SCHEDULED_UNPUBLISHED":
		// Scheduling on create takes event_params, an Object the SDK does
		// not describe further; this fake reads a numeric start_time in it.
		var ep struct {
			StartTime json.Number `json:"start_time"`
		}
		if json.Unmarshal([]byte(f.Get("event_params")), &ep) != nil {
			s.writeError(w, http.StatusBadRequest, invalid("To schedule a live video, use the event_params parameter"))
			return
		}
		ts, ok := s.plannedStart(ep.StartTime.String())
		if !ok {
			s.writeError(w, http.StatusBadRequest, invalid("invalid planned start time"))
			return
		}
		v.Status, v.PlannedStart, v.EventParams = "SCHEDULED_UNPUBLISHED", ts, f.Get("event_params")
	default:
		s.writeError(w, http.StatusBadRequest, invalid("a live video is created UNPUBLISHED, LIVE_NOW or SCHEDULED_UNPUBLISHED"))
		return
	}
	s.seq++
	v.ID = fmt.Sprintf("19%013d", s.seq)
	var b [12]byte
	_, _ = rand.Read(b[:])
	v.StreamKey = fmt.Sprintf("FB-%s-0-Ab%s", v.ID, hex.EncodeToString(b[:]))
	s.videos[v.ID] = v
	fakekit.WriteJSON(w, http.StatusOK, map[string]any{
		"id":                           v.ID,
		"stream_url":                   "rtmp://live-api-s.facebook.com:80/rtmp/" + v.StreamKey,
		"secure_stream_url":            "rtmps://live-api-s.facebook.com:443/rtmp/" + v.StreamKey,
		"stream_secondary_urls":        []string{},
		"secure_stream_secondary_urls": []string{},
	})
}

func (s *Server) update(w http.ResponseWriter, v *LiveVideo, f url.Values) {
	if !s.checkParams(w, f, updateParams) {
		return
	}
	if ps := f.Get("persistent_stream_key_status"); ps != "" {
		// What Graph does with the key's status and other fields in one
		// update is not documented: the fake refuses the mix rather than
		// apply half of it, so a client that combines them is seen.
		for k := range f {
			if k != "persistent_stream_key_status" && k != "access_token" {
				s.writeError(w, http.StatusBadRequest, invalid("the fake does not model persistent_stream_key_status with "+k+" in one update"))
				return
			}
		}
		s.persistentKey(w, v, ps)
		return
	}
	if f.Get("end_live_video") == "true" {
		switch v.Status {
		case "SCHEDULED_CANCELED", "SCHEDULED_EXPIRED":
			s.writeError(w, http.StatusBadRequest, invalid("The live video cannot be ended in its current state"))
			return
		case "LIVE_STOPPED", "PROCESSING", "VOD":
		default:
			v.Status = "LIVE_STOPPED"
		}
		v.Streaming = false
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"id": v.ID})
		return
	}
	switch f.Get("status") {
	case "LIVE_NOW":
		if ended(v.Status) {
			s.writeError(w, http.StatusBadRequest, invalid("The live video has ended and cannot go live"))
			return
		}
		v.Published = true
		settle(v)
	case "SCHEDULED_UNPUBLISHED":
		// Scheduling an unpublished video: planned_start_time is required
		// unless it is scheduled already (livevideo.py api_update).
		switch v.Status {
		case "UNPUBLISHED", "SCHEDULED_UNPUBLISHED":
		default:
			s.writeError(w, http.StatusBadRequest, invalid("Only an unpublished live video can be scheduled"))
			return
		}
		if f.Get("planned_start_time") == "" && v.PlannedStart == 0 {
			s.writeError(w, http.StatusBadRequest, invalid("planned_start_time is required to schedule a live video"))
			return
		}
		if p := f.Get("planned_start_time"); p != "" {
			ts, ok := s.plannedStart(p)
			if !ok {
				s.writeError(w, http.StatusBadRequest, invalid("invalid planned start time"))
				return
			}
			v.PlannedStart = ts
		}
		v.Status = "SCHEDULED_UNPUBLISHED"
		setText(v, f) // one update applies all its parameters
	case "SCHEDULED_CANCELED":
		switch v.Status {
		case "SCHEDULED_UNPUBLISHED", "SCHEDULED_LIVE", "SCHEDULED_CANCELED":
			v.Status = "SCHEDULED_CANCELED"
		default:
			s.writeError(w, http.StatusBadRequest, invalid("Only a scheduled live video can be canceled"))
			return
		}
	case "":
		// title, description or planned start edits
		if p := f.Get("planned_start_time"); p != "" {
			ts, ok := s.plannedStart(p)
			switch {
			case v.Status != "SCHEDULED_UNPUBLISHED":
				s.writeError(w, http.StatusBadRequest, invalid("Only a scheduled live video has a planned start time"))
				return
			case !ok:
				s.writeError(w, http.StatusBadRequest, invalid("invalid planned start time"))
				return
			}
			v.PlannedStart = ts
		}
		setText(v, f)
	default:
		s.writeError(w, http.StatusBadRequest, invalid("The live video cannot be set to "+f.Get("status")+" in its current state"))
		return
	}
	fakekit.WriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

// setText applies an update's title and description.
func setText(v *LiveVideo, f url.Values) {
	if t := f.Get("title"); t != "" {
		v.Title = t
	}
	if d := f.Get("description"); d != "" {
		v.Description = d
	}
}

// persistentKey sets the live video's persistent stream key
// (persistent_stream_key_status, checked against its enum already) and
// answers as Graph's update does for it: {id, persistent_stream_url,
// backup_persistent_stream_url} (Graph API reference, LiveVideo,
// Updating: "Set the status of the persistent stream key for this live
// video"; its Return Type). An owner that may not use one is refused with
// the permissions error the reference lists (200). The fake keeps one key
// per owner, the same for its next videos until REGENERATE: the name's
// promise, which Meta's reference does not spell out (see the client).
func (s *Server) persistentKey(w http.ResponseWriter, v *LiveVideo, status string) {
	if s.noPersistent[v.Page] {
		s.writeError(w, http.StatusBadRequest, Error{Code: 200, Type: "OAuthException",
			Message: "(#200) Permissions error: this Page cannot use a persistent stream key"})
		return
	}
	switch status {
	case "DISABLE":
		v.PersistentKey = ""
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"id": v.ID})
		return
	case "REGENERATE":
		delete(s.persistent, v.Page)
	}
	key := s.persistent[v.Page]
	if key == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		key = "FB-persistent-" + hex.EncodeToString(b[:])
		s.persistent[v.Page] = key
	}
	v.PersistentKey = key
	fakekit.WriteJSON(w, http.StatusOK, map[string]any{
		"id":                           v.ID,
		"persistent_stream_url":        "rtmps://live-api-s.facebook.com:443/rtmp/" + key,
		"backup_persistent_stream_url": "rtmps://live-api-s.facebook.com:443/rtmp/" + key + "?backup=1",
	})
}
