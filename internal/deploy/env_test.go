package deploy_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/testclock"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// clock is the shared test clock (internal/testclock).
type clock = testclock.Clock

// Tokens the tests connect with: secrets that must never be stored,
// logged or returned in plaintext.
const (
	vercelToken  = "vercel-secret-token-0123456789"
	railwayToken = "railway-secret-token-0123456789"
	renderKey    = "rnd_secretrenderkey0123456789"
)

// env is the deployments service and its worker on their own table, with
// a real connection service (API keys, checked at the fakes) and the
// platforms' real clients on their fakes.
type env struct {
	t         *testing.T
	svc       *deploy.Service
	worker    *deploy.Worker
	sweeper   *deploy.Sweeper
	conns     *connection.Service
	store     *store.Store
	db        *dynamodb.Client
	table     string
	clock     *clock
	logs      *servicetest.Logs
	vercel    *vercelfake.Server
	railway   *railwayfake.Server
	render    *renderfake.Server
	deployers map[platform.ID]platform.Deployer
	cfg       deploy.Config
	wcfg      deploy.WorkerConfig
	tenant    string
	who       deploy.Identity
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := dynamotest.New(t)
	e := &env{t: t, store: f.Store, db: f.DB, table: f.Table, clock: &clock{}, logs: &servicetest.Logs{},
		vercel: vercelfake.New(), railway: railwayfake.New(), render: renderfake.New(), tenant: "acme"}
	e.who = deploy.Identity{Tenant: e.tenant, User: "dev-1"}
	t.Cleanup(e.vercel.Close)
	t.Cleanup(e.railway.Close)
	t.Cleanup(e.render.Close)
	hc := &http.Client{Timeout: 10 * time.Second}
	vc := vercel.New(hc, e.vercel.URL)
	rc := railway.New(hc, e.railway.APIURL(), railway.WithPolling(time.Millisecond, 5*time.Second))
	rd := render.New(hc, e.render.APIURL(), render.WithPolling(time.Millisecond, 5*time.Second))
	e.deployers = map[platform.ID]platform.Deployer{vercel.ID: vc, railway.ID: rc, render.ID: rd}
	v := vaulttest.Local(t)
	logger := logging.New(e.logs, "deployments", slog.LevelDebug)
	byToken := func(r interface {
		Whoami(context.Context, string) (platform.Account, error)
	}) connection.KeyVerifier {
		return func(ctx context.Context, c connection.Credentials) (platform.Account, error) {
			return r.Whoami(ctx, c.Bearer())
		}
	}
	e.conns = connection.New(connection.Config{
		Repo: f.Store.Connections(), Vault: v, HTTP: hc, Logger: logger, Now: e.clock.Now,
		Keys: map[platform.ID]connection.KeyVerifier{vercel.ID: byToken(vc), railway.ID: byToken(rc), render.ID: byToken(rd)},
	})
	e.cfg = deploy.Config{Repo: f.Store.Deployments(), Connections: e.conns, Vault: v, Deployers: e.deployers,
		Limit: ratelimit.Window{Limit: 10, Period: time.Hour}, Logger: logger, Now: e.clock.Now}
	e.wcfg = deploy.WorkerConfig{Repo: f.Store.Deployments(), Connections: e.conns, Vault: v, Deployers: e.deployers,
		PollInterval: 2 * time.Second, Logger: logger, Now: e.clock.Now, Sleep: e.clock.Sleep}
	e.rebuild()
	return e
}

// rebuild makes the service, worker and sweep again after a change to
// e.cfg, e.wcfg or e.deployers.
func (e *env) rebuild() {
	e.cfg.Deployers, e.wcfg.Deployers = e.deployers, e.deployers
	e.svc = deploy.New(e.cfg)
	e.worker = deploy.NewWorker(e.wcfg)
	e.sweeper = deploy.NewSweeper(deploy.SweepConfig{Repo: e.store.Deployments(), Now: e.clock.Now, Logger: e.cfg.Logger})
}

