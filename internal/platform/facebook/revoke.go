package facebook

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// AlwaysGranted is the permission Meta grants every app with every login
// ("This permission is automatically granted to all apps",
// developers.facebook.com/docs/permissions/reference/public_profile): it is
// never one connection's alone, so RevokePermissions leaves it to the grant.
const AlwaysGranted = "public_profile"

// RevokeGrant withdraws the user's whole grant of the Meta app: DELETE
// /me/permissions. Every token of the grant dies, an Instagram connection
// made through the same app included (PLATFORMS.md, Facebook: "removes the
// whole app grant").
func (c *Client) RevokeGrant(ctx context.Context, token string) error {
	return RevokeGrant(ctx, c.call, token)
}

// RevokePermissions withdraws the named permissions one at a time (DELETE
// /me/permissions/{permission}), leaving the rest of the grant to the
// connections that still use it. It returns the permissions withdrawn, in
// order, also when a later one fails. AlwaysGranted is skipped.
func (c *Client) RevokePermissions(ctx context.Context, token string, permissions []string) ([]string, error) {
	return RevokePermissions(ctx, c.call, token, permissions)
}

// RevokeGrant is Client.RevokeGrant through any Graph caller (Instagram's
// client uses it: one Graph API, one grant per user and app).
func RevokeGrant(ctx context.Context, call platform.Caller, token string) error {
	return revokeAt(ctx, call, token, "/me/permissions", "revoke the app grant")
}

// RevokePermissions is Client.RevokePermissions through any Graph caller.
// Evidence: developers.facebook.com/docs/graph-api/reference/user/permissions/
// ("You can revoke a specific permission ... DELETE
// /{user-id}/permissions/{permission-name} ... you will receive a response
// of true").
func RevokePermissions(ctx context.Context, call platform.Caller, token string, permissions []string) ([]string, error) {
	var done []string
	for _, p := range permissions {
		if p == AlwaysGranted {
			continue
		}
		if p == "" || strings.ContainsAny(p, "/?#") {
			return done, &platform.Error{Platform: call.Platform, Op: "revoke a permission", Reason: platform.ReasonInvalid,
				Message: "not a Graph permission name: " + p}
		}
		if err := revokeAt(ctx, call, token, "/me/permissions/"+url.PathEscape(p), "revoke the permission "+p); err != nil {
			return done, err
		}
		done = append(done, p)
	}
	return done, nil
}

// revokeAt sends the DELETE and reads Graph's success answer: true (as the
// reference documents) or {"success": true} (how Graph wraps a boolean
// answer); anything else is a failure.
func revokeAt(ctx context.Context, call platform.Caller, token, path, op string) error {
	resp, err := call.Do(ctx, platform.Request{Op: op, Method: http.MethodDelete, Path: path, Token: token, Idempotent: true})
	if err != nil {
		return err // Do redacted the token
	}
	if !succeeded(resp.Body) {
		return &platform.Error{Platform: call.Platform, Op: op, Status: resp.Status, Reason: platform.ReasonTransient,
			Message: "Graph did not confirm the revocation"}
	}
	return nil
}

func succeeded(body []byte) bool {
	var ok bool
	if json.Unmarshal(body, &ok) == nil {
		return ok
	}
	var wrapped struct {
		Success bool `json:"success"`
	}
	return json.Unmarshal(body, &wrapped) == nil && wrapped.Success
}
