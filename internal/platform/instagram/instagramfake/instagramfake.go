// Package instagramfake is a test double for the part of the Graph API
// (v21.0) that Instagram Live offers, served over HTTP on loopback:
//
//   - GET /me/accounts?fields=name,instagram_business_account{id,username}:
//     the user's Pages and their linked Instagram professional accounts,
//     paged 25 at a time with cursors, fields as requested;
//   - GET /{ig-user-id}/live_media?fields=...: the account's broadcasts in
//     progress (read-only), which tests control with StartLive and StopLive;
//   - DELETE /me/permissions and DELETE /me/permissions/{permission}: the
//     user's grant of the Meta app, whole or one permission
//     (facebookfake.Grant; ShareGrant makes it the Facebook fake's, as when
//     both connections use one app). /me/accounts needs pages_show_list,
//     live_media instagram_basic.
//
// Nothing else exists: no public API creates or starts an Instagram live
// broadcast, and the fake answers any other path as Graph does, with an
// error. Every call needs Authorization: Bearer <token>; Graph answers a
// missing token with code 104 and a bad one (RejectToken) with
// OAuthException code 190, with HTTP 400.
package instagramfake

import (
	"crypto/rand"
	"encoding/hex"
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

	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// Operations.
const (
	OpAccounts  = "me.accounts"
	OpLiveMedia = "live_media"
	OpRevoke    = facebookfake.OpRevoke           // DELETE /me/permissions
	OpRevokeOne = facebookfake.OpRevokePermission // DELETE /me/permissions/{permission}
	Version     = "v21.0"
	pageSize    = 25
)

// Request is one request the fake received.
type Request struct {
	Op     string
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	URL    string
}

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

type page struct{ id, name, igID, igUsername string }

// Server is the fake.
type Server struct {
	URL string // the API base to give the client: <loopback>/v21.0
	srv *httptest.Server

	mu     sync.Mutex
	seq    int
	pages  []page
	live   map[string][]string // ig user id -> live media ids
	rec    fakekit.Recorder[Request]
	fails  fakekit.Failures[failure]
	tokens fakekit.Tokens
	grant  *facebookfake.Grant
}

// New starts a fake on 127.0.0.1.
func New() *Server {
	s := &Server{live: map[string][]string{}, grant: facebookfake.NewGrant()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/" + Version
	return s
}

// Close stops the fake.
func (s *Server) Close() { s.srv.Close() }

// AddPage adds a Page the user manages; igID "" is a Page without a linked
// Instagram professional account.
func (s *Server) AddPage(pageID, pageName, igID, igUsername string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, page{pageID, pageName, igID, igUsername})
}

// StartLive makes the account live (as if the user started a broadcast in
// Live Producer) and returns the live media id.
func (s *Server) StartLive(igUserID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("179%012d", s.seq)
	s.live[igUserID] = append(s.live[igUserID], id)
	return id
}

// StopLive ends every broadcast of the account.
func (s *Server) StopLive(igUserID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, igUserID)
}

// ShareGrant makes the fake hold calls to g, the user's grant of the Meta
// app that the Facebook fake keeps too: a revoke at either fake is seen by
// both, as on graph.facebook.com.
func (s *Server) ShareGrant(g *facebookfake.Grant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grant = g
}

// RejectToken makes a token invalid: calls with it answer code 190.
func (s *Server) RejectToken(token string) { s.tokens.Reject(token) }

var messages = map[int]Error{
	1:   {Message: "An unknown error occurred", Type: "OAuthException"},
	2:   {Message: "An unexpected error has occurred. Please retry your request later.", Type: "OAuthException"},
	4:   {Message: "(#4) Application request limit reached", Type: "OAuthException"},
	10:  {Message: "(#10) Application does not have permission for this action", Type: "OAuthException"},
	17:  {Message: "(#17) User request limit reached", Type: "OAuthException"},
	100: {Message: "(#100) Invalid parameter", Type: "OAuthException"},
	190: {Message: "Error validating access token: Session has expired.", Type: "OAuthException", Subcode: 463},
	200: {Message: "(#200) Permissions error", Type: "OAuthException"},
}

// FailNext makes the next n calls of op answer status with Graph's error
// for code.
func (s *Server) FailNext(op string, status, code, n int) {
	e, ok := messages[code]
	if !ok {
		e = Error{Message: fmt.Sprintf("(#%d) Error", code), Type: "OAuthException"}
	}
	e.Code = code
	s.FailNextWith(op, status, e, n)
}

// FailNextWith makes the next n calls of op answer status with e.
func (s *Server) FailNextWith(op string, status int, e Error, n int) {
	s.fails.Add(op, failure{status, e}, n)
}

// Calls is how many requests op received (failed ones included).
func (s *Server) Calls(op string) int { return s.rec.Calls(op) }

// Requests is the request log, oldest first.
func (s *Server) Requests() []Request { return s.rec.Requests() }

