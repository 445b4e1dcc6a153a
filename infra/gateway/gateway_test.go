package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// call is one invocation a fake function saw.
type call struct {
	ev       events.APIGatewayV2HTTPRequest
	lc       *lambdacontext.LambdaContext
	deadline time.Time
}

// fakes are stand-ins for every HTTP function; each records its calls.
type fakes struct {
	mu    sync.Mutex
	calls map[string][]call
	// answer, when set, replaces the default answer {"function": name}.
	answer func(fn string, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

func (f *fakes) handlers() map[string]gateway.Handler {
	m := map[string]gateway.Handler{}
	for _, fn := range app.HTTPFunctions() {
		m[fn] = func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			lc, _ := lambdacontext.FromContext(ctx)
			dl, _ := ctx.Deadline()
			f.mu.Lock()
			f.calls[fn] = append(f.calls[fn], call{ev: ev, lc: lc, deadline: dl})
			answer := f.answer
			f.mu.Unlock()
			if answer != nil {
				return answer(fn, ev)
			}
			body, _ := json.Marshal(map[string]string{"function": fn})
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
		}
	}
	return m
}

func (f *fakes) all() map[string][]call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]call{}
	for k, v := range f.calls {
		out[k] = append([]call(nil), v...)
	}
	return out
}

func (f *fakes) total() int {
	n := 0
	for _, c := range f.all() {
		n += len(c)
	}
	return n
}

type harness struct {
	url   string
	key   *gateway.DevKey
	fakes *fakes
}

func newHarness(t *testing.T, mutate ...func(*gateway.Config)) *harness {
	t.Helper()
	key, err := gateway.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakes{calls: map[string][]call{}}
	cfg := gateway.Config{Functions: f.handlers(), Auth: key.Authorizer()}
	for _, m := range mutate {
		m(&cfg)
	}
	gw, err := gateway.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return &harness{url: srv.URL, key: key, fakes: f}
}

func (h *harness) token(t *testing.T, extra map[string]any) string {
	t.Helper()
	tok, err := h.key.Token("user-1", "tenant-1", time.Hour, extra)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, method, url, token string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, raw
}

// problemOf checks a gateway problem document with apitest's rules.
func problemOf(t *testing.T, resp *http.Response, raw []byte, status int) apitest.Problem {
	t.Helper()
	return apitest.DecodeProblem(t, events.APIGatewayV2HTTPResponse{
		StatusCode: resp.StatusCode, Headers: map[string]string{"Content-Type": resp.Header.Get("Content-Type")}, Body: string(raw),
	}, status)
}

