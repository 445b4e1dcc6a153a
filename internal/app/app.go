// Package app is the composition root: it reads configuration and builds
// each function's handler with its dependencies, once per process. Lambda's
// main.go files and the local gateway of `make dev` both call it, so the
// local stack runs exactly the handlers Lambda runs.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Getenv reads configuration; os.Getenv in Lambda, a map in tests.
type Getenv func(string) string

// Options are what a caller may supply instead of the defaults.
type Options struct {
	Getenv Getenv
	Log    io.Writer   // os.Stdout when nil
	AWS    *aws.Config // AWSFromEnv(os.Getenv) when nil
	// WrapTransport, when set, wraps the transport of the client that
	// calls platforms and token endpoints (the bench counts calls with it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Function names, as folders under functions/.
const (
	OAuth          = httpapi.FnOAuth
	Connections    = httpapi.FnConnections
	Livestreams    = httpapi.FnLivestreams
	Meetings       = httpapi.FnMeetings
	Deployments    = httpapi.FnDeployments
	Webhooks       = httpapi.FnWebhooks
	StreamSched    = "stream-scheduler"
	TokenRefresher = "token-refresher"
	DeployWorker   = "deploy-worker"
	// EventDispatcher derives events from the table's stream and delivers
	// them to webhooks; on its schedule it retries the deliveries due.
	EventDispatcher = "event-dispatcher"
)

// Functions lists every function, as template.yaml declares them.
func Functions() []string {
	return []string{OAuth, Connections, Livestreams, Meetings, StreamSched, TokenRefresher, Deployments, DeployWorker, Webhooks, EventDispatcher}
}

// HTTPFunctions lists the functions that serve routes.
func HTTPFunctions() []string {
	return []string{OAuth, Connections, Livestreams, Meetings, Deployments, Webhooks}
}

// Deps are the dependencies shared by every function of a process.
type Deps struct {
	Function string // names the function in its logs; it selects no behaviour
	Config   Config // parsed and checked once, at cold start
	// Env is the environment Config was read from; the vault reads its
	// own variables from it (vault.FromEnv checks them).
	Env    Getenv
	Logger *slog.Logger
	AWS    aws.Config
	DB     *dynamodb.Client
	Store  *store.Store
	// HTTP calls platforms and token endpoints: one client per process,
	// with timeouts, so connections are reused across warm invocations.
	HTTP *http.Client

	// built holds what is made on first use and shared by every capability
	// of the process (one vault, one set of platform clients).
	built struct {
		vault   *vault.Vault
		clients *platformSet
		conns   *connection.Service
	}
}

// NewDeps reads and checks the configuration (LoadConfig: a bad value
// stops the cold start) and builds the clients.
func NewDeps(ctx context.Context, function string, opt Options) (*Deps, error) {
	getenv := opt.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	conf, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	w := opt.Log
	if w == nil {
		w = os.Stdout
	}
	logger := logging.New(w, function, conf.LogLevel)
	var cfg aws.Config
	if opt.AWS != nil {
		cfg = *opt.AWS
	} else {
		// The process's environment, not getenv: the SDK's service clients
		// read AWS_ENDPOINT_URL* from it too (as LoadDefaultConfig did).
		if cfg, err = AWSFromEnv(os.Getenv, awsHTTPClient()); err != nil {
			return nil, err
		}
	}
	db := dynamodb.NewFromConfig(cfg)
	var transport http.RoundTripper = &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 15 * time.Second,
	}
	if opt.WrapTransport != nil {
		transport = opt.WrapTransport(transport)
	}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: transport}
	return &Deps{Function: function, Config: conf, Env: getenv, Logger: logger, AWS: cfg, DB: db, Store: store.New(db, conf.Table), HTTP: hc}, nil
}

// ConnectionService builds the connections capability as the functions
// do, for callers outside this package that read credentials directly
// (the bench times a warm credentials read with it).
func (d *Deps) ConnectionService(ctx context.Context) (*connection.Service, error) {
	return d.connectionService(ctx)
}