func writeError(w http.ResponseWriter, status int, e Error) {
	if e.Type == "" {
		e.Type = "OAuthException"
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	body := map[string]any{"message": e.Message, "type": e.Type, "code": e.Code, "fbtrace_id": "A" + hex.EncodeToString(b[:])}
	if e.Subcode != 0 {
		body["error_subcode"] = e.Subcode
	}
	fakekit.WriteJSON(w, status, map[string]any{"error": body})
}

// topFields splits a Graph fields list at the commas outside braces:
// "name,instagram_business_account{id,username}" -> name and
// instagram_business_account with subfields id,username.
func topFields(s string) map[string]string {
	out := map[string]string{}
	depth, start := 0, 0
	add := func(f string) {
		f = strings.TrimSpace(f)
		if f == "" {
			return
		}
		if i := strings.IndexByte(f, '{'); i >= 0 && strings.HasSuffix(f, "}") {
			out[f[:i]] = f[i+1 : len(f)-1]
			return
		}
		out[f] = ""
	}
	for i, r := range s {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				add(s[start:i])
				start = i + 1
			}
		}
	}
	add(s[start:])
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rel, inAPI := strings.CutPrefix(r.URL.Path, "/"+Version+"/")
	segs := strings.Split(strings.Trim(rel, "/"), "/")
	op := ""
	switch {
	case !inAPI:
	case r.Method == http.MethodDelete && len(segs) >= 2 && len(segs) <= 3 && (segs[0] == "me" || segs[0] == facebookfake.UserID) && segs[1] == "permissions":
		op = OpRevoke
		if len(segs) == 3 && segs[2] != "" {
			op = OpRevokeOne
		}
	case r.Method != http.MethodGet:
	case len(segs) == 2 && segs[0] == "me" && segs[1] == "accounts":
		op = OpAccounts
	case len(segs) == 2 && segs[1] == "live_media":
		op = OpLiveMedia
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Log(Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		URL: "http://" + r.Host + r.URL.RequestURI()})
	if op == "" {
		writeError(w, http.StatusBadRequest, Error{Code: 100, Type: "GraphMethodException",
			Message: "Unsupported " + strings.ToLower(r.Method) + " request. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"})
		return
	}
	s.rec.Count(op)
	tok, hasBearer := fakekit.Bearer(r)
	switch {
	case !hasBearer:
		writeError(w, http.StatusBadRequest, Error{Code: 104, Message: "An access token is required to request this resource."})
		return
	case s.tokens.Rejected(strings.TrimSpace(tok)):
		e := messages[190]
		e.Code = 190
		writeError(w, http.StatusBadRequest, e)
		return
	}
	if f, ok := s.fails.Next(op); ok {
		writeError(w, f.status, f.err)
		return
	}
	tok = strings.TrimSpace(tok)
	if op == OpRevoke || op == OpRevokeOne {
		s.revoke(w, tok, segs)
		return
	}
	if e := s.grant.Check(tok, grantPermission(op)); e != nil {
		writeError(w, http.StatusBadRequest, Error(*e))
		return
	}
	q := r.URL.Query()
	switch op {
	case OpAccounts:
		s.accounts(w, q)
	case OpLiveMedia:
		ig := segs[0]
		known := slices.ContainsFunc(s.pages, func(p page) bool { return p.igID == ig && ig != "" })
		if !known {
			writeError(w, http.StatusBadRequest, Error{Code: 100, Subcode: 33, Type: "GraphMethodException",
				Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", ig)})
			return
		}
		fields := topFields(q.Get("fields"))
		data := []any{}
		for _, id := range s.live[ig] {
			item := map[string]any{"id": id}
			if _, ok := fields["media_type"]; ok {
				item["media_type"] = "BROADCAST"
			}
			if _, ok := fields["media_product_type"]; ok {
				item["media_product_type"] = "LIVE"
			}
			if _, ok := fields["timestamp"]; ok {
				item["timestamp"] = time.Now().UTC().Format("2006-01-02T15:04:05-0700")
			}
			data = append(data, item)
		}
		fakekit.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
	}
}

func (s *Server) accounts(w http.ResponseWriter, q url.Values) {
	fields := topFields(q.Get("fields"))
	start := 0
	if a := q.Get("after"); a != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(a, "cursor-"))
		if err != nil || n < 0 || n > len(s.pages) {
			writeError(w, http.StatusBadRequest, Error{Code: 100, Message: "(#100) Invalid cursor"})
			return
		}
		start = n
	}
	limit := pageSize
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l < 100 {
		limit = l
	}
	end := min(start+limit, len(s.pages))
	data := []any{}
	for _, p := range s.pages[start:end] {
		item := map[string]any{"id": p.id}
		if _, ok := fields["name"]; ok {
			item["name"] = p.name
		}
		if sub, ok := fields["instagram_business_account"]; ok && p.igID != "" {
			acc := map[string]any{"id": p.igID}
			if strings.Contains(sub, "username") {
				acc["username"] = p.igUsername
			}
			item["instagram_business_account"] = acc
		}
		data = append(data, item)
	}
	out := map[string]any{"data": data}
	if len(data) > 0 {
		paging := map[string]any{"cursors": map[string]any{"before": fmt.Sprintf("cursor-%d", start), "after": fmt.Sprintf("cursor-%d", end)}}
		if end < len(s.pages) {
			paging["next"] = "https://graph.facebook.com/" + Version + "/me/accounts?after=" + fmt.Sprintf("cursor-%d", end)
		}
		out["paging"] = paging
	}
	fakekit.WriteJSON(w, http.StatusOK, out)
}

// grantPermission is the permission op needs: pages_show_list lists the
// Pages, instagram_basic reads the account's media
// (the scopes PLATFORMS.md, Instagram, names for the account and its Pages).
func grantPermission(op string) string {
	if op == OpLiveMedia {
		return "instagram_basic"
	}
	return "pages_show_list"
}

func (s *Server) revoke(w http.ResponseWriter, tok string, segs []string) {
	permission := ""
	if len(segs) == 3 {
		permission = segs[2]
	}
	body, e := s.grant.Revoke(tok, permission)
	if e != nil {
		writeError(w, http.StatusBadRequest, Error(*e))
		return
	}
	fakekit.WriteJSON(w, http.StatusOK, body)
}
