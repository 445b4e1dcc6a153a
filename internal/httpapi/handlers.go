package httpapi

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Services are what handlers call. Each function wires only the ones its
// routes need; Build refuses a function whose routes' services are missing.
type Services struct {
	Platforms   PlatformCatalog
	Connections ConnectionService
	OAuth       OAuthService
	Livestreams LivestreamService
	Meetings    MeetingService
	Idempotency IdempotencyStore // remembers Idempotency-Key answers; keys are ignored when nil
	Deployments DeploymentService
	Events      EventService
	// ConnectSessions serves the hosted connect page.
	ConnectSessions ConnectSessionService
}

// PlatformCatalog lists the platforms.
type PlatformCatalog interface {
	List() []platform.Listing
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument is the API's OpenAPI 3.1 description.
func OpenAPIDocument() []byte { return openAPIDocument }

// catalogRoutes are the routes that describe the API and its platforms.
func (a *API) catalogRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/health", Operation: "getHealth", Function: FnConnections, Public: true, handler: a.getHealth},
		{Method: "GET", Path: "/openapi.json", Operation: "getOpenAPI", Function: FnConnections, Public: true, handler: a.getOpenAPI},
		{Method: "GET", Path: "/platforms", Operation: "listPlatforms", Function: FnConnections, handler: wired(a.svc.Platforms != nil, a.listPlatforms)},
	}
}

// connectionRoutes are the connections capability's routes: the tenant's
// connections and the OAuth grants.
func (a *API) connectionRoutes() []Route {
	conns, oauth := a.svc.Connections != nil, a.svc.OAuth != nil
	return []Route{
		{Method: "GET", Path: "/connections", Operation: "listConnections", Function: FnConnections, handler: wired(conns, a.listConnections)},
		{Method: "GET", Path: "/connections/{platform}", Operation: "getConnection", Function: FnConnections, handler: wired(conns, a.getConnection)},
		{Method: "POST", Path: "/connections/{platform}", Operation: "createConnection", Function: FnConnections, Creates: true, handler: wired(conns, a.idempotent(a.createConnection))},
		{Method: "DELETE", Path: "/connections/{platform}", Operation: "deleteConnection", Function: FnConnections, handler: wired(conns, a.deleteConnection)},
		{Method: "POST", Path: "/connections/{platform}/refresh", Operation: "refreshConnection", Function: FnConnections, handler: wired(conns, a.refreshConnection)},
		{Method: "POST", Path: "/connections/{platform}/oauth", Operation: "startOAuth", Function: FnOAuth, handler: wired(oauth, a.startOAuth)},
		{Method: "GET", Path: "/oauth/{platform}/callback", Operation: "oauthCallback", Function: FnOAuth, Public: true, handler: wired(oauth, a.oauthCallback)},
	}
}

func (a *API) getHealth(context.Context, *Request) (*Response, error) {
	return JSON(http.StatusOK, map[string]string{"status": "ok"}), nil
}

func (a *API) getOpenAPI(context.Context, *Request) (*Response, error) {
	return &Response{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: openAPIDocument}, nil
}

type platformView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	Auth         []string `json:"auth"`
	Capabilities []string `json:"capabilities"`
	Configured   bool     `json:"configured"`
	Notes        string   `json:"notes,omitempty"`
}

func (a *API) listPlatforms(context.Context, *Request) (*Response, error) {
	list := a.svc.Platforms.List()
	items := make([]platformView, len(list))
	for i, p := range list {
		v := platformView{ID: string(p.ID), Name: p.Name, Kind: string(p.Kind), Configured: p.Configured, Notes: p.Notes}
		for _, m := range p.Auth {
			v.Auth = append(v.Auth, string(m))
		}
		for _, c := range p.Capabilities {
			v.Capabilities = append(v.Capabilities, string(c))
		}
		items[i] = v
	}
	return JSON(http.StatusOK, map[string]any{"items": items}), nil
}