func TestValidTokenGivesTheFunctionAPIGatewaysEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, map[string]any{"groups": []string{"admins", "editors"}, "scope": "read write", "level": 3, "verified": true})
	before := time.Now()
	resp, raw := do(t, "POST", h.url+"/connections/youtube?x=1&x=2&y=a%20b", tok, strings.NewReader(`{"credentials":{}}`),
		"Content-Type", "application/json", "X-Custom", "one", "X-Custom", "two", "Cookie", "a=1; b=2", "User-Agent", "gw-test/1")
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"connections"`) {
		t.Fatalf("status %d body %s", resp.StatusCode, raw)
	}
	calls := h.fakes.all()
	if len(calls) != 1 || len(calls[app.Connections]) != 1 {
		t.Fatalf("calls %v, want one to connections", calls)
	}
	c := calls[app.Connections][0]
	ev := c.ev
	checks := []struct {
		what      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /connections/{platform}"},
		{"requestContext.routeKey", ev.RequestContext.RouteKey, "POST /connections/{platform}"},
		{"rawPath", ev.RawPath, "/connections/youtube"},
		{"rawQueryString", ev.RawQueryString, "x=1&x=2&y=a%20b"},
		{"query x", ev.QueryStringParameters["x"], "1,2"},
		{"query y", ev.QueryStringParameters["y"], "a b"},
		{"path parameter", ev.PathParameters["platform"], "youtube"},
		{"repeated header", ev.Headers["x-custom"], "one,two"},
		{"content-type header", ev.Headers["content-type"], "application/json"},
		{"authorization header passed on", strings.HasPrefix(ev.Headers["authorization"], "Bearer "), true},
		{"cookie header removed", ev.Headers["cookie"], ""},
		{"cookies", strings.Join(ev.Cookies, "|"), "a=1|b=2"},
		{"body", ev.Body, `{"credentials":{}}`},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
		{"stage", ev.RequestContext.Stage, "$default"},
		{"accountId", ev.RequestContext.AccountID, gateway.DefaultAccountID},
		{"apiId", ev.RequestContext.APIID, gateway.DefaultAPIID},
		{"domainName", ev.RequestContext.DomainName, "127.0.0.1"},
		{"http.method", ev.RequestContext.HTTP.Method, "POST"},
		{"http.path", ev.RequestContext.HTTP.Path, "/connections/youtube"},
		{"http.protocol", ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"http.sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"http.userAgent", ev.RequestContext.HTTP.UserAgent, "gw-test/1"},
		{"requestId is the Apigw-Requestid header", ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid")},
		{"claim sub", ev.RequestContext.Authorizer.JWT.Claims["sub"], "user-1"},
		{"claim tenant_id", ev.RequestContext.Authorizer.JWT.Claims["tenant_id"], "tenant-1"},
		{"claim iss", ev.RequestContext.Authorizer.JWT.Claims["iss"], gateway.DefaultIssuer},
		{"array claim", ev.RequestContext.Authorizer.JWT.Claims["groups"], "[admins editors]"},
		{"number claim", ev.RequestContext.Authorizer.JWT.Claims["level"], "3"},
		{"bool claim", ev.RequestContext.Authorizer.JWT.Claims["verified"], "true"},
		{"scopes", strings.Join(ev.RequestContext.Authorizer.JWT.Scopes, " "), "read write"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %#v, want %#v", c.what, c.got, c.want)
		}
	}
	if ev.RequestContext.RequestID == "" {
		t.Error("requestId is empty")
	}
	if exp := ev.RequestContext.Authorizer.JWT.Claims["exp"]; len(exp) != 10 || strings.ContainsAny(exp, ".e") {
		t.Errorf("exp claim %q is not an integer string", exp)
	}
	at := time.UnixMilli(ev.RequestContext.TimeEpoch)
	if at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("timeEpoch %v is not now", at)
	}
	if parsed, err := time.Parse("02/Jan/2006:15:04:05 -0700", ev.RequestContext.Time); err != nil || parsed.Unix() != at.Unix() {
		t.Errorf("time %q does not match timeEpoch (%v)", ev.RequestContext.Time, err)
	}
	if c.lc == nil || c.lc.AwsRequestID == "" || !strings.HasSuffix(c.lc.InvokedFunctionArn, ":function:switchboard-connections") {
		t.Errorf("LambdaContext %+v", c.lc)
	}
	if left := time.Until(c.deadline); left < 25*time.Second || left > 30*time.Second {
		t.Errorf("the invocation's deadline is %v away, want about 29s", left)
	}
}

func TestTheRealHTTPAPIServesThroughTheGateway(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{Function: app.Connections}, httpapi.Services{Platforms: registry.NewCatalog(nil)})
	h := newHarness(t, func(c *gateway.Config) { c.Functions[app.Connections] = api.Handle })
	resp, raw := do(t, "GET", h.url+"/platforms", h.token(t, nil), nil)
	var body struct {
		Items []struct{ ID string } `json:"items"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &body) != nil || len(body.Items) == 0 {
		t.Fatalf("GET /platforms: %d %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// A tenant-scoped route sees the identity: not built yet, so 501, not 401.
	resp, raw = do(t, "GET", h.url+"/connections", h.token(t, nil), nil)
	if resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("GET /connections: %d %s", resp.StatusCode, raw)
	}
}

