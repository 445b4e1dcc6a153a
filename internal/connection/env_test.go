package connection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/testclock"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// clock is the shared test clock (internal/testclock).
type clock = testclock.Clock

// accounts is a test double of connection.AccountReader: it names the
// account and refuses an empty token. Platform clients
// are tested against their fakes in their own packages.
type accounts struct{}

func (a *accounts) Whoami(_ context.Context, token string) (platform.Account, error) {
	if token == "" {
		return platform.Account{}, &platform.Error{Platform: "test", Op: "read the account", Status: 401, Reason: platform.ReasonExpiredToken, Message: "Invalid Credentials"}
	}
	return platform.Account{ID: "acct-1", Name: "Grace Church"}, nil
}

// env is one connection service on its own table, against the shared
// OAuth mock with a client id of its own.
type env struct {
	t        *testing.T
	svc      *connection.Service
	store    *store.Store
	db       *dynamodb.Client
	table    string
	vault    *vault.Vault
	oauth    *oauthmock.Server
	clientID string
	clock    *clock
	accounts *accounts
	logs     *servicetest.Logs
	id       connection.Identity
	ep       platform.Endpoints
	eps      map[platform.ID]platform.Endpoints
	cfg      connection.Config
}

// withRevokeURL is the same env with one platform's revoke endpoint moved.
func (e *env) withRevokeURL(p platform.ID, u string) *env {
	return e.withEndpoint(p, func(ep *platform.Endpoints) { ep.RevokeURL = u })
}

// withEndpoint is the same env with one platform's endpoints changed.
func (e *env) withEndpoint(p platform.ID, change func(*platform.Endpoints)) *env {
	c := *e
	c.eps = map[platform.ID]platform.Endpoints{}
	for k, v := range e.eps {
		c.eps[k] = v
	}
	ep := c.eps[p]
	change(&ep)
	c.eps[p] = ep
	c.cfg.Endpoints = c.eps
	c.svc = connection.New(c.cfg)
	return &c
}

type envOpts struct {
	platform platform.ID
	client   oauthmock.ClientConfig
	keys     map[platform.ID]connection.KeyVerifier
	allow    []string
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	if o.platform == "" {
		o.platform = zoom.ID
	}
	f := dynamotest.New(t)
	srv := oauthtest.Start(t)
	clientID := fmt.Sprintf("client-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	if o.client.ClientSecret == "" {
		o.client.ClientSecret = "client-secret-value"
	}
	oauthtest.Configure(t, srv, map[string]oauthmock.ClientConfig{clientID: o.client})
	e := &env{t: t, store: f.Store, db: f.DB, table: f.Table, oauth: srv, clientID: clientID, clock: &clock{},
		accounts: &accounts{}, logs: &servicetest.Logs{}, vault: vaulttest.Local(t), id: connection.Identity{Tenant: "tenant-a", User: "user-1"}}
	eps := map[platform.ID]platform.Endpoints{}
	for _, p := range registry.All() {
		ep := registry.LoadEndpoints(p.ID, func(string) string { return "" })
		if ep.AuthURL != "" {
			ep.AuthURL, ep.TokenURL = srv.AuthorizeURL(), srv.TokenURL()
			if ep.RevokeURL != "" && ep.RevokeMethod != "graph-permissions" {
				ep.RevokeURL = srv.RevokeURL()
			}
			ep.ClientID, ep.ClientSecret = clientID, o.client.ClientSecret
			ep.CallbackURL = "https://api.switchboard.test/oauth/" + string(p.ID) + "/callback"
		}
		eps[p.ID] = ep
	}
	e.ep = eps[o.platform]
	accts := map[platform.ID]connection.AccountReader{}
	for _, p := range registry.All() {
		accts[p.ID] = e.accounts
	}
	allow := o.allow
	if allow == nil {
		allow = []string{"https://app.example.com"}
	}
	e.eps = eps
	e.cfg = connection.Config{
		Repo: f.Store.Connections(), Vault: e.vault, Endpoints: eps, Accounts: accts, Keys: o.keys,
		ReturnAllowlist: allow, HTTP: &http.Client{Timeout: 10 * time.Second},
		Logger: logging.New(e.logs, "test", slog.LevelDebug), Now: e.clock.Now,
	}
	e.svc = connection.New(e.cfg)
	return e
}

// connect runs the whole OAuth flow for the env's platform and returns the
// connection.
func (e *env) connect(p platform.ID) *connection.Connection {
	e.t.Helper()
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.id, string(p), "https://app.example.com/integrations")
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	code, state := oauthtest.Authorize(e.t, start.AuthorizeURL)
	res, err := e.svc.Callback(ctx, string(p), url.Values{"code": {code}, "state": {state}})
	if err != nil {
		e.t.Fatalf("callback: %v", err)
	}
	if res.ErrorCode != "" || res.Connected == nil {
		e.t.Fatalf("callback outcome %s: %v", res.ErrorCode, res.ErrorCause)
	}
	return res.Connected
}

func (e *env) stats() oauthmock.Stats {
	e.t.Helper()
	s, err := e.oauth.ClientStats(context.Background(), e.clientID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// rawItem is the connection's item exactly as DynamoDB holds it, as JSON.
func (e *env) rawItem(p platform.ID) string {
	e.t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table),
		Key:       store.Key(store.TenantPK(e.id.Tenant), "CONN#"+string(p)),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := json.Marshal(out.Item)
	return string(b)
}

// creds opens the stored credentials the way the service would.
func (e *env) creds(p platform.ID) connection.Credentials {
	e.t.Helper()
	c, err := e.store.Connections().Get(context.Background(), e.id.Tenant, p)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := e.vault.Open(context.Background(), c.Sealed, vault.Context(e.id.Tenant, string(p), vault.PurposeTokenSet, "connection"))
	if err != nil {
		e.t.Fatalf("stored credentials do not open: %v", err)
	}
	var cr connection.Credentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		e.t.Fatal(err)
	}
	return cr
}
