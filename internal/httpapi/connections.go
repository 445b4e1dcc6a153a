package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
)

// ConnectionService is what the connection routes call.
type ConnectionService interface {
	List(ctx context.Context, tenant, cursor string, limit int) ([]*connection.Connection, string, error)
	// View is a connection without its credentials, for an answer.
	View(ctx context.Context, tenant, platform string) (*connection.Connection, error)
	ConnectWithKey(ctx context.Context, id connection.Identity, platform string, input map[string]string) (*connection.Connection, error)
	Refresh(ctx context.Context, tenant, platform string) (*connection.Connection, error)
	Disconnect(ctx context.Context, tenant, platform string) (connection.Revocation, error)
}

// OAuthService is what the OAuth routes call.
type OAuthService interface {
	StartOAuth(ctx context.Context, id connection.Identity, platform, returnTo string) (connection.StartResult, error)
	Callback(ctx context.Context, platform string, q url.Values) (connection.CallbackResult, error)
}

type lastErrorView struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	At      string `json:"at"`
}

type connectionView struct {
	Platform        string         `json:"platform"`
	Status          string         `json:"status"`
	AuthType        string         `json:"authType"`
	AccountID       string         `json:"accountId"`
	AccountName     string         `json:"accountName"`
	Scopes          []string       `json:"scopes"`
	ConnectedAt     *string        `json:"connectedAt"`
	UpdatedAt       *string        `json:"updatedAt"`
	StatusChangedAt *string        `json:"statusChangedAt"`
	ExpiresAt       *string        `json:"expiresAt"`
	LastRefreshedAt *string        `json:"lastRefreshedAt"`
	LastVerifiedAt  *string        `json:"lastVerifiedAt"`
	LastError       *lastErrorView `json:"lastError"`
	// Workspaces and DefaultWorkspaceID: where the platform has several
	// scopes (Railway), the ones a deployment may name and the one it
	// goes to when it names none.
	Workspaces         []workspaceView `json:"workspaces,omitempty"`
	DefaultWorkspaceID *string         `json:"defaultWorkspaceId,omitempty"`
}

type workspaceView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// stamp is how every answer writes a time: RFC 3339 in UTC, to the
// second, always the same length ("2026-05-03T10:00:00Z"); a fraction is
// cut, never shown for some times and not for others.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// timePtr is stamp(t), or null for the zero time.
func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}