func TestRefusedTokensAre401AndNeverReachTheFunction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other, err := gateway.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	good := h.token(t, nil)
	parts := strings.Split(good, ".")
	// A token signed by another key but claiming the trusted key's id.
	impostor := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": gateway.DefaultIssuer, "aud": gateway.DefaultAudience, "sub": "u", "tenant_id": "t",
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	impostor.Header["kid"] = h.key.KeyID()
	otherKeyToken, err := other.Token("u", "t", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	unsafeNone := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
			"iss": gateway.DefaultIssuer, "aud": gateway.DefaultAudience, "sub": "u", "tenant_id": "t",
			"exp": time.Now().Add(time.Hour).Unix(),
		})
		tok.Header["kid"] = h.key.KeyID()
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs256 := func() string {
		// The classic confusion: HMAC keyed with the public key's bytes.
		pub, _ := h.key.PublicKey().Bytes()
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": gateway.DefaultIssuer, "aud": gateway.DefaultAudience, "sub": "u", "tenant_id": "t",
			"exp": time.Now().Add(time.Hour).Unix(),
		})
		tok.Header["kid"] = h.key.KeyID()
		s, err := tok.SignedString(pub)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signedByOther, err := impostor.SignedString(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		header string
		detail string
	}{
		{"missing", "", "missing"},
		{"not a bearer", "Basic dXNlcjpwYXNz", "not a bearer"},
		{"malformed", "Bearer not.a.jwt", "well-formed"},
		{"expired", "Bearer " + h.token(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), "expired"},
		{"expired within the leeway is fine, beyond it is not", "Bearer " + h.token(t, map[string]any{"exp": time.Now().Add(-2 * gateway.DefaultLeeway).Unix()}), "expired"},
		{"no exp", "Bearer " + h.token(t, map[string]any{"exp": nil}), "exp"},
		{"not valid yet", "Bearer " + h.token(t, map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}), "nbf"},
		{"issued in the future", "Bearer " + h.token(t, map[string]any{"iat": time.Now().Add(time.Hour).Unix()}), "iat"},
		{"wrong audience", "Bearer " + h.token(t, map[string]any{"aud": "someone-else"}), "aud"},
		{"no audience", "Bearer " + h.token(t, map[string]any{"aud": nil}), "aud"},
		{"wrong issuer", "Bearer " + h.token(t, map[string]any{"iss": "https://evil.example/"}), "iss"},
		{"bad signature", "Bearer " + parts[0] + "." + parts[1] + "." + flip(parts[2]), "signature"},
		{"signed by another key under the trusted kid", "Bearer " + signedByOther, "signature"},
		{"unknown kid", "Bearer " + otherKeyToken, "kid"},
		{"alg none", "Bearer " + unsafeNone(), "ES256"},
		{"alg HS256 keyed with the public key", "Bearer " + hs256(), "ES256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", h.url+"/platforms", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			p := problemOf(t, resp, raw, http.StatusUnauthorized)
			if p.Code != "unauthenticated" || !strings.Contains(p.Detail, c.detail) {
				t.Errorf("problem %+v, want code unauthenticated and a detail about %q", p, c.detail)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Cleanup(func() {
		if n := h.fakes.total(); n != 0 {
			t.Errorf("a function was called %d times with a refused token", n)
		}
	})
}

func TestTokenWithinTheLeewayIsAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, map[string]any{"exp": time.Now().Add(-5 * time.Second).Unix(), "iat": time.Now().Add(5 * time.Second).Unix()})
	if resp, raw := do(t, "GET", h.url+"/platforms", tok, nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
}

func TestClientIDStandsInForAMissingAudience(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, map[string]any{"aud": nil, "client_id": gateway.DefaultAudience})
	if resp, raw := do(t, "GET", h.url+"/platforms", tok, nil); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
}

func TestPublicRoutesNeedNoToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, target := range []string{"/health", "/openapi.json", "/oauth/youtube/callback?code=c&state=s"} {
		resp, raw := do(t, "GET", h.url+target, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s without a token: %d %s", target, resp.StatusCode, raw)
		}
	}
	calls := h.fakes.all()
	if len(calls[app.Connections]) != 2 || len(calls[app.OAuth]) != 1 {
		t.Fatalf("calls %v", calls)
	}
	cb := calls[app.OAuth][0].ev
	if cb.RequestContext.Authorizer != nil || cb.QueryStringParameters["code"] != "c" || cb.PathParameters["platform"] != "youtube" {
		t.Fatalf("callback event %+v", cb)
	}
}

func TestEachRouteIsDispatchedToItsFunctionOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, nil)
	for _, r := range httpapi.Routes() {
		path := r.Path
		for _, p := range []string{"{platform}", "{id}"} {
			path = strings.ReplaceAll(path, p, "x1")
		}
		before := h.fakes.all()
		resp, raw := do(t, r.Method, h.url+path, tok, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(raw), `"`+r.Function+`"`) {
			t.Errorf("%s %s: %d %s, want the answer of %s", r.Method, path, resp.StatusCode, raw, r.Function)
			continue
		}
		after := h.fakes.all()
		for fn := range after {
			grew := len(after[fn]) - len(before[fn])
			want := 0
			if fn == r.Function {
				want = 1
			}
			if grew != want {
				t.Errorf("%s %s: %s was called %d times, want %d", r.Method, path, fn, grew, want)
			}
		}
		last := after[r.Function][len(after[r.Function])-1].ev
		if last.RouteKey != r.Key() {
			t.Errorf("%s %s reached %s with routeKey %q, want %q", r.Method, path, r.Function, last.RouteKey, r.Key())
		}
	}
}

func TestUnknownPathIs404ProblemWithoutCallingAFunction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, raw := do(t, "GET", h.url+"/nope/nothing", "", nil)
	if p := problemOf(t, resp, raw, http.StatusNotFound); p.Code != "route_not_found" {
		t.Fatalf("%+v", p)
	}
	if h.fakes.total() != 0 {
		t.Fatal("a function was called")
	}
}

func TestKnownPathWithAnotherMethodIs405WithAllow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, raw := do(t, "PUT", h.url+"/livestreams/abc", "", nil)
	if p := problemOf(t, resp, raw, http.StatusMethodNotAllowed); p.Code != "method_not_allowed" {
		t.Fatalf("%+v", p)
	}
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, PATCH" {
		t.Fatalf("Allow %q", got)
	}
	if h.fakes.total() != 0 {
		t.Fatal("a function was called")
	}
}

