package render_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
)

// The contract: every request the client sends in these tests is one
// Render's public API description (shared/specs/render-public-api.json)
// documents: its method and path, its path and query parameters, and its
// JSON body, with no field the schema does not declare and, for a new
// service, the details its type takes.

func renderDesc(t testing.TB) *contract.RenderAPI {
	t.Helper()
	desc, err := contract.Render()
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

func checkContract(t *testing.T, fake *renderfake.Server) {
	t.Helper()
	desc := renderDesc(t)
	var reqs []contract.Request
	for _, r := range fake.Requests() {
		reqs = append(reqs, contract.Request{Method: r.Method, URL: r.URL, Header: r.Header, Body: r.Body})
	}
	if err := contract.CheckAll(desc.Check, reqs); err != nil {
		t.Errorf("contract: %v", err)
	}
}

func TestContractCheckRefusesWhatRendersDescriptionRefuses(t *testing.T) {
	t.Parallel()
	desc := renderDesc(t)
	h := http.Header{"Authorization": {"Bearer rnd_x"}, "Content-Type": {"application/json"}}
	req := func(method, url, body string) contract.Request {
		r := contract.Request{Method: method, URL: url, Header: h}
		if body != "" {
			r.Body = []byte(body)
		}
		return r
	}
	good := []contract.Request{
		req("POST", "/v1/services", `{"type":"static_site","name":"a","ownerId":"o","repo":"https://github.com/a/b","autoDeploy":"no","serviceDetails":{"buildCommand":"make","publishPath":"public"}}`),
		req("POST", "/v1/services", `{"type":"web_service","name":"a","ownerId":"o","repo":"https://github.com/a/b","autoDeploy":"no","serviceDetails":{"runtime":"python","plan":"free","region":"oregon","envSpecificDetails":{"buildCommand":"pip install -r requirements.txt","startCommand":"gunicorn app:app"}}}`),
		req("POST", "/v1/services", `{"type":"web_service","name":"a","ownerId":"o","image":{"ownerId":"o","imagePath":"docker.io/library/nginx:1.27"},"serviceDetails":{"runtime":"image"}}`),
		req("GET", "/v1/services?name=a&ownerId=o&limit=20", ""),
		req("POST", "/v1/services/srv-1/rollback", `{"deployId":"dep-1"}`),
		req("PATCH", "/v1/services/srv-1", `{"autoDeploy":"no","repo":"r","serviceDetails":{"runtime":"python","envSpecificDetails":{"buildCommand":"a","startCommand":"b"}}}`),
		req("PATCH", "/v1/services/srv-1", `{"repo":"r","serviceDetails":{"buildCommand":"hugo","publishPath":"public"}}`),
		req("GET", "/v1/logs?ownerId=o&resource=srv-1&type=build&direction=forward&limit=100", ""),
	}
	for _, r := range good {
		if err := desc.Check(r); err != nil {
			t.Errorf("%s was refused: %v", r, err)
		}
	}
	bad := map[string]contract.Request{
		"static site with a runtime":    req("POST", "/v1/services", `{"type":"static_site","name":"a","ownerId":"o","repo":"r","serviceDetails":{"runtime":"node","publishPath":"public"}}`),
		"web service without a runtime": req("POST", "/v1/services", `{"type":"web_service","name":"a","ownerId":"o","repo":"r","serviceDetails":{"plan":"free"}}`),
		"runtime not in the enum":       req("POST", "/v1/services", `{"type":"web_service","name":"a","ownerId":"o","repo":"r","serviceDetails":{"runtime":"deno"}}`),
		"native runtime without start":  req("POST", "/v1/services", `{"type":"web_service","name":"a","ownerId":"o","repo":"r","serviceDetails":{"runtime":"node","envSpecificDetails":{"buildCommand":"x"},"plan":"free"}}`),
		"unknown top-level field":       req("POST", "/v1/services", `{"type":"static_site","name":"a","ownerId":"o","repo":"r","files":[]}`),
		"unknown service type":          req("POST", "/v1/services", `{"type":"website","name":"a","ownerId":"o","repo":"r"}`),
		"no owner":                      req("POST", "/v1/services", `{"type":"static_site","name":"a","repo":"r"}`),
		"rollback without deployId":     req("POST", "/v1/services/srv-1/rollback", `{}`),
		"update with a bad runtime":     req("PATCH", "/v1/services/srv-1", `{"serviceDetails":{"runtime":"nope"}}`),
		"update with an unknown detail": req("PATCH", "/v1/services/srv-1", `{"serviceDetails":{"bogus":1}}`),
		"update of the type":            req("PATCH", "/v1/services/srv-1", `{"type":"web_service"}`),
		"clearCache not in the enum":    req("POST", "/v1/services/srv-1/deploys", `{"clearCache":"yes"}`),
		"logs without resource":         req("GET", "/v1/logs?ownerId=o", ""),
		"limit over 100":                req("GET", "/v1/services?limit=500", ""),
		"no such path":                  req("POST", "/v1/services/srv-1/files", ""),
		"wrong method":                  req("PUT", "/v1/services/srv-1/deploys", ""),
		"not under /v1":                 req("GET", "/users", ""),
		"no bearer":                     {Method: "GET", URL: "/v1/users", Header: http.Header{}},
	}
	for name, r := range bad {
		if err := desc.Check(r); err == nil {
			t.Errorf("%s: %s passed the check", name, r)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
