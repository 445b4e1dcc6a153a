package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

func newAPI(t *testing.T, function string, logs *bytes.Buffer) *httpapi.API {
	t.Helper()
	if logs == nil {
		logs = &bytes.Buffer{}
	}
	return httpapi.New(httpapi.Config{Function: function, Logger: logging.New(logs, function, slog.LevelDebug)},
		httpapi.Services{Platforms: registry.NewCatalog(nil)})
}

func TestHealthIsPublic(t *testing.T) {
	t.Parallel()
	resp, _ := newAPI(t, "connections", nil).Handle(context.Background(), apitest.Event("GET", "/health"))
	var body map[string]string
	apitest.DecodeJSON(t, resp, 200, &body)
	if body["status"] != "ok" {
		t.Fatalf("body %v", body)
	}
}

func TestOpenAPIIsServedPublicly(t *testing.T) {
	t.Parallel()
	resp, _ := newAPI(t, "connections", nil).Handle(context.Background(), apitest.Event("GET", "/openapi.json"))
	var doc map[string]any
	apitest.DecodeJSON(t, resp, 200, &doc)
	if !strings.HasPrefix(doc["openapi"].(string), "3.1") {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
}

func TestPlatformsListsTheElevenPlatforms(t *testing.T) {
	t.Parallel()
	resp, _ := newAPI(t, "connections", nil).Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.As("t1", "u1")))
	var body struct {
		Items []struct {
			ID, Name, Kind string
			Auth           []string
			Capabilities   []string
			Configured     bool
		}
	}
	apitest.DecodeJSON(t, resp, 200, &body)
	if len(body.Items) != 11 {
		t.Fatalf("%d platforms", len(body.Items))
	}
	for _, p := range body.Items {
		if p.ID == "" || p.Name == "" || p.Kind == "" || len(p.Auth) == 0 || len(p.Capabilities) == 0 {
			t.Errorf("incomplete platform %+v", p)
		}
	}
}

func TestRequestsWithoutVerifiedClaimsAre401(t *testing.T) {
	t.Parallel()
	api := newAPI(t, "connections", nil)
	cases := map[string]apitest.Option{
		"no authorizer":     func(*eventT) {},
		"no tenant claim":   apitest.Claims(map[string]string{"sub": "u1"}),
		"no sub":            apitest.Claims(map[string]string{"tenant_id": "t1"}),
		"empty claims":      apitest.Claims(map[string]string{}),
		"control character": apitest.Claims(map[string]string{"sub": "u\x001", "tenant_id": "t1"}),
		"overlong tenant":   apitest.Claims(map[string]string{"sub": "u1", "tenant_id": strings.Repeat("t", 300)}),
		// API Gateway renders a list claim as "[a b]" and an object as "map[k:v]".
		"tenant is a list":     apitest.Claims(map[string]string{"sub": "u1", "tenant_id": "[t1 t2]"}),
		"tenant is a one list": apitest.Claims(map[string]string{"sub": "u1", "tenant_id": "[t1]"}),
		"tenant is an object":  apitest.Claims(map[string]string{"sub": "u1", "tenant_id": "map[id:t1]"}),
		"sub is a list":        apitest.Claims(map[string]string{"sub": "[u1 u2]", "tenant_id": "t1"}),
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := api.Handle(context.Background(), apitest.Event("GET", "/platforms", opt))
			if err != nil {
				t.Fatal(err)
			}
			if p := apitest.DecodeProblem(t, resp, 401); p.Code != "unauthenticated" {
				t.Fatalf("code %q", p.Code)
			}
		})
	}
}

func TestTenantClaimIsConfigurable(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{Function: "connections", TenantClaim: "custom:org"}, httpapi.Services{Platforms: registry.NewCatalog(nil)})
	ok, _ := api.Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.Claims(map[string]string{"sub": "u", "custom:org": "o"})))
	if ok.StatusCode != 200 {
		t.Fatalf("custom claim refused: %d %s", ok.StatusCode, ok.Body)
	}
	refused, _ := api.Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.As("t", "u")))
	apitest.DecodeProblem(t, refused, 401)
}