func TestBodyOverTenMegabytesIs413(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, nil)
	over := bytes.Repeat([]byte("a"), gateway.MaxBodyBytes+1)

	resp, raw := do(t, "POST", h.url+"/deployments", tok, bytes.NewReader(over), "Content-Type", "application/json")
	if p := problemOf(t, resp, raw, http.StatusRequestEntityTooLarge); p.Code != "body_too_large" {
		t.Fatalf("%+v", p)
	}
	// Without a Content-Length (chunked), the limit holds while reading.
	resp, raw = do(t, "POST", h.url+"/deployments", tok, io.MultiReader(bytes.NewReader(over)), "Content-Type", "application/json")
	problemOf(t, resp, raw, http.StatusRequestEntityTooLarge)
	if h.fakes.total() != 0 {
		t.Fatal("a function was called with an oversized body")
	}
	// The limit itself is allowed.
	resp, raw = do(t, "POST", h.url+"/deployments", tok, bytes.NewReader(over[:gateway.MaxBodyBytes]), "Content-Type", "application/json")
	if resp.StatusCode != 200 {
		t.Fatalf("a body of exactly 10 MB: %d %s", resp.StatusCode, raw)
	}
	if ev := h.fakes.all()[app.Deployments][0].ev; len(ev.Body) != gateway.MaxBodyBytes {
		t.Fatalf("the function got %d bytes", len(ev.Body))
	}
}

func TestNonTextBodiesArriveBase64Encoded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token(t, nil)
	payload := []byte{0, 1, 2, 0xff, 'x'}
	for _, ct := range []string{"application/octet-stream", "application/x-www-form-urlencoded", ""} {
		req, _ := http.NewRequest("POST", h.url+"/deployments", bytes.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+tok)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i, c := range h.fakes.all()[app.Deployments] {
		got, err := base64.StdEncoding.DecodeString(c.ev.Body)
		if !c.ev.IsBase64Encoded || err != nil || !bytes.Equal(got, payload) {
			t.Errorf("request %d: isBase64Encoded %v body %q", i, c.ev.IsBase64Encoded, c.ev.Body)
		}
	}
}

func TestTheFunctionsAnswerIsWrittenBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakes.answer = func(string, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      201,
			Headers:         map[string]string{"Content-Type": "image/png", "X-Thing": "a,b"},
			Cookies:         []string{"s=1; Path=/; HttpOnly", "t=2"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}),
			IsBase64Encoded: true,
		}, nil
	}
	resp, raw := do(t, "GET", h.url+"/health", "", nil)
	if resp.StatusCode != 201 || !bytes.Equal(raw, []byte{0x89, 'P', 'N', 'G'}) {
		t.Fatalf("%d %q", resp.StatusCode, raw)
	}
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Thing") != "a,b" {
		t.Fatalf("headers %v", resp.Header)
	}
	if got := resp.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"s=1; Path=/; HttpOnly", "t=2"}) {
		t.Fatalf("Set-Cookie %q", got)
	}
}

func TestFunctionFailuresAreProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		answer func() (events.APIGatewayV2HTTPResponse, error)
		status int
		code   string
	}{
		{"an error is 500", func() (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
		}, 500, "internal_error"},
		{"a panic is 500", func() (events.APIGatewayV2HTTPResponse, error) { panic("boom") }, 500, "internal_error"},
		{"no status code is 500", func() (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{Body: "{}"}, nil
		}, 500, "internal_error"},
		{"bad base64 is 500", func() (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "%%%", IsBase64Encoded: true}, nil
		}, 500, "internal_error"},
		{"too slow is 503", func() (events.APIGatewayV2HTTPResponse, error) {
			time.Sleep(300 * time.Millisecond)
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}, 503, "integration_timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(cfg *gateway.Config) { cfg.Timeout = 100 * time.Millisecond })
			h.fakes.answer = func(string, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return c.answer()
			}
			resp, raw := do(t, "GET", h.url+"/health", "", nil)
			if p := problemOf(t, resp, raw, c.status); p.Code != c.code {
				t.Fatalf("%+v", p)
			}
		})
	}
}

func TestNewRefusesRoutesWithoutAFunction(t *testing.T) {
	t.Parallel()
	key, _ := gateway.NewDevKey()
	_, err := gateway.New(gateway.Config{Functions: map[string]gateway.Handler{}, Auth: key.Authorizer()})
	if err == nil || !strings.Contains(err.Error(), "connections") {
		t.Fatalf("err %v", err)
	}
}

func flip(sig string) string {
	b := []byte(sig)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}