func viewConnection(c *connection.Connection) connectionView {
	v := connectionView{
		Platform: string(c.Platform), Status: string(c.Status), AuthType: string(c.AuthType),
		AccountID: c.AccountID, AccountName: c.AccountName, Scopes: c.Scopes,
		ConnectedAt: timePtr(c.ConnectedAt), UpdatedAt: timePtr(c.UpdatedAt), StatusChangedAt: timePtr(c.StatusChangedAt),
		ExpiresAt: timePtr(c.ExpiresAt), LastRefreshedAt: timePtr(c.LastRefreshedAt), LastVerifiedAt: timePtr(c.LastVerifiedAt),
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	for _, w := range c.Workspaces {
		v.Workspaces = append(v.Workspaces, workspaceView{ID: w.ID, Name: w.Name})
	}
	v.DefaultWorkspaceID = nullableString(c.DefaultWorkspace)
	if c.LastError != nil {
		v.LastError = &lastErrorView{Code: c.LastError.Code, Message: c.LastError.Message, At: *timePtr(c.LastError.At)}
	}
	return v
}

func identityOf(r *Request) connection.Identity {
	return connection.Identity{Tenant: r.Identity.Tenant, User: r.Identity.User}
}

func (a *API) listConnections(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	list, next, err := a.svc.Connections.List(ctx, r.Identity.Tenant, r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	items := make([]connectionView, len(list))
	for i, c := range list {
		items[i] = viewConnection(c)
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["nextCursor"] = next
	}
	return JSON(http.StatusOK, body), nil
}

func (a *API) getConnection(ctx context.Context, r *Request) (*Response, error) {
	c, err := a.svc.Connections.View(ctx, r.Identity.Tenant, r.Param("platform"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewConnection(c)), nil
}

func (a *API) createConnection(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		Credentials map[string]string `json:"credentials"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	if body.Credentials == nil {
		body.Credentials = map[string]string{}
	}
	c, err := a.svc.Connections.ConnectWithKey(ctx, identityOf(r), r.Param("platform"), body.Credentials)
	if err != nil {
		return nil, err
	}
	return created(http.StatusCreated, "/connections/"+url.PathEscape(string(c.Platform)), viewConnection(c)), nil
}

func (a *API) refreshConnection(ctx context.Context, r *Request) (*Response, error) {
	c, err := a.svc.Connections.Refresh(ctx, r.Identity.Tenant, r.Param("platform"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewConnection(c)), nil
}

// disconnectView is the answer to DELETE /connections/{platform}: 200 with
// what was revoked at the platform rather than a bare 204, because a
// disconnect may rightly revoke less than everything (a sibling connection
// sharing the vendor's grant keeps it) and the caller should be able to
// tell the user so.
type disconnectView struct {
	Platform           string   `json:"platform"`
	Status             string   `json:"status"`
	Revoked            string   `json:"revoked"`
	RevokedPermissions []string `json:"revokedPermissions"`
	SharedWith         []string `json:"sharedWith"`
	Reason             string   `json:"reason"`
}

func (a *API) deleteConnection(ctx context.Context, r *Request) (*Response, error) {
	rev, err := a.svc.Connections.Disconnect(ctx, r.Identity.Tenant, r.Param("platform"))
	if err != nil {
		return nil, err
	}
	v := disconnectView{Platform: string(rev.Platform), Status: string(connection.StatusDisconnected), Revoked: string(rev.Revoked),
		RevokedPermissions: []string{}, SharedWith: []string{}, Reason: rev.Reason}
	v.RevokedPermissions = append(v.RevokedPermissions, rev.Permissions...)
	for _, p := range rev.SharedWith {
		v.SharedWith = append(v.SharedWith, string(p))
	}
	return JSON(http.StatusOK, v), nil
}

func (a *API) startOAuth(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		ReturnTo string `json:"returnTo"`
	}
	if len(r.Body) > 0 {
		if err := r.Decode(&body); err != nil {
			return nil, err
		}
	}
	res, err := a.svc.OAuth.StartOAuth(ctx, identityOf(r), r.Param("platform"), body.ReturnTo)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, map[string]string{
		"authorizeUrl": res.AuthorizeURL, "expiresAt": stamp(res.ExpiresAt),
	}), nil
}

// oauthCallback answers the browser: a redirect to returnTo with the
// outcome when the authorization named one, JSON otherwise.
func (a *API) oauthCallback(ctx context.Context, r *Request) (*Response, error) {
	res, err := a.svc.OAuth.Callback(ctx, r.Param("platform"), r.Query)
	if res.ReturnTo == "" && wantsHTML(r) {
		return a.callbackPage(r.Param("platform"), res, err)
	}
	if err != nil {
		return nil, err
	}
	if res.ReturnTo != "" {
		u, perr := url.Parse(res.ReturnTo)
		if perr != nil {
			return nil, apperr.Wrap(apperr.Internal, apperr.CodeBadReturnTo, "", perr)
		}
		q := u.Query()
		q.Set("platform", string(res.Platform))
		if res.ErrorCode != "" {
			q.Set("status", "error")
			q.Set("error", res.ErrorCode)
		} else {
			q.Set("status", "connected")
		}
		u.RawQuery = q.Encode()
		return &Response{Status: http.StatusFound, Header: map[string]string{"Location": u.String()}}, nil
	}
	if res.ErrorCause != nil {
		return nil, res.ErrorCause
	}
	// A reload of a used callback answers the connection as it is now.
	return JSON(http.StatusOK, viewConnection(res.Connected)), nil
}
