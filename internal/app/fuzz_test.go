package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/eventfile"
	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
)

// The fuzz targets send each HTTP function events that start from the
// samples in events/ and are then mutated anywhere: method, path, query,
// body, headers and claims. Whatever arrives, the function must not crash,
// must not answer 500 (a client's mistake is never our fault), and every
// 4xx must be an RFC 9457 problem document.

func FuzzOAuthHandler(f *testing.F)       { fuzzFunction(f, app.OAuth) }
func FuzzConnectionsHandler(f *testing.F) { fuzzFunction(f, app.Connections) }
func FuzzLivestreamsHandler(f *testing.F) { fuzzFunction(f, app.Livestreams) }
func FuzzMeetingsHandler(f *testing.F)    { fuzzFunction(f, app.Meetings) }
func FuzzDeploymentsHandler(f *testing.F) { fuzzFunction(f, app.Deployments) }

func fuzzFunction(f *testing.F, function string) {
	handle := fuzzHandler(f, function)
	seeds := 0
	for _, ev := range sampleEvents(f) {
		route, _, found, _ := httpapi.NewMatcher(httpapi.Routes()).Match(ev.RequestContext.HTTP.Method, ev.RawPath)
		if found && route.Function != function {
			continue
		}
		addSeed(f, ev)
		seeds++
		// The seeds' tenant is connected: a sample create gets past the
		// connection checks, so fuzzing it reaches the validation behind them.
		if resp, err := handle(context.Background(), ev); err == nil && resp.StatusCode == 409 &&
			strings.Contains(resp.Body, "not_connected") {
			f.Fatalf("the sample %s %s still meets a missing connection: %s", ev.RequestContext.HTTP.Method, ev.RawPath, resp.Body)
		}
	}
	// Every route of the function, with and without a body, is a seed too.
	for _, r := range httpapi.Routes() {
		if r.Function != function {
			continue
		}
		path := strings.NewReplacer("{platform}", "youtube", "{id}", "01JD6Y3K2V7R8S9T0A1B2C3D4E").Replace(r.Path)
		f.Add(r.Method, path, "limit=2&cursor=c1.e30", []byte(`{"title":"t"}`), "tenant-fuzz", "user-fuzz", "application/json")
		f.Add(r.Method, path, "", []byte(nil), "", "", "")
		seeds++
	}
	if seeds == 0 {
		f.Fatalf("no seed reaches %s", function)
	}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte, tenant, user, contentType string) {
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: query, Body: string(body),
			Headers: map[string]string{"content-type": contentType},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RequestID: "fuzz", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			},
		}
		if tenant != "" || user != "" {
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": user, "tenant_id": tenant}},
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20e9)
		defer cancel()
		resp, err := handle(ctx, ev)
		if err != nil {
			t.Fatalf("the handler returned an error (Lambda would answer a bare 502): %v", err)
		}
		if resp.StatusCode == 500 || resp.StatusCode < 100 || resp.StatusCode > 599 {
			t.Fatalf("%s %s?%s answered %d: %s", method, path, query, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode >= 400 && strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			// The pages a person's browser opens (the connect page, the
			// OAuth callback) refuse with a page that says why.
			if !strings.Contains(resp.Body, "<h1>") || resp.Headers["Content-Security-Policy"] == "" {
				t.Fatalf("%s %s answered %d with a page without a heading or a policy: %q", method, path, resp.StatusCode, resp.Body)
			}
		} else if resp.StatusCode >= 400 {
			var p struct {
				Type, Title, Code string
				Status            int
			}
			if resp.Headers["Content-Type"] != "application/problem+json" || json.Unmarshal([]byte(resp.Body), &p) != nil ||
				p.Status != resp.StatusCode || p.Code == "" || p.Type == "" || p.Title == "" {
				t.Fatalf("%s %s answered %d without a problem document: %q", method, path, resp.StatusCode, resp.Body)
			}
		}
	})
}

