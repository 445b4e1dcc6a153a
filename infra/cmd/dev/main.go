// Command dev runs Switchboard on this machine, offline: `make dev`.
//
// It starts DynamoDB Local (unless AWS_ENDPOINT_URL_DYNAMODB names one),
// creates the table, prepares the functions' environment (devenv), starts
// the sandbox services (devenv.Sandboxes, the extension point for the OAuth
// server and platform fakes), builds every function once through
// internal/app (the handlers Lambda runs), and then plays the AWS services
// around them until Ctrl-C or SIGTERM:
//
//   - API Gateway: the HTTP API with its JWT authorizer on -addr
//     (infra/gateway), verifying ES256 tokens signed with the dev key;
//   - EventBridge: stream-scheduler every minute, token-refresher every 10
//     minutes, first runs shortly after start (infra/gateway Scheduler);
//   - Lambda's DynamoDB event sources: new deployment items to deploy-worker,
//     and every change of an item that makes events to event-dispatcher
//     (infra/streams); event-dispatcher's retries every minute.
//
// It prints a dev token (12 h) and a curl line to try it.
//
// Flags: see -h; -config lists the functions' configuration (app.Config)
// and exits, and the banner lists it as the stack runs it. Environment (besides what devenv reads): JWT_ISSUER and
// JWT_AUDIENCE (comma-separated) set the accepted issuer and audiences, as
// the template's JwtIssuer/JwtAudience parameters do in AWS; TENANT_CLAIM
// names the tenant claim the tokens carry.
//
// Files, in .cache/dev (git-ignored; -cache moves them):
//
//	jwt-es256.pem         the dev signing key (so tokens survive restarts)
//	jwks.json             its public half as a JWKS
//	local-kek.hex         LOCAL_KEK (so what was sealed can still be opened)
//	dynamodb-local.log    the emulator's output, when dev started it
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/app"
)

// config is what start needs; flags and the environment fill it.
type config struct {
	Addr     string
	CacheDir string // devenv's default when empty

	Issuer    string
	Audiences []string

	StreamSchedulerEvery time.Duration
	TokenRefresherEvery  time.Duration
	WebhookRetriesEvery  time.Duration
	FirstRun             time.Duration
	StreamPoll           time.Duration

	Tenant, User string
	TokenTTL     time.Duration

	Getenv func(string) string // os.Getenv when nil
	Log    io.Writer           // logs; os.Stderr when nil
}