// connect connects the three platforms for a tenant with API keys.
func (e *env) connect(tenant string) {
	e.t.Helper()
	ctx := context.Background()
	id := connection.Identity{Tenant: tenant, User: "dev-1"}
	for p, creds := range map[platform.ID]map[string]string{
		vercel.ID: {"token": vercelToken}, railway.ID: {"token": railwayToken}, render.ID: {"apiKey": renderKey},
	} {
		if _, err := e.conns.ConnectWithKey(ctx, id, string(p), creds); err != nil {
			e.t.Fatalf("connecting %s: %v", p, err)
		}
	}
}

// create accepts a deployment or fails the test.
func (e *env) create(req deploy.Request) *deploy.Deployment {
	e.t.Helper()
	d, _, err := e.svc.Create(context.Background(), e.who, req)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return d
}

// run runs the worker on a deployment once and reads it back.
func (e *env) run(id string) (deploy.Outcome, *deploy.Deployment) {
	e.t.Helper()
	out, err := e.worker.Run(context.Background(), e.tenant, id)
	if err != nil {
		e.t.Fatalf("worker: %v", err)
	}
	return out, e.get(id)
}

func (e *env) get(id string) *deploy.Deployment {
	e.t.Helper()
	d, err := e.svc.Get(context.Background(), e.tenant, id)
	if err != nil {
		e.t.Fatalf("get %s: %v", id, err)
	}
	return d
}

// allLogs reads a deployment's whole log through the service.
func (e *env) allLogs(id string) []deploy.LogLine {
	e.t.Helper()
	var out []deploy.LogLine
	cursor := ""
	for range 100 {
		page, err := e.svc.Logs(context.Background(), e.tenant, id, cursor)
		if err != nil {
			e.t.Fatalf("logs: %v", err)
		}
		if page.Cursor == "" {
			e.t.Fatal("a log page without a cursor")
		}
		out = append(out, page.Lines...)
		if len(page.Lines) == 0 {
			return out
		}
		cursor = page.Cursor
	}
	e.t.Fatal("the log does not end")
	return nil
}

// rawItems is every item of the table, as stored.
func (e *env) rawItems() []store.Item {
	e.t.Helper()
	return dynamotest.Items(e.t, e.db, e.table)
}

func site() []deploy.File {
	return []deploy.File{
		{Path: "index.html", Content: "<h1>Grace Church</h1>", Encoding: deploy.EncodingUTF8},
		{Path: "about/index.html", Content: "<h1>About</h1>", Encoding: deploy.EncodingUTF8},
		{Path: "assets/logo.png", Content: "iVBORw0KGgo=", Encoding: deploy.EncodingBase64},
		{Path: "assets/copy.html", Content: "<h1>Grace Church</h1>", Encoding: deploy.EncodingUTF8}, // same content: one upload
	}
}

func ptr[T any](v T) *T { return &v }

// stopAfter wraps a deployer: once the named step returns without error,
// stop is called (the test cancels the worker's context there, as a kill
// mid-way would end it).
type stopAfter struct {
	platform.Deployer
	step string
	stop func()
}

func (s stopAfter) after(step string, err error) error {
	if err == nil && step == s.step {
		s.stop()
	}
	return err
}

func (s stopAfter) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	return s.after("EnsureProject", s.Deployer.EnsureProject(ctx, token, spec, p))
}

func (s stopAfter) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	return s.after("SetEnv", s.Deployer.SetEnv(ctx, token, spec, p))
}

func (s stopAfter) Upload(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	return s.after("Upload", s.Deployer.Upload(ctx, token, spec, p))
}

func (s stopAfter) StartDeployment(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	return s.after("StartDeployment", s.Deployer.StartDeployment(ctx, token, spec, p))
}

func (s stopAfter) Status(ctx context.Context, token string, p platform.DeployProgress) (platform.DeployState, error) {
	st, err := s.Deployer.Status(ctx, token, p)
	return st, s.after("Status", err)
}