func addSeed(f *testing.F, ev events.APIGatewayV2HTTPRequest) {
	var tenant, user string
	if a := ev.RequestContext.Authorizer; a != nil && a.JWT != nil {
		tenant, user = a.JWT.Claims["tenant_id"], a.JWT.Claims["sub"]
	}
	f.Add(ev.RequestContext.HTTP.Method, ev.RawPath, ev.RawQueryString, []byte(ev.Body), tenant, user, ev.Headers["content-type"])
}

// sampleEvents reads the HTTP events of events/.
func sampleEvents(f *testing.F) []events.APIGatewayV2HTTPRequest {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample events: %v", err)
	}
	var out []events.APIGatewayV2HTTPRequest
	for _, file := range files {
		raw, err := eventfile.Read(file, time.Now())
		if err != nil {
			f.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if json.Unmarshal(raw, &ev) == nil && ev.RequestContext.HTTP.Method != "" {
			out = append(out, ev)
		}
	}
	return out
}

// fuzzHandler builds the function once per fuzz target, against DynamoDB
// Local and the platform sandbox, as make dev runs it.
func fuzzHandler(f *testing.F, function string) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	fix := dynamotest.New(f)
	sb, err := sandbox.Start(context.Background(), sandbox.Options{CallbackBase: "http://127.0.0.1:3000", OAuth: oauthtest.Start(f)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(sb.Close)
	env := sb.Env()
	env["TABLE_NAME"] = fix.Table
	env["LOCAL_KEK"] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	env["RETURN_URL_ALLOWLIST"] = "https://app.example.com"
	var mu sync.Mutex
	getenv := func(k string) string {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	opts := app.Options{Getenv: getenv, Log: io.Discard}
	connectEverything(f, opts, fuzzTenants...)
	api, err := app.HTTP(context.Background(), function, opts)
	if err != nil {
		f.Fatal(err)
	}
	return api.Handle
}

// fuzzTenants are the tenants of the seeds: the sample events' and the
// route seeds'. Each has every platform connected, so a fuzzed create gets
// past "not connected" to the validation behind it.
var fuzzTenants = []string{"tenant-grace-church", "tenant-fuzz"}

// connectEverything connects each tenant to every platform of the sandbox
// through the connections and oauth functions, as a user would: keys for
// the key platforms, the whole authorization for the OAuth ones.
func connectEverything(f *testing.F, opts app.Options, tenants ...string) {
	ctx := context.Background()
	conns, err := app.HTTP(ctx, app.Connections, opts)
	if err != nil {
		f.Fatal(err)
	}
	oauth, err := app.HTTP(ctx, app.OAuth, opts)
	if err != nil {
		f.Fatal(err)
	}
	keys := map[platform.ID]map[string]string{
		render.ID: {"apiKey": "rnd_fuzz"}, railway.ID: {"token": "railway-fuzz"},
		vercel.ID: {"token": "vercel-fuzz"}, jitsi.ID: {},
	}
	call := func(api *httpapi.API, ev events.APIGatewayV2HTTPRequest, want int, out any) {
		resp, err := api.Handle(ctx, ev)
		if err != nil || resp.StatusCode != want {
			f.Fatalf("%s %s: %d %s %v", ev.RequestContext.HTTP.Method, ev.RawPath, resp.StatusCode, resp.Body, err)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
				f.Fatal(err)
			}
		}
	}
	for _, tenant := range tenants {
		who := apitest.As(tenant, "user-fuzz")
		for _, d := range registry.All() {
			if creds, ok := keys[d.ID]; ok {
				call(conns, apitest.Event("POST", "/connections/"+string(d.ID), who, apitest.Body(map[string]any{"credentials": creds})), 201, nil)
				continue
			}
			var start struct{ AuthorizeURL string }
			call(oauth, apitest.Event("POST", "/connections/"+string(d.ID)+"/oauth", who, apitest.Body(map[string]any{})), 200, &start)
			code, state := oauthtest.Authorize(f, start.AuthorizeURL)
			q := url.Values{"code": {code}, "state": {state}}
			call(oauth, apitest.Event("GET", "/oauth/"+string(d.ID)+"/callback?"+q.Encode()), 200, nil)
		}
	}
}
