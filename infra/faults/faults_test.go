// Package faults_test injects faults between Switchboard's functions and
// what they talk to (DynamoDB Local and the platforms' fakes): latency,
// connection resets and DynamoDB's throttling answers. Requests either
// succeed after bounded retries or fail with a clear 502/503 problem, and
// nothing is ever left half-written.
package faults_test

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

const kek = "5f3c0c4d1f2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3"

// world is the functions wired as in Lambda, with DynamoDB reached through
// endpoint and the platforms through the sandbox (or proxies in front of it).
type world struct {
	t        *testing.T
	fix      *dynamotest.Fixture
	sb       *sandbox.Sandbox
	env      map[string]string
	handlers map[string]*httpapi.API
}

func newWorld(t *testing.T, dynamoEndpoint string, envOverride func(env map[string]string)) *world {
	t.Helper()
	fix := dynamotest.New(t)
	sb, err := sandbox.Start(context.Background(), sandbox.Options{CallbackBase: "https://api.test", OAuth: oauthtest.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	w := &world{t: t, fix: fix, sb: sb, env: sb.Env(), handlers: map[string]*httpapi.API{}}
	w.env["TABLE_NAME"] = fix.Table
	w.env["LOCAL_KEK"] = kek
	if envOverride != nil {
		envOverride(w.env)
	}
	if dynamoEndpoint == "" {
		dynamoEndpoint = fix.Endpoint
	}
	// What app.NewDeps builds in Lambda, pointed at the endpoint under test:
	// per-attempt timeouts and the SDK's standard retryer.
	cfg := aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(dynamoEndpoint),
		HTTPClient:   awshttp.NewBuildableClient().WithTimeout(2 * time.Second),
	}
	getenv := func(k string) string {
		if v, ok := w.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	for _, fn := range []string{app.Connections, app.OAuth} {
		api, err := app.HTTP(context.Background(), fn, app.Options{Getenv: getenv, Log: io.Discard, AWS: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		w.handlers[fn] = api
	}
	return w
}

func (w *world) do(fn string, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 29*time.Second) // API Gateway's limit
	defer cancel()
	resp, err := w.handlers[fn].Handle(ctx, ev)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp
}

func (w *world) connectRender(tenant string) events.APIGatewayV2HTTPResponse {
	return w.do(app.Connections, apitest.Event("POST", "/connections/render", apitest.As(tenant, "u"),
		apitest.Body(map[string]any{"credentials": map[string]string{"apiKey": "rnd_faulty0001"}})))
}

// connectZoom runs the OAuth flow through the handlers.
func (w *world) connectZoom(tenant string) {
	w.t.Helper()
	resp := w.do(app.OAuth, apitest.Event("POST", "/connections/zoom/oauth", apitest.As(tenant, "u"), apitest.Body(map[string]string{})))
	var start struct{ AuthorizeURL string }
	apitest.DecodeJSON(w.t, resp, 200, &start)
	code, state := oauthtest.Authorize(w.t, start.AuthorizeURL)
	cb := w.do(app.OAuth, apitest.Event("GET", "/oauth/zoom/callback?"+url.Values{"code": {code}, "state": {state}}.Encode()))
	if cb.StatusCode != 200 {
		w.t.Fatalf("callback: %d %s", cb.StatusCode, cb.Body)
	}
}

// checkNothingHalfWritten reads every item of the table and holds each
// connection to the invariant: connected means decryptable credentials,
// disconnected means none.
func (w *world) checkNothingHalfWritten() {
	w.t.Helper()
	kr, err := vault.NewLocalKeyring(kek)
	if err != nil {
		w.t.Fatal(err)
	}
	v := vault.New(kr)
	out, err := w.fix.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(w.fix.Table)})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, it := range out.Items {
		if store.GetS(it, "type") != "connection" {
			continue
		}
		env, ec, sealed := store.GetSealed(it, "creds")
		switch store.GetS(it, "status") {
		case "connected":
			if !sealed {
				if store.GetS(it, "authType") != "none" {
					w.t.Errorf("%s is connected without credentials", store.GetS(it, "sk"))
				}
				continue
			}
			if _, err := v.Open(context.Background(), env, ec); err != nil {
				w.t.Errorf("%s is connected with credentials that do not open: %v", store.GetS(it, "sk"), err)
			}
		case "disconnected":
			if sealed {
				w.t.Errorf("%s is disconnected but keeps credentials", store.GetS(it, "sk"))
			}
		}
	}
}

func statusOf(t *testing.T, resp events.APIGatewayV2HTTPResponse) (int, string) {
	t.Helper()
	var p struct{ Code string }
	_ = json.Unmarshal([]byte(resp.Body), &p)
	return resp.StatusCode, p.Code
}

func itemCount(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

func hostPort(t *testing.T, endpoint string) string {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