func main() {
	cfg := config{Getenv: os.Getenv, Log: os.Stderr}
	fs := flag.NewFlagSet("dev", flag.ExitOnError)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:3000", "where the HTTP API listens")
	fs.StringVar(&cfg.CacheDir, "cache", "", "folder for the dev key, the local KEK and logs (default <repo>/.cache/dev)")
	fs.StringVar(&cfg.Issuer, "jwt-issuer", envOr("JWT_ISSUER", gateway.DefaultIssuer), "the iss tokens must carry (env JWT_ISSUER)")
	audiences := fs.String("jwt-audience", envOr("JWT_AUDIENCE", gateway.DefaultAudience), "accepted audiences, comma-separated; dev tokens carry the first (env JWT_AUDIENCE)")
	fs.DurationVar(&cfg.StreamSchedulerEvery, "stream-scheduler-every", time.Minute, "stream-scheduler's rate; 0 turns it off")
	fs.DurationVar(&cfg.TokenRefresherEvery, "token-refresher-every", 10*time.Minute, "token-refresher's rate; 0 turns it off")
	fs.DurationVar(&cfg.WebhookRetriesEvery, "webhook-retries-every", time.Minute, "event-dispatcher's retry schedule (due webhook deliveries); 0 turns it off")
	fs.DurationVar(&cfg.FirstRun, "first-run", 2*time.Second, "delay before each schedule's first run")
	fs.DurationVar(&cfg.StreamPoll, "stream-poll", streams.DefaultPollInterval, "how often an idle stream shard is polled")
	fs.StringVar(&cfg.Tenant, "tenant", "tenant-dev", "the tenant of the printed token")
	fs.StringVar(&cfg.User, "user", "user-dev", "the user (sub) of the printed token")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", 12*time.Hour, "the printed token's lifetime")
	listConfig := fs.Bool("config", false, "list the functions' configuration variables, their defaults and values here, and exit")
	_ = fs.Parse(os.Args[1:])
	if *listConfig {
		printConfig(os.Stdout, cfg.Getenv)
		return
	}
	cfg.Audiences = splitList(*audiences)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "dev: interrupted while starting; everything started is stopped")
		} else {
			fmt.Fprintf(os.Stderr, "dev: %v\n", err)
		}
		os.Exit(1)
	}
	printBanner(os.Stdout, s)
	<-ctx.Done()
	stop() // a second Ctrl-C kills at once
	fmt.Fprintln(os.Stderr, "dev: stopping…")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Close(shutdown); err != nil {
		fmt.Fprintf(os.Stderr, "dev: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "dev: stopped")
}

// stack is a running local stack.
type stack struct {
	URL   string // http://127.0.0.1:3000
	Token string // a dev token for the sample tenant and user
	// ConnectLink is a ready hosted connect page for the token's tenant
	// (POST /connect-sessions, every platform, an hour); "" when making it
	// failed (ConnectLinkErr says why).
	ConnectLink    string
	ConnectLinkErr error
	Tenant         string
	User           string
	TokenTTL       time.Duration
	Key            *gateway.DevKey
	Audiences      []string
	Env            *devenv.Env
	Schedules      []gateway.Schedule
	StartedIn      time.Duration

	srv     *http.Server
	served  chan error
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// start brings the stack up. ctx bounds the start only; the stack runs
// until Close. On error, whatever was started is stopped.
func start(ctx context.Context, cfg config) (_ *stack, err error) {
	began := time.Now()
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(cfg.Log, nil))
	if len(cfg.Audiences) == 0 {
		cfg.Audiences = []string{gateway.DefaultAudience}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = gateway.DefaultIssuer
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 12 * time.Hour
	}
	if cfg.Tenant == "" {
		cfg.Tenant = "tenant-dev"
	}
	if cfg.User == "" {
		cfg.User = "user-dev"
	}

	env, err := devenv.Prepare(ctx, devenv.Options{CacheDir: cfg.CacheDir, Getenv: cfg.Getenv, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	s := &stack{Env: env, Audiences: cfg.Audiences, served: make(chan error, 1), cancel: func() {}}
	defer func() {
		if err != nil {
			_ = s.Close(context.Background())
		}
	}()
	// Sandbox services come before the functions: what they set in the
	// environment is what the functions read. See devenv.Sandboxes.
	env.SetDefault("PUBLIC_BASE_URL", "http://"+cfg.Addr) // where OAuth callbacks come back
	env.SetDefault("WEBHOOKS_ALLOW_LOOPBACK", "true")     // local webhook receivers (never in AWS)
	if err := env.StartSandboxes(ctx, devenv.Sandboxes()); err != nil {
		return nil, err
	}

	if s.Key, err = gateway.LoadOrCreateDevKey(filepath.Join(env.CacheDir, "jwt-es256.pem")); err != nil {
		return nil, err
	}
	s.Key.Issuer, s.Key.Audience = cfg.Issuer, cfg.Audiences[0]
	if c := env.Getenv("TENANT_CLAIM"); c != "" {
		s.Key.TenantClaim = c
	}
	if jwks, err := s.Key.JWKS(); err == nil {
		_ = os.WriteFile(filepath.Join(env.CacheDir, "jwks.json"), append(jwks, '\n'), 0o644)
	}
	auth := s.Key.Authorizer()
	auth.Audiences = cfg.Audiences

	// Every function, built once, as Lambda builds it.
	opts := env.AppOptions(cfg.Log)
	handlers := map[string]gateway.Handler{}
	for _, fn := range app.HTTPFunctions() {
		api, err := app.HTTP(ctx, fn, opts)
		if err != nil {
			return nil, err
		}
		handlers[fn] = api.Handle
	}
	s.Schedules = []gateway.Schedule{
		{Function: app.StreamSched, Every: cfg.StreamSchedulerEvery, Timeout: devenv.Timeout(app.StreamSched)},
		{Function: app.TokenRefresher, Every: cfg.TokenRefresherEvery, Timeout: devenv.Timeout(app.TokenRefresher)},
		{Function: app.EventDispatcher, Every: cfg.WebhookRetriesEvery, Timeout: devenv.Timeout(app.EventDispatcher)},
	}
	for i := range s.Schedules {
		if s.Schedules[i].Run, err = app.Scheduled(ctx, s.Schedules[i].Function, opts); err != nil {
			return nil, err
		}
	}
	worker, err := app.Worker(ctx, opts)
	if err != nil {
		return nil, err
	}

	region := env.AWS.Region
	gw, err := gateway.New(gateway.Config{Functions: handlers, Auth: auth, Region: region, Logger: logger.With("component", "gateway")})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dev: listening on %s: %w (another make dev? use -addr)", cfg.Addr, err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.served <- s.srv.Serve(ln) }()

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	sched := &gateway.Scheduler{Schedules: s.Schedules, FirstRun: cfg.FirstRun, Region: region, Logger: logger.With("component", "scheduler")}
	s.workers.Go(func() { sched.Run(runCtx) })

	poller, err := streams.New(streams.Config{
		DB: env.DB(), Streams: dynamodbstreams.NewFromConfig(env.AWS), Table: env.Table,
		Handler: streams.Handler(worker), Filter: streams.DeploymentInserts,
		Function: app.DeployWorker, FunctionARN: gateway.FunctionARN(region, gateway.DefaultAccountID, app.DeployWorker),
		PollInterval: cfg.StreamPoll, Bisect: true, Timeout: devenv.Timeout(app.DeployWorker),
		Logger: logger.With("component", "stream"),
	})
	if err != nil {
		return nil, err
	}
	dispatch, err := app.EventStream(ctx, opts)
	if err != nil {
		return nil, err
	}
	// event-dispatcher reads the same stream through its own event source,
	// as in AWS (each mapping has its own position and retries).
	eventPoller, err := streams.New(streams.Config{
		DB: env.DB(), Streams: dynamodbstreams.NewFromConfig(env.AWS), Table: env.Table,
		Handler: streams.Handler(dispatch), Filter: streams.EventItems, BatchSize: 100,
		Function: app.EventDispatcher, FunctionARN: gateway.FunctionARN(region, gateway.DefaultAccountID, app.EventDispatcher),
		PollInterval: cfg.StreamPoll, Bisect: true, Timeout: devenv.Timeout(app.EventDispatcher),
		Logger: logger.With("component", "event-stream"),
	})
	if err != nil {
		return nil, err
	}
	for _, p := range []*streams.Poller{poller, eventPoller} {
		pollErr := make(chan error, 1)
		s.workers.Go(func() { pollErr <- p.Run(runCtx) })
		select {
		case <-p.Ready():
		case err := <-pollErr:
			return nil, fmt.Errorf("dev: stream delivery: %w", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	s.Tenant, s.User, s.TokenTTL = cfg.Tenant, cfg.User, cfg.TokenTTL
	if s.Token, err = s.Key.Token(cfg.User, cfg.Tenant, cfg.TokenTTL, nil); err != nil {
		return nil, err
	}
	s.ConnectLink, s.ConnectLinkErr = connectLink(ctx, s.URL, s.Token)
	s.StartedIn = time.Since(began)
	logger.Info("local stack ready", "url", s.URL, "table", env.Table, "dynamodb", env.Endpoint, "started_in", s.StartedIn.Round(time.Millisecond))
	return s, nil
}

// Close stops the stack: the HTTP server (letting requests in flight
// finish), the schedules and the stream delivery, the sandboxes, and
// DynamoDB Local if dev started it.
func (s *stack) Close(ctx context.Context) error {
	var errs []error
	if s.srv != nil {
		if err := s.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		s.srv = nil
	}
	s.cancel()
	s.workers.Wait()
	if s.Env != nil {
		if err := s.Env.Close(ctx); err != nil {
			errs = append(errs, err)
		}
		s.Env = nil
	}
	return errors.Join(errs...)
}

func printBanner(w io.Writer, s *stack) {
	fmt.Fprintf(w, "\nSwitchboard local stack on %s (started in %s)\n\n", s.URL, s.StartedIn.Round(time.Millisecond))
	fmt.Fprintf(w, "  table     %s on %s\n", s.Env.Table, s.Env.Endpoint)
	fmt.Fprintf(w, "  JWT       ES256, iss %s, aud %s, kid %s\n", s.Key.Issuer, strings.Join(s.Audiences, ","), s.Key.KeyID())
	fmt.Fprintf(w, "            tenant claim %s; key and JWKS in %s\n", s.Key.TenantClaim, s.Env.CacheDir)
	for _, sc := range s.Schedules {
		every := "off"
		if sc.Every > 0 {
			every = "every " + sc.Every.String()
		}
		fmt.Fprintf(w, "  schedule  %-16s %s\n", sc.Function, every)
	}
	fmt.Fprintf(w, "  stream    new deployment items -> %s\n", app.DeployWorker)
	fmt.Fprintf(w, "  stream    connection, livestream, meeting, deployment, webhook and series changes -> %s (events, webhooks)\n", app.EventDispatcher)
	printConfig(w, s.Env.Getenv)
	if vars := s.Env.Added(); len(vars) > 0 {
		parts := make([]string, len(vars))
		for i, kv := range vars {
			parts[i] = kv[0] + "=" + kv[1]
		}
		fmt.Fprintf(w, "  env       %s\n", strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "\nA token for user %s of tenant %s, valid %s:\n\n  export TOKEN=%s\n\n", s.User, s.Tenant, s.TokenTTL, s.Token)
	fmt.Fprintf(w, "Try:\n\n  curl -s -H \"Authorization: Bearer $TOKEN\" %s/platforms\n  curl -s %s/health\n\n", s.URL, s.URL)
	if s.ConnectLink != "" {
		fmt.Fprintf(w, "A connect page for tenant %s (every platform; valid an hour; POST /connect-sessions makes more):\n\n  %s\n\n", s.Tenant, s.ConnectLink)
	} else {
		fmt.Fprintf(w, "No connect link could be made: %v\n\n", s.ConnectLinkErr)
	}
}

// connectLink asks the running stack for a connect page of the token's
// tenant, as an app would.
func connectLink(ctx context.Context, base, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/connect-sessions", strings.NewReader(`{"expiresInSeconds":3600}`))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.URL == "" {
		return "", fmt.Errorf("POST /connect-sessions answered %d", resp.StatusCode)
	}
	return out.URL, nil
}

// printConfig lists the functions' configuration (app.ConfigVars) as the
// stack runs it: each variable's value, or its default when unset.
func printConfig(w io.Writer, getenv func(string) string) {
	fmt.Fprintf(w, "  config\n")
	for _, v := range app.ConfigVars() {
		val := getenv(v.Name)
		if val == "" {
			val = v.Default
		}
		fmt.Fprintf(w, "    %-29s %-24s %s\n", v.Name, val, v.Meaning)
	}
	fmt.Fprintf(w, "    and the vault's KMS_KEY_ID or LOCAL_KEK, each platform's <PLATFORM>_CLIENT_ID, _CLIENT_SECRET, _API_URL, ... (README)\n")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
