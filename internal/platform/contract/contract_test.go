package contract

import (
	"net/http"
	"strings"
	"testing"
)

func bearer() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer tok")
	h.Set("Content-Type", "application/json")
	return h
}

func req(method, url, body string) Request {
	r := Request{Method: method, URL: url, Header: bearer()}
	if body != "" {
		r.Body = []byte(body)
	}
	return r
}

func TestZoomDescriptionAcceptsDocumentedRequestsAndRejectsWrongOnes(t *testing.T) {
	t.Parallel()
	z, err := Zoom()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("zoom-meeting-openapi.json loaded in %v", z.LoadTime)
	good := []Request{
		req("GET", "/v2/users/me", ""),
		req("POST", "/v2/users/me/meetings", `{"topic":"t","type":2,"start_time":"2030-01-02T15:04:05Z","duration":60,"timezone":"UTC","password":"aB3@xY9-_*","settings":{"join_before_host":false,"waiting_room":true}}`),
		req("PUT", "/v2/meetings/85746065/status", `{"action":"end"}`),
		req("DELETE", "/v2/meetings/85746065", ""),
	}
	for _, r := range good {
		if err := z.Check(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	bad := map[string]Request{
		"unknown field":      req("POST", "/v2/users/me/meetings", `{"topic":"t","type":2,"start_tme":"2030-01-02T15:04:05Z"}`),
		"unknown setting":    req("POST", "/v2/users/me/meetings", `{"topic":"t","type":2,"settings":{"waiting_rooms":true}}`),
		"type not in enum":   req("POST", "/v2/users/me/meetings", `{"topic":"t","type":5}`),
		"password too long":  req("POST", "/v2/users/me/meetings", `{"topic":"t","type":2,"password":"0123456789a"}`),
		"no such path":       req("POST", "/v2/users/me/meeting", `{"topic":"t"}`),
		"wrong method":       req("POST", "/v2/meetings/85746065", ""),
		"id not an integer":  req("DELETE", "/v2/meetings/abc", ""),
		"bad action":         req("PUT", "/v2/meetings/85746065/status", `{"action":"stop"}`),
		"no bearer":          {Method: "GET", URL: "/v2/users/me", Header: http.Header{}},
		"outside the prefix": req("GET", "/users/me", ""),
	}
	for name, r := range bad {
		if err := z.Check(r); err == nil {
			t.Errorf("%s: %s passed the check", name, r)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestGraphDescriptionAcceptsOnlineMeetingRequestsAndRejectsWrongOnes(t *testing.T) {
	t.Parallel()
	g, err := Graph()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("msgraph-cloudcommunications-v1.0.yml loaded in %v", g.LoadTime)
	good := []Request{
		req("POST", "/v1.0/me/onlineMeetings/createOrGet", `{"externalId":"x","startDateTime":"2030-01-02T15:04:05Z","endDateTime":"2030-01-02T16:04:05Z","subject":"s"}`),
		req("DELETE", "/v1.0/me/onlineMeetings/MSo1N2Y5", ""),
		req("GET", "/v1.0/me/onlineMeetings/MSo1N2Y5", ""),
	}
	for _, r := range good {
		if err := g.Check(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	bad := map[string]Request{
		"unknown field":     req("POST", "/v1.0/me/onlineMeetings/createOrGet", `{"externalId":"x","subjectLine":"s"}`),
		"bad date":          req("POST", "/v1.0/me/onlineMeetings/createOrGet", `{"externalId":"x","startDateTime":"tomorrow"}`),
		"no such action":    req("POST", "/v1.0/me/onlineMeetings/getOrCreate", `{"externalId":"x"}`),
		"not described":     req("GET", "/v1.0/me", ""),
		"wrong method":      req("PUT", "/v1.0/me/onlineMeetings/MSo1N2Y5", `{}`),
		"body on a delete":  req("DELETE", "/v1.0/me/onlineMeetings/MSo1N2Y5", `{"x":1}`),
		"externalId number": req("POST", "/v1.0/me/onlineMeetings/createOrGet", `{"externalId":7}`),
	}
	for name, r := range bad {
		if err := g.Check(r); err == nil {
			t.Errorf("%s: %s passed the check", name, r)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestMissingDescriptionFailsLoudly(t *testing.T) {
	t.Parallel()
	_, err := SpecPath("no-such-description.json")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v, want a loud failure", err)
	}
}

func TestGoogleDiscoveryDocumentsLoadAndCheck(t *testing.T) {
	t.Parallel()
	meet, err := Meet()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Calendar()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("meet-v2-discovery.json loaded in %v, calendar-v3-discovery.json in %v", meet.LoadTime, cal.LoadTime)
	if err := meet.Check(req("POST", "/v2/spaces/abc:endActiveConference", `{}`)); err != nil {
		t.Error(err)
	}
	if err := cal.Check(req("DELETE", "/calendar/v3/calendars/primary/events/abcde?sendUpdates=all", "")); err != nil {
		t.Error(err)
	}
	if err := cal.Check(req("DELETE", "/calendar/v3/calendars/primary/events/abcde?sendUpdates=everyone", "")); err == nil {
		t.Error("sendUpdates outside its enum passed")
	}
	if err := meet.Check(Request{Method: "POST", URL: "/v2/spaces", Body: []byte(`{}`)}); err == nil {
		t.Error("a request without a bearer passed")
	}
}
