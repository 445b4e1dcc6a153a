package facebook

import (
	"context"
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// GrantedScopes lists the permissions the user granted the app: the token
// answer of Meta's login names none, and the login dialog lets the user
// untick any ("Edit access"), so they are read after the exchange from
// GET /me/permissions, which "Returns a list of granted and declined
// permissions" (developers.facebook.com/docs/graph-api/reference/user/
// permissions/), each {permission, status} with status granted or declined
// (facebook-python-business-sdk facebook_business/adobjects/permission.py).
func (c *Client) GrantedScopes(ctx context.Context, token string) ([]string, error) {
	return GrantedPermissions(ctx, c.call, token)
}

// GrantedPermissions is Client.GrantedScopes through any Graph caller
// (Instagram's client shares Meta's grant).
func GrantedPermissions(ctx context.Context, call platform.Caller, token string) ([]string, error) {
	var out struct {
		Data []struct {
			Permission, Status string
		} `json:"data"`
	}
	if _, err := call.Do(ctx, platform.Request{Op: "read the granted permissions", Method: http.MethodGet, Path: "/me/permissions",
		Token: token, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	granted := []string{}
	for _, p := range out.Data {
		if p.Status == "granted" && p.Permission != "" {
			granted = append(granted, p.Permission)
		}
	}
	return granted, nil
}
