package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

func TestDecodeRefusesWhatIsNotTheRoutesJSON(t *testing.T) {
	t.Parallel()
	type body struct {
		Title string `json:"title"`
		Count int    `json:"count"`
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	cases := []struct {
		name, body, contentType, code, detail string
	}{
		{"empty", "", "application/json", "body_required", "needs a JSON body"},
		{"unknown field", `{"title":"a","extra":1}`, "application/json", "invalid_body", `unknown field "extra" in the body; the fields taken there are title, count, items`},
		{"unknown nested field", `{"items":[{"name":"a"},{"name":"b","size":2}]}`, "application/json", "invalid_body", `unknown field "size" in items[1]; the fields taken there are name`},
		{"wrong type", `{"count":"ten"}`, "application/json", "invalid_body", `field "count" must be int`},
		{"syntax", `{"title":`, "application/json", "invalid_body", "ends before"},
		{"trailing value", `{"title":"a"} {"title":"b"}`, "application/json", "invalid_body", "more than one JSON value"},
		{"not json media type", `{"title":"a"}`, "text/plain", "unsupported_media_type", "application/json"},
		{"a form", `{"title":"a"}`, "application/x-www-form-urlencoded", "unsupported_media_type", "application/json"},
		{"array", `[1,2]`, "application/json", "invalid_body", "must be a JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := &Request{Body: []byte(c.body), Header: map[string]string{"content-type": c.contentType}}
			var v body
			err := r.Decode(&v)
			e, ok := apperr.As(err)
			kind := apperr.Invalid
			if c.code == "unsupported_media_type" {
				kind = apperr.BadMediaType
			}
			if !ok || e.Kind != kind || string(e.Code) != c.code || !strings.Contains(e.Detail, c.detail) {
				t.Fatalf("got %v, want %s containing %q", err, c.code, c.detail)
			}
		})
	}
	r := &Request{Body: []byte(`{"title":"ok","count":2}`), Header: map[string]string{"content-type": "application/json; charset=utf-8"}}
	var v body
	if err := r.Decode(&v); err != nil || v.Title != "ok" || v.Count != 2 {
		t.Fatalf("valid body: %+v %v", v, err)
	}
}

func TestBodiesOverTheRouteLimitAre413(t *testing.T) {
	t.Parallel()
	api := New(Config{}, Services{})
	small := apitest.Event("POST", "/livestreams", apitest.As("t", "u"), apitest.Body(`{"title":"x"}`))
	resp, _ := api.Handle(context.Background(), small)
	if resp.StatusCode != 501 {
		t.Fatalf("small body: %d %s", resp.StatusCode, resp.Body)
	}
	big := apitest.Event("POST", "/livestreams", apitest.As("t", "u"), apitest.Body(`{"title":"`+strings.Repeat("x", DefaultMaxBody)+`"}`))
	resp, _ = api.Handle(context.Background(), big)
	if p := apitest.DecodeProblem(t, resp, 413); p.Code != "body_too_large" {
		t.Fatalf("code %q", p.Code)
	}
	// Deployments carry files and take more.
	deploy := apitest.Event("POST", "/deployments", apitest.As("t", "u"), apitest.Body(`{"projectName":"`+strings.Repeat("x", DefaultMaxBody)+`"}`))
	resp, _ = api.Handle(context.Background(), deploy)
	if resp.StatusCode != 501 {
		t.Fatalf("deployment body within its limit: %d", resp.StatusCode)
	}
}

func TestHandlerPanicIsA500WithoutDetails(t *testing.T) {
	t.Parallel()
	api := New(Config{}, Services{})
	api.serveWith("getHealth", func(context.Context, *Request) (*Response, error) { panic("boom: secret-ish internals") })
	resp, err := api.Handle(context.Background(), apitest.Event("GET", "/health"))
	if err != nil {
		t.Fatal(err)
	}
	p := apitest.DecodeProblem(t, resp, 500)
	if strings.Contains(resp.Body, "boom") || p.Code != "internal_error" {
		t.Fatalf("panic leaked: %s", resp.Body)
	}
}

func TestBase64BodiesAreDecoded(t *testing.T) {
	t.Parallel()
	ev := apitest.Event("POST", "/livestreams", apitest.As("t", "u"))
	ev.Body, ev.IsBase64Encoded = "not base64!", true
	resp, _ := New(Config{}, Services{}).Handle(context.Background(), ev)
	if p := apitest.DecodeProblem(t, resp, 400); p.Code != "invalid_body" {
		t.Fatalf("code %q", p.Code)
	}
}

// A body in another media type is 415 on every route that takes one, before
// any handler or service runs.
func TestABodyThatIsNotJSONIs415(t *testing.T) {
	t.Parallel()
	api := New(Config{}, Services{})
	for _, r := range Routes() {
		if (r.Method != "POST" && r.Method != "PATCH") || r.Form {
			continue // a Form route takes exactly this media type
		}
		path := strings.NewReplacer("{platform}", "youtube", "{id}", "x1").Replace(r.Path)
		ev := apitest.Event(r.Method, path, apitest.As("t", "u"), apitest.Body(`{"title":"x"}`), apitest.Header("Content-Type", "application/x-www-form-urlencoded"))
		resp, _ := api.Handle(context.Background(), ev)
		if p := apitest.DecodeProblem(t, resp, 415); p.Code != "unsupported_media_type" {
			t.Errorf("%s: code %q", r.Key(), p.Code)
		}
	}
}
