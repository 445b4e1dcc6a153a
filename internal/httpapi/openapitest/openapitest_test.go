package openapitest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/httpapi/openapitest"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// recorder is a testing.TB that records failures instead of failing. The
// embedded TB only supplies testing.TB's unexported method and whatever
// Check is not expected to call.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

// check runs Check against a recorder, in its own goroutine so that a
// Fatalf ends only that goroutine, and returns what it reported.
func check(t *testing.T, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) *recorder {
	t.Helper()
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		openapitest.Check(rec, ev, resp)
	}()
	<-done
	return rec
}

func mustPass(t *testing.T, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if rec := check(t, ev, resp); len(rec.errors) > 0 {
		t.Errorf("Check failed a good exchange:\n%s", strings.Join(rec.errors, "\n"))
	}
}

// mustFail asserts that Check reported (with Errorf, not Fatalf) and that
// its report contains every want.
func mustFail(t *testing.T, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse, want ...string) {
	t.Helper()
	rec := check(t, ev, resp)
	if len(rec.errors) == 0 {
		t.Fatalf("Check passed an exchange that disagrees with openapi.json: %d %s", resp.StatusCode, resp.Body)
	}
	if rec.fatal {
		t.Fatalf("Check stopped the test instead of reporting: %s", rec.errors)
	}
	report := strings.Join(rec.errors, "\n")
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("the report does not say %q:\n%s", w, report)
		}
	}
	t.Logf("report:\n%s", report)
}

func api() *httpapi.API {
	return httpapi.New(httpapi.Config{Function: "connections"}, httpapi.Services{Platforms: registry.NewCatalog(nil)})
}

func serve(t *testing.T, a *httpapi.API, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := a.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func jsonAnswer(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

const deployment = `{"id":"d-1","platform":"vercel","projectName":"site","status":"queued","url":null,
	"platformDeploymentId":null,"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z","error":null}`

func TestRealAnswersPass(t *testing.T) {
	t.Parallel()
	a := api()
	for _, ev := range []events.APIGatewayV2HTTPRequest{
		apitest.Event("GET", "/health"),
		apitest.Event("GET", "/openapi.json"),
		apitest.Event("GET", "/platforms", apitest.As("t1", "u1")),
		apitest.Event("GET", "/platforms"),                           // 401
		apitest.Event("GET", "/connections", apitest.As("t1", "u1")), // 501: not built yet
		apitest.Event("GET", "/nope", apitest.As("t1", "u1")),        // 404 route_not_found
		apitest.Event("PUT", "/platforms", apitest.As("t1", "u1")),   // 405
		apitest.Event("GET", "/meetings", apitest.As("t1", "u1")),    // 404: not this function's route
	} {
		t.Run(ev.RequestContext.HTTP.Method+" "+ev.RawPath, func(t *testing.T) {
			resp := serve(t, a, ev)
			mustPass(t, ev, resp)
		})
	}
}

func TestValidAnswerPasses(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/deployments/d-1", apitest.As("t1", "u1"))
	mustPass(t, ev, jsonAnswer(200, deployment))
}

func TestValidRequestAndAnswerPass(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("POST", "/deployments", apitest.As("t1", "u1"), apitest.Header("Idempotency-Key", "k1"),
		apitest.Body(map[string]any{"platform": "vercel", "projectName": "site",
			"files": []map[string]string{{"path": "index.html", "content": "<h1>hi</h1>", "encoding": "utf-8"}}}))
	resp := located(jsonAnswer(202, deployment), "/deployments/d-1")
	resp.Headers["RateLimit-Limit"] = "10"
	resp.Headers["RateLimit-Remaining"] = "9"
	resp.Headers["RateLimit-Reset"] = "3600"
	mustPass(t, ev, resp)
}

func TestWrongFieldTypeFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/deployments/d-1", apitest.As("t1", "u1"))
	body := strings.Replace(deployment, `"projectName":"site"`, `"projectName":42`, 1)
	mustFail(t, ev, jsonAnswer(200, body), "GET /deployments/d-1 (getDeployment) answered 200", "/projectName")
}

func TestUndocumentedStatusFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/platforms", apitest.As("t1", "u1"))
	mustFail(t, ev, jsonAnswer(418, `{}`), "listPlatforms", "418")
}

func TestWrongContentTypeFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/health")
	resp := events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}
	mustFail(t, ev, resp, "text/plain")
}

func TestMissingRequiredHeaderFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("POST", "/deployments", apitest.As("t1", "u1"),
		apitest.Body(map[string]any{"platform": "render", "projectName": "site", "image": "ghcr.io/acme/site:1"}))
	mustFail(t, ev, located(jsonAnswer(202, deployment), "/deployments/d-1"), "RateLimit-Limit")
}

func TestBodyOnNoContentStatusFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("DELETE", "/meetings/m-1", apitest.As("t1", "u1"))
	mustFail(t, ev, jsonAnswer(204, `{}`), "204", "without a body")
}

func TestAcceptedRequestTheDocumentForbidsFails(t *testing.T) {
	t.Parallel()
	bad := apitest.Body(map[string]any{"platform": "vercel", "projectName": "site", "files": "index.html"})
	ev := apitest.Event("POST", "/deployments", apitest.As("t1", "u1"), bad)
	resp := located(jsonAnswer(202, deployment), "/deployments/d-1")
	resp.Headers["RateLimit-Limit"], resp.Headers["RateLimit-Remaining"], resp.Headers["RateLimit-Reset"] = "10", "9", "3600"
	mustFail(t, ev, resp, "accepted (202) a request the document does not allow", "/files")

	// Refusing it is right, and then the request's faults are not the API's.
	refused := events.APIGatewayV2HTTPResponse{StatusCode: 400, Headers: map[string]string{"Content-Type": "application/problem+json"},
		Body: `{"type":"urn:switchboard:problem:invalid_body","title":"Bad Request","status":400,"code":"invalid_body"}`}
	mustPass(t, ev, refused)
}

func TestProblemWithWrongShapeOrStatusFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/deployments/d-1", apitest.As("t1", "u1"))
	noCode := events.APIGatewayV2HTTPResponse{StatusCode: 404, Headers: map[string]string{"Content-Type": "application/problem+json"},
		Body: `{"type":"urn:switchboard:problem:not_found","title":"Not Found","status":404}`}
	mustFail(t, ev, noCode, "code")
	wrongStatus := events.APIGatewayV2HTTPResponse{StatusCode: 404, Headers: map[string]string{"Content-Type": "application/problem+json"},
		Body: `{"type":"urn:switchboard:problem:not_found","title":"Not Found","status":400,"code":"not_found"}`}
	mustFail(t, ev, wrongStatus, "status is 400, but the HTTP status is 404")
	asJSON := jsonAnswer(404, `{"type":"urn:switchboard:problem:not_found","title":"Not Found","status":404,"code":"not_found"}`)
	mustFail(t, ev, asJSON, "application/json")
}

func TestUndocumentedRouteAnsweredOKFails(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/nowhere", apitest.As("t1", "u1"))
	mustFail(t, ev, jsonAnswer(200, `{}`), "no path of the document matches /nowhere")
}

