package facebookfake

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
)

// OpRevokePermission is DELETE /me/permissions/{permission}: one permission
// is withdrawn, the rest of the grant stays.
const OpRevokePermission = "me.permission.delete"

// Permissions a login through the fake's Meta app grants: what Switchboard's
// Facebook and Instagram connections ask for (platform.DefaultOAuth).
var AppPermissions = []string{
	"public_profile", "publish_video", "pages_manage_posts", "pages_read_engagement", "pages_show_list", "instagram_basic",
}

// Grant is the fake user's grant of permissions to one Meta app, as Graph
// keeps it: one per user and app, whichever product (Facebook, Instagram)
// the login was for. Instagram's fake shares it when both connections use
// the same app (instagramfake.Server.ShareGrant), as on graph.facebook.com.
//
//   - DELETE /{user-id}/permissions/{permission} withdraws one permission;
//     calls that need it fail with a permission error (#200), every other
//     call goes on working.
//   - DELETE /{user-id}/permissions withdraws the whole grant: every user
//     token of it is dead from then on, and any call with one answers
//     OAuthException 190 (subcode 458, the user has not authorized the app).
//
// Evidence: developers.facebook.com/docs/graph-api/reference/user/permissions/
// ("You can revoke a specific permission ... DELETE
// /{user-id}/permissions/{permission-name}"); PLATFORMS.md, Facebook.
//
// The fake learns tokens as it sees them: a user token it has not seen is
// a new login through the app, which joins the live grant and grants again
// what the app asks for, less what DeclineAtNextLogin names. Page tokens
// are not modelled here.
//
// GET /{user-id}/permissions lists each permission the app asked for with
// its status, granted or declined: "Returns a list of granted and declined
// permissions" (developers.facebook.com/docs/graph-api/reference/user/
// permissions/); the fields are permission and status (facebook-python-
// business-sdk facebook_business/adobjects/permission.py: Status granted,
// declined).
type Grant struct {
	mu       sync.Mutex
	asked    []string
	declines []string // what the next login leaves unticked
	granted  map[string]bool
	tokens   map[string]int // user token -> the generation of the grant it was issued under
	gen      int            // bumped by each whole-grant revoke
}

// NewGrant is a grant of the given permissions (AppPermissions when none).
func NewGrant(permissions ...string) *Grant {
	if len(permissions) == 0 {
		permissions = AppPermissions
	}
	g := &Grant{asked: slices.Clone(permissions), tokens: map[string]int{}}
	g.regrant()
	return g
}

func (g *Grant) regrant() {
	g.granted = map[string]bool{}
	for _, p := range g.asked {
		g.granted[p] = !slices.Contains(g.declines, p)
	}
}

// DeclineAtNextLogin makes the next login through the app (the next new
// user token) grant all it asks for but these, as a person who unticks
// them in Meta's login dialog ("Edit access"); later logins grant all.
func (g *Grant) DeclineAtNextLogin(permissions ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.declines = slices.Clone(permissions)
}

// Permissions is GET /{user-id}/permissions' data: each permission the app
// asked for, granted or declined, in the order asked.
func (g *Grant) Permissions() []map[string]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]map[string]string, 0, len(g.asked))
	for _, p := range g.asked {
		status := "declined"
		if g.granted[p] {
			status = "granted"
		}
		out = append(out, map[string]string{"permission": p, "status": status})
	}
	return out
}

// Has reports whether the permission is granted now.
func (g *Grant) Has(permission string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.granted[permission]
}

// Check answers whether a call with token that needs permission ("" for
// none) may go on: nil, or the error Graph answers.
func (g *Grant) Check(token, permission string) *Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen, seen := g.tokens[token]
	switch {
	case !seen:
		g.tokens[token] = g.gen // a new login through the app
		g.regrant()
		g.declines = nil
	case gen != g.gen:
		return deauthorized()
	}
	if permission != "" && !g.granted[permission] {
		return &Error{Code: 200, Type: "OAuthException",
			Message: "(#200) The user hasn't authorized the application to perform this action (" + permission + " is missing)"}
	}
	return nil
}

// Revoke answers DELETE /{user-id}/permissions[/{permission}] made with
// token: permission "" withdraws the whole grant. body is the success
// answer, e the error when Graph refuses.
func (g *Grant) Revoke(token, permission string) (body any, e *Error) {
	if e := g.Check(token, ""); e != nil {
		return nil, e
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if permission == "" {
		g.gen++
		g.regrant() // the next login grants anew
		return map[string]any{"success": true}, nil
	}
	if !slices.Contains(g.asked, permission) {
		return nil, &Error{Code: 100, Type: "OAuthException", Message: "(#100) Invalid permission: " + permission}
	}
	delete(g.granted, permission)
	// "If the request is successful, you will receive a response of true."
	return true, nil
}

func deauthorized() *Error {
	return &Error{Code: 190, Subcode: 458, Type: "OAuthException",
		Message: "Error validating access token: The user has not authorized the application."}
}

// Grant is the fake user's grant to the fake's app, for Instagram's fake to
// share and tests to inspect.
func (s *Server) Grant() *Grant { return s.grant }

// isUser: Graph takes the user's id or "me" for the user the token is of.
func isUser(seg string) bool { return seg == "me" || seg == UserID }

// grantPermission is the permission op needs, "" for none.
// Evidence: developers.facebook.com/docs/live-video-api ("a User access
// token with the publish_video permission"; Pages: pages_manage_posts);
// /me/accounts lists Pages with pages_show_list.
func grantPermission(op string, segs []string) string {
	switch op {
	case OpAccounts:
		return "pages_show_list"
	case OpCreate:
		if isUser(segs[0]) {
			return "publish_video"
		}
		return "pages_manage_posts"
	}
	return ""
}

// checkGrant holds a call with a user token to the grant: dead after a
// whole-grant revoke, refused without the permission it needs. The token
// exchange and the revoke calls (which check for themselves) pass, and so
// do Page tokens, which the grant does not model.
func (s *Server) checkGrant(r *http.Request, op string, segs []string) *Error {
	if op == OpExchange || op == OpRevoke || op == OpRevokePermission {
		return nil
	}
	tok, _ := fakekit.Bearer(r)
	tok = strings.TrimSpace(tok)
	if s.ownerOf(tok) != "" {
		return nil
	}
	return s.grant.Check(tok, grantPermission(op, segs))
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, segs []string) {
	tok, _ := fakekit.Bearer(r)
	permission := ""
	if len(segs) == 3 {
		permission = segs[2]
	}
	body, e := s.grant.Revoke(strings.TrimSpace(tok), permission)
	if e != nil {
		s.writeError(w, http.StatusBadRequest, *e)
		return
	}
	fakekit.WriteJSON(w, http.StatusOK, body)
}
