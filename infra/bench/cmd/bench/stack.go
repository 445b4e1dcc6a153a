package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// The baseline: one route beside Switchboard's, served by the same
// gateway with the same JWT check, whose handler does one GetItem and
// answers JSON. The main routes' latency is set beside it.
const (
	baselineFunction = "bench-baseline"
	baselinePath     = "/bench/baseline"
	baselineTenant   = "bench-baseline"
	baselineSK       = "BASELINE#item"
)

// stack is Switchboard as make dev runs it, in this process: every HTTP
// function built by internal/app (with the counting AWS config and
// transport) behind the local gateway, on the world's gateway listener.
type stack struct {
	w      *world
	key    *gateway.DevKey
	server *http.Server
	base   string
	opts   app.Options
	client *http.Client
	store  *store.Store // the table, as the functions see it
	// wiringCalls are the calls made while every function was built: the
	// wiring must not wait on the network.
	wiringCalls roundtrip.Calls
	// eventOAuth are the OAuth platforms the sample events' tenant is
	// connected to (seedFirstEvents), in the events' order.
	eventOAuth []string
	liveBody   map[string]any // the sample livestream's request body
}

func startStack(ctx context.Context, w *world) (*stack, error) {
	cfg, err := w.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	s := &stack{w: w, base: w.gwBase, client: &http.Client{
		Timeout: 30 * time.Second,
		// The OAuth callback redirects to the app, which does not exist.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	s.opts = app.Options{Getenv: w.getenv(nil), Log: io.Discard, AWS: &cfg, WrapTransport: w.counter.Transport}
	handlers := map[string]gateway.Handler{}
	w.counter.Take()
	for _, fn := range app.HTTPFunctions() {
		api, err := app.HTTP(ctx, fn, s.opts)
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", fn, err)
		}
		handlers[fn] = api.Handle
	}
	for _, fn := range []string{app.StreamSched, app.TokenRefresher} {
		if _, err := app.Scheduled(ctx, fn, s.opts); err != nil {
			return nil, fmt.Errorf("building %s: %w", fn, err)
		}
	}
	if _, err := app.Worker(ctx, s.opts); err != nil {
		return nil, fmt.Errorf("building %s: %w", app.DeployWorker, err)
	}
	s.wiringCalls = w.counter.Take()
	deps, err := app.NewDeps(ctx, baselineFunction, s.opts)
	if err != nil {
		return nil, err
	}
	if err := deps.Store.Put(ctx, store.Item{
		store.AttrPK: store.S(store.TenantPK(baselineTenant)), store.AttrSK: store.S(baselineSK),
		"type": store.S("bench_baseline"), "name": store.S("baseline"), "count": store.N(42),
	}, nil); err != nil {
		return nil, fmt.Errorf("seeding the baseline item: %w", err)
	}
	s.store = deps.Store
	handlers[baselineFunction] = baselineHandler(deps.Store)
	handlers[replayFunction] = w.replays.handler(deps.DB)
	if s.key, err = gateway.NewDevKey(); err != nil {
		return nil, err
	}
	routes := append(httpapi.Routes(),
		httpapi.Route{Method: "GET", Path: baselinePath, Operation: "benchBaseline", Function: baselineFunction},
		httpapi.Route{Method: "GET", Path: replayPath, Operation: "benchReplay", Function: replayFunction})
	gw, err := gateway.New(gateway.Config{Functions: handlers, Routes: routes, Auth: s.key.Authorizer()})
	if err != nil {
		return nil, err
	}
	s.server = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(w.gwLn) }()
	return s, nil
}

func (s *stack) close() {
	if s.server != nil {
		_ = s.server.Close()
	}
}

// baselineHandler reads one item (one GetItem through the store) and
// answers it as JSON: the least a route that reads can do.
func baselineHandler(st *store.Store) gateway.Handler {
	type view struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
	}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		it, err := st.Get(ctx, store.TenantPK(baselineTenant), baselineSK)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		body, err := json.Marshal(view{Name: store.GetS(it, "name"), Count: store.GetN(it, "count")})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
	}
}

// token is a bearer token for a user of tenant, valid for the whole run.
func (s *stack) token(tenant string) (string, error) {
	return s.key.Token("user-of-"+tenant, tenant, 2*time.Hour, nil)
}

// call sends one request through the gateway as a user of tenant and
// decodes a JSON answer into out when out is not nil.
func (s *stack) call(ctx context.Context, method, path, tenant string, body any, out any) (int, []byte, error) {
	return s.callAs(ctx, method, path, tenant, "user-of-"+tenant, body, out)
}

// callAs is call as the named user of tenant.
func (s *stack) callAs(ctx context.Context, method, path, tenant, user string, body any, out any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tenant != "" {
		tok, err := s.key.Token(user, tenant, 2*time.Hour, nil)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if out != nil && len(raw) > 0 && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, raw, nil
}
