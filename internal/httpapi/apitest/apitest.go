// Package apitest builds API Gateway HTTP API (payload 2.0) events for
// tests, the way API Gateway and the local gateway deliver them.
package apitest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Option changes an event.
type Option func(*events.APIGatewayV2HTTPRequest)

// As sets the verified JWT claims for a user of a tenant.
func As(tenant, user string) Option {
	return Claims(map[string]string{"sub": user, "tenant_id": tenant})
}

// Claims sets the JWT authorizer's claims as they are.
func Claims(c map[string]string) Option {
	return func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c},
		}
	}
}

// Body sets a JSON body from a value or a raw string.
func Body(v any) Option {
	return func(ev *events.APIGatewayV2HTTPRequest) {
		switch b := v.(type) {
		case string:
			ev.Body = b
		case []byte:
			ev.Body = string(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				panic(err)
			}
			ev.Body = string(raw)
		}
		ev.Headers["content-type"] = "application/json"
	}
}

// Header sets a header (lower-cased, as API Gateway does).
func Header(name, value string) Option {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers[strings.ToLower(name)] = value }
}

// Event builds an event for method and target (a path with an optional
// query string).
func Event(method, target string, opts ...Option) events.APIGatewayV2HTTPRequest {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        u.EscapedPath(),
		RawQueryString: u.RawQuery,
		Headers:        map[string]string{"host": "api.example.test", "user-agent": "apitest"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-test",
			Stage:     "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: u.Path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "apitest",
			},
		},
	}
	if q := u.Query(); len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, v := range q {
			ev.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	for _, o := range opts {
		o(&ev)
	}
	return ev
}

// Problem is a decoded problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Instance string `json:"instance"`
}

// DecodeProblem checks that resp is a problem document with the status and
// returns it.
func DecodeProblem(t testing.TB, resp events.APIGatewayV2HTTPResponse, status int) Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, resp.Body)
	}
	var p Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem is not JSON: %v: %s", err, resp.Body)
	}
	if p.Status != status || p.Code == "" || p.Title != http.StatusText(status) || !strings.HasPrefix(p.Type, "urn:switchboard:problem:") {
		t.Fatalf("malformed problem document: %s", resp.Body)
	}
	return p
}

// DecodeJSON checks the status and decodes the JSON body into v.
func DecodeJSON(t testing.TB, resp events.APIGatewayV2HTTPResponse, status int, v any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal([]byte(resp.Body), v); err != nil {
		t.Fatalf("body is not the JSON expected: %v: %s", err, resp.Body)
	}
}
