package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/browsertest"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi/openapitest"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

func TestMain(m *testing.M) {
	// The functions load AWS configuration from the environment, as in
	// Lambda; dynamotest.Run points DynamoDB at the emulator.
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dynamotest.Run(m, browsertest.Close) // the connect page's browser tests share one browser
}

// stack is Switchboard as `make dev` runs it: the functions behind the
// local gateway with its JWT authorizer, on DynamoDB Local, pointed at the
// sandbox (the OAuth mock and the platform fakes), all over real HTTP.
type stack struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	gw     *httptest.Server
	key    *gateway.DevKey
	env    map[string]string
	table  string
	app    *httptest.Server // the SaaS app that returnTo points at
	mu     sync.Mutex
	landed []url.Values // query strings the app was sent back with

	// Everything the functions logged and answered, for secret scans.
	logs    *servicetest.Logs
	answers *servicetest.Logs
}

func newStack(t *testing.T, extraEnv map[string]string) *stack {
	t.Helper()
	ctx := context.Background()
	f := dynamotest.New(t)
	s := &stack{t: t, table: f.Table, logs: &servicetest.Logs{}, answers: &servicetest.Logs{}}
	s.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.landed = append(s.landed, r.URL.Query())
		s.mu.Unlock()
		io.WriteString(w, "back in the app")
	}))
	t.Cleanup(s.app.Close)
	s.gw = httptest.NewUnstartedServer(nil)
	base := "http://" + s.gw.Listener.Addr().String()
	sb, err := sandbox.Start(ctx, sandbox.Options{CallbackBase: base, OAuth: oauthtest.New(t)}) // its own: stats are per server
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	s.sb = sb
	s.env = sb.Env()
	s.env["TABLE_NAME"] = f.Table
	s.env["LOCAL_KEK"] = "8f3c0c4d1f2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3"
	s.env["RETURN_URL_ALLOWLIST"] = s.app.URL
	for k, v := range extraEnv {
		s.env[k] = v
	}
	getenv := func(k string) string {
		if v, ok := s.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	handlers := map[string]gateway.Handler{}
	for _, fn := range app.HTTPFunctions() {
		api, err := app.HTTP(ctx, fn, app.Options{Getenv: getenv, Log: s.logs})
		if err != nil {
			t.Fatalf("building %s: %v", fn, err)
		}
		handle := api.Handle
		// Every answer is held to openapi.json on its way out.
		handlers[fn] = func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			resp, err := handle(ctx, ev)
			openapitest.Check(t, ev, resp)
			if !strings.HasSuffix(ev.RawPath, "/ingest") { // the one place stream keys are shown
				fmt.Fprintf(s.answers, "%s %s %d %v %s\n", ev.RequestContext.HTTP.Method, ev.RawPath, resp.StatusCode, resp.Headers, resp.Body)
			}
			return resp, err
		}
	}
	if s.key, err = gateway.NewDevKey(); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Functions: handlers, Auth: s.key.Authorizer()})
	if err != nil {
		t.Fatal(err)
	}
	s.gw.Config.Handler = gw
	s.gw.Start()
	t.Cleanup(s.gw.Close)
	return s
}

func (s *stack) token(tenant, user string) string {
	s.t.Helper()
	tok, err := s.key.Token(user, tenant, time.Hour, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// call sends a request as a user of a tenant ("" for none) and decodes a
// JSON answer into out when out is not nil.
func (s *stack) call(method, path, tenant string, body any, out any) *http.Response {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, s.gw.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tenant != "" {
		req.Header.Set("Authorization", "Bearer "+s.token(tenant, "user-of-"+tenant))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp
}

func bodyOf(r *http.Response) string {
	raw, _ := io.ReadAll(r.Body)
	return string(raw)
}

// connectOAuth runs the whole OAuth dance as a browser would: start, follow
// every redirect from the provider through the callback back to the app.
func (s *stack) connectOAuth(tenant, platform string) url.Values {
	s.t.Helper()
	var start struct{ AuthorizeURL, ExpiresAt string }
	resp := s.call("POST", "/connections/"+platform+"/oauth", tenant, map[string]string{"returnTo": s.app.URL + "/settings"}, &start)
	if resp.StatusCode != 200 || start.AuthorizeURL == "" {
		s.t.Fatalf("start %s: %d %s", platform, resp.StatusCode, bodyOf(resp))
	}
	browser := &http.Client{Timeout: 30 * time.Second} // follows redirects, like a browser
	r, err := browser.Get(start.AuthorizeURL)
	if err != nil {
		s.t.Fatalf("following the authorization of %s: %v", platform, err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.HasPrefix(r.Request.URL.String(), s.app.URL+"/settings") {
		s.t.Fatalf("%s: the browser ended at %s (%d), not back in the app", platform, r.Request.URL, r.StatusCode)
	}
	return r.Request.URL.Query()
}