// HTTP builds an HTTP function by name, composed as
// functions/<name>/main.go composes it, for the local gateway, `make
// invoke` and tests (which run every function by its name).
func HTTP(ctx context.Context, function string, opt Options) (*httpapi.API, error) {
	d, err := NewDeps(ctx, function, opt)
	if err != nil {
		return nil, err
	}
	build := map[string]func(context.Context) (*httpapi.API, error){
		Connections: d.ConnectionsAPI, OAuth: d.OAuthAPI, Livestreams: d.LivestreamsAPI,
		Meetings: d.MeetingsAPI, Deployments: d.DeploymentsAPI, Webhooks: d.WebhooksAPI,
	}[function]
	if build == nil {
		return nil, fmt.Errorf("app: %q is not an HTTP function", function)
	}
	return build(ctx)
}

// api is the HTTP API of the routes the table gives to fn, over svc; it refuses to build when
// one of the function's routes would have no handler (httpapi.Build).
func (d *Deps) api(fn string, svc httpapi.Services) (*httpapi.API, error) {
	return httpapi.Build(httpapi.Config{Function: fn, TenantClaim: d.Config.TenantClaim, Logger: d.Logger,
		Connect: httpapi.ConnectConfig{PublicBaseURL: d.Config.PublicBaseURL, FrameAncestors: d.Config.ConnectFrameAncestors}}, svc)
}

// ConnectionsAPI builds the connections capability's routes: the
// platform catalog and the tenant's connections.
func (d *Deps) ConnectionsAPI(ctx context.Context) (*httpapi.API, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := d.keptAnswers(ctx)
	if err != nil {
		return nil, err
	}
	return d.api(httpapi.FnConnections, httpapi.Services{Platforms: registry.NewCatalog(conns.Configured), Connections: conns,
		ConnectSessions: conns, Idempotency: keys})
}

// OAuthAPI builds the connections capability's OAuth routes: the start of
// a grant and the platforms' callbacks.
func (d *Deps) OAuthAPI(ctx context.Context) (*httpapi.API, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return nil, err
	}
	return d.api(httpapi.FnOAuth, httpapi.Services{OAuth: conns})
}

// LivestreamsAPI builds the livestreams capability's routes.
func (d *Deps) LivestreamsAPI(ctx context.Context) (*httpapi.API, error) {
	return d.keyedAPI(ctx, httpapi.FnLivestreams, d.livestreamRoutes)
}

// MeetingsAPI builds the meetings capability's routes.
func (d *Deps) MeetingsAPI(ctx context.Context) (*httpapi.API, error) {
	return d.keyedAPI(ctx, httpapi.FnMeetings, d.meetingRoutes)
}

// DeploymentsAPI builds the deployments capability's routes.
func (d *Deps) DeploymentsAPI(ctx context.Context) (*httpapi.API, error) {
	return d.keyedAPI(ctx, httpapi.FnDeployments, d.deploymentRoutes)
}

// keyedAPI is fn's API over the Idempotency-Key memory and the services
// wire adds.
func (d *Deps) keyedAPI(ctx context.Context, fn string, wire func(context.Context, *httpapi.Services) error) (*httpapi.API, error) {
	keys, err := d.keptAnswers(ctx)
	if err != nil {
		return nil, err
	}
	svc := httpapi.Services{Idempotency: keys}
	if err := wire(ctx, &svc); err != nil {
		return nil, err
	}
	return d.api(fn, svc)
}

// keptAnswers is the Idempotency-Key memory; the answers it keeps are
// sealed with the process's vault.
func (d *Deps) keptAnswers(ctx context.Context) (store.IdempotencyKeys, error) {
	v, err := d.vault(ctx)
	if err != nil {
		return store.IdempotencyKeys{}, err
	}
	return d.Store.Idempotency(v), nil
}
