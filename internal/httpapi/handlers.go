package httpapi

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Services are what handlers call. Each function wires only the ones its
// routes need; a route whose service is missing answers 501.
type Services struct {
	Platforms   PlatformCatalog
	Connections ConnectionService
	OAuth       OAuthService
	Livestreams LivestreamService
	Meetings    MeetingService
	Idempotency IdempotencyStore // remembers Idempotency-Key answers; keys are ignored when nil
	Deployments DeploymentService
}

// PlatformCatalog lists the platforms.
type PlatformCatalog interface {
	List() []platform.Listing
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument is the API's OpenAPI 3.1 description.
func OpenAPIDocument() []byte { return openAPIDocument }

// bind maps operations to handlers. An operation absent here answers 501.
func (a *API) bind() map[string]HandlerFunc {
	h := map[string]HandlerFunc{
		"getHealth":  a.getHealth,
		"getOpenAPI": a.getOpenAPI,
	}
	if a.svc.Platforms != nil {
		h["listPlatforms"] = a.listPlatforms
	}
	if a.svc.Connections != nil {
		h["listConnections"] = a.listConnections
		h["getConnection"] = a.getConnection
		h["createConnection"] = a.idempotent(a.createConnection)
		h["refreshConnection"] = a.refreshConnection
		h["deleteConnection"] = a.deleteConnection
	}
	if a.svc.OAuth != nil {
		h["startOAuth"] = a.startOAuth
		h["oauthCallback"] = a.oauthCallback
	}
	a.bindLivestreams(h)
	a.bindMeetings(h)
	a.bindDeployments(h)
	return h
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
