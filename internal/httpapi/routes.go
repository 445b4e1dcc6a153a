package httpapi

import "slices"

// Route is one entry of the route table: which method and path exist,
// which Lambda function serves it, whether it needs a token, and the
// handler that serves it. Each capability registers its routes with their
// handlers (catalogRoutes, connectionRoutes, livestreamRoutes,
// meetingRoutes, deploymentRoutes); template.yaml and openapi.json are
// held equal to the table by tests.
type Route struct {
	Method    string
	Path      string // API Gateway syntax: /livestreams/{id}
	Operation string // the OpenAPI operationId
	Function  string // the Lambda function (folder under functions/) that serves it
	Public    bool   // no JWT needed
	MaxBody   int64  // request body limit in bytes; DefaultMaxBody when zero
	// Creates marks a route that makes something: it honours an
	// Idempotency-Key, so its function cannot start without an
	// idempotency store (Build).
	Creates bool
	// Form marks a route that takes an HTML form
	// (application/x-www-form-urlencoded) instead of JSON: the connect
	// page's own forms.
	Form bool

	// handler serves the route; nil when the capability's service is not
	// wired into this API (Build refuses that).
	handler HandlerFunc
}

// DefaultMaxBody is the request body limit where a route sets none.
const DefaultMaxBody = 64 << 10

// Function names, as folders under functions/.
const (
	FnOAuth       = "oauth"
	FnConnections = "connections"
	FnLivestreams = "livestreams"
	FnMeetings    = "meetings"
	FnDeployments = "deployments"
	FnWebhooks    = "webhooks"
)

// Routes is the route table: every capability's routes, in the order of
// the OpenAPI document.
func Routes() []Route { return (&API{}).table() }

// table is every capability's routes with their handlers over a's
// services.
func (a *API) table() []Route {
	return slices.Concat(a.catalogRoutes(), a.connectionRoutes(), a.connectRoutes(), a.livestreamRoutes(), a.meetingRoutes(), a.deploymentRoutes(), a.eventRoutes())
}

// wired is h when the service a route calls is wired, and nil otherwise.
func wired(ok bool, h HandlerFunc) HandlerFunc {
	if !ok {
		return nil
	}
	return h
}

// Key is the route's API Gateway route key, "GET /livestreams/{id}".
func (r Route) Key() string { return r.Method + " " + r.Path }
