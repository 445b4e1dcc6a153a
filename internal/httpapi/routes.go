package httpapi

// Route is one entry of the route table: the one place that says which
// methods and paths exist, which Lambda function serves each, and which
// need no token. template.yaml and openapi.json are held equal to it by
// tests.
type Route struct {
	Method    string
	Path      string // API Gateway syntax: /livestreams/{id}
	Operation string // the OpenAPI operationId and the handler's name
	Function  string // the Lambda function (folder under functions/) that serves it
	Public    bool   // no JWT needed
	MaxBody   int64  // request body limit in bytes; DefaultMaxBody when zero
	// Creates marks a route that makes something: it honours an
	// Idempotency-Key, so its function cannot start without an
	// idempotency store (Build).
	Creates bool
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
)

// Routes is the route table.
func Routes() []Route {
	return []Route{
		{Method: "GET", Path: "/health", Operation: "getHealth", Function: FnConnections, Public: true},
		{Method: "GET", Path: "/openapi.json", Operation: "getOpenAPI", Function: FnConnections, Public: true},
		{Method: "GET", Path: "/platforms", Operation: "listPlatforms", Function: FnConnections},

		{Method: "GET", Path: "/connections", Operation: "listConnections", Function: FnConnections},
		{Method: "GET", Path: "/connections/{platform}", Operation: "getConnection", Function: FnConnections},
		{Method: "POST", Path: "/connections/{platform}", Operation: "createConnection", Function: FnConnections, Creates: true},
		{Method: "DELETE", Path: "/connections/{platform}", Operation: "deleteConnection", Function: FnConnections},
		{Method: "POST", Path: "/connections/{platform}/refresh", Operation: "refreshConnection", Function: FnConnections},
		{Method: "POST", Path: "/connections/{platform}/oauth", Operation: "startOAuth", Function: FnOAuth},
		{Method: "GET", Path: "/oauth/{platform}/callback", Operation: "oauthCallback", Function: FnOAuth, Public: true},

		{Method: "POST", Path: "/livestreams", Operation: "createLivestream", Function: FnLivestreams, Creates: true},
		{Method: "GET", Path: "/livestreams", Operation: "listLivestreams", Function: FnLivestreams},
		{Method: "GET", Path: "/livestreams/{id}", Operation: "getLivestream", Function: FnLivestreams},
		{Method: "PATCH", Path: "/livestreams/{id}", Operation: "updateLivestream", Function: FnLivestreams},
		{Method: "DELETE", Path: "/livestreams/{id}", Operation: "cancelLivestream", Function: FnLivestreams},
		{Method: "GET", Path: "/livestreams/{id}/ingest", Operation: "getLivestreamIngest", Function: FnLivestreams},
		{Method: "POST", Path: "/livestreams/{id}/start", Operation: "startLivestream", Function: FnLivestreams},
		{Method: "POST", Path: "/livestreams/{id}/end", Operation: "endLivestream", Function: FnLivestreams},
		// Served by livestreams: it holds the broadcasters that ask the platform.
		{Method: "GET", Path: "/connections/{platform}/destinations", Operation: "listConnectionDestinations", Function: FnLivestreams},

		{Method: "POST", Path: "/meetings", Operation: "createMeeting", Function: FnMeetings, Creates: true},
		{Method: "GET", Path: "/meetings", Operation: "listMeetings", Function: FnMeetings},
		{Method: "GET", Path: "/meetings/{id}", Operation: "getMeeting", Function: FnMeetings},
		{Method: "DELETE", Path: "/meetings/{id}", Operation: "cancelMeeting", Function: FnMeetings},

		{Method: "GET", Path: "/projects/{platform}/availability", Operation: "checkProjectName", Function: FnDeployments},
		{Method: "GET", Path: "/deployments/limits", Operation: "getDeploymentLimits", Function: FnDeployments},
		{Method: "POST", Path: "/deployments", Operation: "createDeployment", Function: FnDeployments, MaxBody: 5 << 20, Creates: true},
		{Method: "GET", Path: "/deployments", Operation: "listDeployments", Function: FnDeployments},
		{Method: "GET", Path: "/deployments/{id}", Operation: "getDeployment", Function: FnDeployments},
		{Method: "GET", Path: "/deployments/{id}/logs", Operation: "getDeploymentLogs", Function: FnDeployments},
		{Method: "POST", Path: "/deployments/{id}/cancel", Operation: "cancelDeployment", Function: FnDeployments},
		{Method: "POST", Path: "/deployments/{id}/rollback", Operation: "rollbackDeployment", Function: FnDeployments, Creates: true},
	}
}

// Key is the route's API Gateway route key, "GET /livestreams/{id}".
func (r Route) Key() string { return r.Method + " " + r.Path }