func TestUnknownRouteIs404AndWrongMethodIs405(t *testing.T) {
	t.Parallel()
	api := newAPI(t, "connections", nil)
	resp, _ := api.Handle(context.Background(), apitest.Event("GET", "/nope", apitest.As("t", "u")))
	if p := apitest.DecodeProblem(t, resp, 404); p.Code != "route_not_found" {
		t.Fatalf("code %q", p.Code)
	}
	resp, _ = api.Handle(context.Background(), apitest.Event("PUT", "/connections/youtube", apitest.As("t", "u")))
	apitest.DecodeProblem(t, resp, 405)
	if allow := resp.Headers["Allow"]; !strings.Contains(allow, "GET") || !strings.Contains(allow, "DELETE") {
		t.Fatalf("Allow %q", allow)
	}
}

func TestRoutesNotBuiltYetAnswer501(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{}, httpapi.Services{})
	resp, _ := api.Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.As("t", "u")))
	if p := apitest.DecodeProblem(t, resp, 501); p.Code != "not_implemented" || !strings.Contains(p.Detail, "GET /platforms") {
		t.Fatalf("problem %+v", p)
	}
}

func TestEachFunctionServesOnlyItsOwnRoutes(t *testing.T) {
	t.Parallel()
	resp, _ := newAPI(t, "meetings", nil).Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.As("t", "u")))
	apitest.DecodeProblem(t, resp, 404)
}

func TestLiteralSegmentsBeatParameters(t *testing.T) {
	t.Parallel()
	m := httpapi.NewMatcher(httpapi.Routes())
	r, params, ok, _ := m.Match("GET", "/deployments/limits")
	if !ok || r.Operation != "getDeploymentLimits" || len(params) != 0 {
		t.Fatalf("got %+v %v", r, params)
	}
	r, params, ok, _ = m.Match("GET", "/deployments/d-123")
	if !ok || r.Operation != "getDeployment" || params["id"] != "d-123" {
		t.Fatalf("got %+v %v", r, params)
	}
}

func TestRouteTableHasNoDuplicatesAndEveryRouteNamesAFunction(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	ops := map[string]bool{}
	for _, r := range httpapi.Routes() {
		if seen[r.Key()] || ops[r.Operation] {
			t.Errorf("duplicate route %s (%s)", r.Key(), r.Operation)
		}
		seen[r.Key()], ops[r.Operation] = true, true
		if r.Function == "" || r.Operation == "" {
			t.Errorf("route %s lacks a function or operation", r.Key())
		}
	}
}

func TestLogsCarryRequestIDFunctionAndColdStartButNoAuthorization(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	api := newAPI(t, "connections", &logs)
	const token = "eyJhbGciOiJSUzI1NiJ9.secret-token-body.sig"
	for range 2 {
		api.Handle(context.Background(), apitest.Event("GET", "/platforms", apitest.As("t", "u"), apitest.Header("Authorization", "Bearer "+token)))
	}
	if strings.Contains(logs.String(), token) {
		t.Fatal("the bearer token reached the logs")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var colds []bool
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if rec["msg"] != "request" {
			continue
		}
		if rec["request_id"] != "req-test" || rec["function"] != "connections" || rec["route"] != "GET /platforms" {
			t.Fatalf("log line lacks context: %s", l)
		}
		colds = append(colds, rec["cold_start"].(bool))
	}
	if len(colds) != 2 || !colds[0] || colds[1] {
		t.Fatalf("cold_start flags %v, want [true false]", colds)
	}
}

func TestProblemCarriesStatusAsHTTPStatus(t *testing.T) {
	t.Parallel()
	resp, _ := newAPI(t, "connections", nil).Handle(context.Background(), apitest.Event("GET", "/connections", apitest.As("t", "u")))
	p := apitest.DecodeProblem(t, resp, http.StatusNotImplemented)
	if p.Instance != "urn:switchboard:request:req-test" {
		t.Fatalf("instance %q", p.Instance)
	}
}