// Answers shaped as ARCHITECTURE.md describes them pass: the document's
// schemas, nullables and $refs accept what the services are to give.
func TestArchitectureShapesPass(t *testing.T) {
	t.Parallel()
	as := apitest.As("t1", "u1")
	const (
		connection = `{"platform":"youtube","status":"connected","authType":"oauth2","accountId":"UC1","accountName":"Grace Church",
			"scopes":["https://www.googleapis.com/auth/youtube"],"connectedAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z",
			"expiresAt":"2026-01-02T04:04:05Z","lastRefreshedAt":null,"statusChangedAt":"2026-01-02T03:04:05Z","lastVerifiedAt":"2026-01-02T03:04:05Z","lastError":null}`
		series = `{"id":"01JABCDEFGHJKMNPQRSTVWXYZ0","rule":"FREQ=WEEKLY;BYDAY=SU","timeZone":"America/Chicago","title":"Sunday service",
			"description":null,"firstStart":"2026-01-04T16:00:00Z","from":null,"durationMinutes":90,"targets":["youtube","restream"],"status":"active",
			"skipped":["2026-01-11T16:00:00Z"],"createdAt":"2026-01-01T10:00:00Z","endedAt":null,"failure":null,"nextOccurrences":[
			{"start":"2026-01-04T16:00:00Z","end":"2026-01-04T17:30:00Z","livestreamId":"01JABCDEFGHJKMNPQRSTVWXYZ1","status":"created","scheduledStart":"2026-01-04T16:00:00Z","scheduledEnd":"2026-01-04T17:30:00Z"},
			{"start":"2026-01-11T16:00:00Z","end":"2026-01-11T17:30:00Z","livestreamId":"01JABCDEFGHJKMNPQRSTVWXYZ2","status":"skipped","scheduledStart":null,"scheduledEnd":null}]}`
		livestream = `{"id":"ls-1","seriesId":null,"title":"Sunday service","description":null,"status":"scheduled","scheduledStart":"2026-01-04T15:00:00Z",
			"scheduledEnd":null,"startedAt":null,"endedAt":null,"targets":[
			{"platform":"youtube","status":"ready","externalId":"abc","watchUrl":"https://youtu.be/abc","lastError":null,"madeForKids":false,"autoStop":true,
			 "checks":[{"name":"encoder","status":"warn","message":"the encoder is not pushing to YouTube yet","at":"2026-01-04T14:30:00Z"}]},
			{"platform":"facebook","status":"failed","externalId":null,"watchUrl":null,
			 "lastError":{"code":"upstream","message":"Facebook said no","at":"2026-01-02T03:04:05Z"},"checks":[]}]}`
		meeting = `{"id":"m-1","seriesId":null,"title":"Elders","status":"scheduled","startTime":"2026-01-05T18:00:00Z","durationMinutes":60,
			"targets":[{"platform":"zoom","status":"ready","current":true,"joinUrl":"https://zoom.us/j/1","externalId":"1","lastError":null}]}`
	)
	rateLimited := events.APIGatewayV2HTTPResponse{StatusCode: 429, Headers: map[string]string{
		"Content-Type": "application/problem+json", "Retry-After": "120",
		"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "120"},
		Body: `{"type":"urn:switchboard:problem:rate_limited","title":"Too Many Requests","status":429,"code":"rate_limited","detail":"10 an hour"}`}
	redirect := events.APIGatewayV2HTTPResponse{StatusCode: 302, Headers: map[string]string{
		"Location": "https://app.example.test/settings?platform=youtube&status=connected"}}

	for _, c := range []struct {
		ev   events.APIGatewayV2HTTPRequest
		resp events.APIGatewayV2HTTPResponse
	}{
		{apitest.Event("GET", "/connections", as), jsonAnswer(200, `{"items":[`+connection+`]}`)},
		{apitest.Event("POST", "/connections/render", as, apitest.Body(`{"credentials":{"apiKey":"rnd_x"}}`)),
			located(jsonAnswer(201, strings.NewReplacer(`"youtube"`, `"render"`, `"oauth2"`, `"api_key"`).Replace(connection)), "/connections/render")},
		{apitest.Event("POST", "/connections/youtube/oauth", as, apitest.Body(`{"returnTo":"https://app.example.test/settings"}`)),
			jsonAnswer(200, `{"authorizeUrl":"https://accounts.google.com/o/oauth2/v2/auth?x=1","expiresAt":"2026-01-02T03:14:05Z"}`)},
		{apitest.Event("POST", "/connections/youtube/oauth", as), jsonAnswer(200, `{"authorizeUrl":"https://a.test/auth","expiresAt":"2026-01-02T03:14:05Z"}`)},
		{apitest.Event("GET", "/oauth/youtube/callback?code=c&state=s"), redirect},
		{apitest.Event("GET", "/oauth/youtube/callback?code=c&state=s"), jsonAnswer(200, connection)},
		{apitest.Event("POST", "/livestreams", as, apitest.Header("Idempotency-Key", "k"), apitest.Body(map[string]any{
			"title": "Sunday service", "scheduledStart": "2026-01-04T15:00:00Z",
			"targets": []map[string]any{{"platform": "youtube", "privacy": "public", "madeForKids": false, "autoStop": true},
				{"platform": "instagram", "rtmpUrl": "rtmps://live-upload.instagram.com:443/rtmp/", "streamKey": "IG-1"}}})),
			located(jsonAnswer(201, livestream), "/livestreams/ls-1")},
		{apitest.Event("GET", "/livestreams?status=scheduled&limit=10&cursor=abc", as), jsonAnswer(200, `{"items":[`+livestream+`],"nextCursor":"def"}`)},
		{apitest.Event("PATCH", "/livestreams/ls-1", as, apitest.Body(`{"title":"Sunday worship","scheduledEnd":null}`)), jsonAnswer(200, livestream)},
		{apitest.Event("POST", "/livestreams/ls-1/check", as), jsonAnswer(200, livestream)},
		{apitest.Event("POST", "/series", as, apitest.Header("Idempotency-Key", "s"), apitest.Body(`{"title":"Sunday service","scheduledStart":"2026-01-04T16:00:00Z",
			"scheduledEnd":"2026-01-04T17:30:00Z","targets":[{"platform":"youtube","madeForKids":false},{"platform":"restream"}],
			"recurrence":{"rule":"FREQ=WEEKLY;BYDAY=SU","timeZone":"America/Chicago"}}`)),
			located(jsonAnswer(201, series), "/series/01JABCDEFGHJKMNPQRSTVWXYZ0")},
		{apitest.Event("GET", "/series/01JABCDEFGHJKMNPQRSTVWXYZ0", as), jsonAnswer(200, series)},
		{apitest.Event("PATCH", "/series/01JABCDEFGHJKMNPQRSTVWXYZ0", as, apitest.Body(`{"from":"2026-03-08T00:00:00-06:00","title":"Sunday worship",
			"scheduledStart":"2026-03-08T11:00:00-05:00","scheduledEnd":"2026-03-08T12:30:00-05:00","targets":[{"platform":"youtube"}]}`)),
			jsonAnswer(200, strings.Replace(series, `"from":null`, `"from":"2026-03-08T06:00:00Z"`, 1))},
		{apitest.Event("DELETE", "/series/01JABCDEFGHJKMNPQRSTVWXYZ0/occurrences/2026-01-11T16:00:00Z", as), events.APIGatewayV2HTTPResponse{StatusCode: 204}},
		{apitest.Event("DELETE", "/series/01JABCDEFGHJKMNPQRSTVWXYZ0", as), events.APIGatewayV2HTTPResponse{StatusCode: 204}},
		{apitest.Event("GET", "/livestreams/ls-1/ingest", as), jsonAnswer(200,
			`{"targets":[{"platform":"youtube","ingestUrl":"rtmp://a.rtmp.youtube.com/live2","streamKey":"k-1","stable":true},{"platform":"facebook","ingestUrl":null,"streamKey":null,"stable":false}]}`)},
		{apitest.Event("DELETE", "/livestreams/ls-1", as), events.APIGatewayV2HTTPResponse{StatusCode: 204}},
		{apitest.Event("POST", "/meetings", as, apitest.Body(`{"title":"Elders","startTime":"2026-01-05T18:00:00Z","durationMinutes":60,"timezone":"America/Chicago","targets":[{"platform":"zoom"}]}`)),
			located(jsonAnswer(201, meeting), "/meetings/m-1")},
		{apitest.Event("GET", "/meetings", as), jsonAnswer(200, `{"items":[`+meeting+`]}`)},
		{apitest.Event("GET", "/projects/vercel/availability?name=site", as), jsonAnswer(200, `{"name":"site","available":false,"suggestion":"site-2"}`)},
		{apitest.Event("GET", "/deployments/limits", as), jsonAnswer(200, `{"limit":10,"remaining":9,"resetAt":"2026-01-02T04:04:05Z"}`)},
		{apitest.Event("POST", "/deployments", as, apitest.Body(`{"platform":"railway","projectName":"site","source":{"repo":"https://github.com/acme/site","branch":"main"},"env":{"NODE_ENV":"production"},"database":{"engine":"postgres"}}`)),
			rateLimited},
		{apitest.Event("GET", "/deployments/d-1/logs?cursor=c1", as), jsonAnswer(200, `{"items":[{"at":"2026-01-02T03:04:06Z","type":"stdout","text":"building"}],"nextCursor":"c2"}`)},
		{apitest.Event("POST", "/deployments/d-1/rollback", as), located(jsonAnswer(202, deployment), "/deployments/d-1")},
	} {
		t.Run(c.ev.RequestContext.HTTP.Method+" "+c.ev.RawPath, func(t *testing.T) { mustPass(t, c.ev, c.resp) })
	}
}

func TestNestedFaultsAreNamedByPointer(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("GET", "/meetings/m-1", apitest.As("t1", "u1"))
	body := `{"id":"m-1","title":"Elders","status":"scheduled","startTime":"2026-01-05T18:00:00Z","durationMinutes":60,
		"targets":[{"platform":"zoom","status":"started","joinUrl":"https://zoom.us/j/1","externalId":"1","lastError":null,"hostKey":"secret"}]}`
	mustFail(t, ev, jsonAnswer(200, body), "at /targets/0/status", `got "started"`, "hostKey")
}

// located is resp with the Location a created thing's answer carries.
func located(resp events.APIGatewayV2HTTPResponse, path string) events.APIGatewayV2HTTPResponse {
	resp.Headers["Location"] = path
	return resp
}
