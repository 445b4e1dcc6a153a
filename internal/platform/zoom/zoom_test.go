package zoom_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

const token = "zoom-access-token-0123456789abcdef"

// setup starts a fake and a client on it; when the test ends, every request
// the fake received is checked against Zoom's published description.
func setup(t *testing.T) (*zoomfake.Server, *zoom.Client) {
	t.Helper()
	f := zoomfake.New()
	t.Cleanup(func() {
		defer f.Close()
		desc, err := contract.Zoom()
		if err != nil {
			t.Fatalf("Zoom's description: %v", err)
		}
		if err := contract.CheckAll(desc.Check, f.Requests()); err != nil {
			t.Errorf("a request is not in Zoom's description:\n%v", err)
		}
	})
	return f, zoom.New(&http.Client{Timeout: 5 * time.Second}, f.APIURL())
}

func scheduled() platform.MeetingSpec {
	return platform.MeetingSpec{Title: "Sunday service prayer", Start: time.Date(2030, 3, 10, 17, 30, 0, 0, time.UTC),
		Duration: 90 * time.Minute, TimeZone: "America/Chicago", RequestID: "m1-zoom"}
}

func lastBody(t *testing.T, f *zoomfake.Server, method, path string) map[string]any {
	t.Helper()
	for _, r := range f.Requests() {
		if r.Method == method && strings.HasPrefix(r.URL, path) {
			var b map[string]any
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no %s %s", method, path)
	return nil
}

func TestCreateEndDeleteWalksAMeetingThroughZoomsStates(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()

	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseInt(m.ExternalID, 10, 64)
	if err != nil || id < 1<<32 {
		t.Fatalf("ExternalID %q: want Zoom's 11-digit number kept exactly as a string", m.ExternalID)
	}
	if !strings.Contains(m.JoinURL, "/j/"+m.ExternalID) || !strings.Contains(m.HostURL, "/s/"+m.ExternalID) {
		t.Errorf("join %q host %q", m.JoinURL, m.HostURL)
	}
	b := lastBody(t, f, "POST", "/v2/users/me/meetings")
	if b["type"] != 2.0 || b["start_time"] != "2030-03-10T17:30:00Z" || b["duration"] != 90.0 ||
		b["timezone"] != "America/Chicago" || b["topic"] != "Sunday service prayer" {
		t.Errorf("create body %v", b)
	}
	if s := b["settings"].(map[string]any); s["join_before_host"] != false || s["waiting_room"] != true {
		t.Errorf("settings %v", s)
	}
	if st, _ := c.MeetingState(ctx, token, m); st != platform.MeetingScheduled {
		t.Errorf("state %q, want scheduled (Zoom: waiting)", st)
	}

	f.StartMeeting(id)
	if st, _ := c.MeetingState(ctx, token, m); st != platform.MeetingStarted {
		t.Errorf("state %q, want started", st)
	}
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if fm, _ := f.Meeting(id); fm.Status != zoomfake.StatusEnded {
		t.Errorf("after end the fake says %q", fm.Status)
	}
	// Zoom refuses to delete an ended meeting (400, code 3007, in its spec).
	if err := c.DeleteMeeting(ctx, token, m); err == nil || !strings.Contains(err.Error(), "it has ended") {
		t.Errorf("deleting an ended meeting: %v, want Zoom's refusal", err)
	}
	if fm, _ := f.Meeting(id); fm.Status != zoomfake.StatusEnded {
		t.Errorf("after a refused delete the fake says %q", fm.Status)
	}
	// A meeting not started yet is deleted, and then reads as cancelled.
	waiting, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMeeting(ctx, token, waiting); err != nil {
		t.Fatal(err)
	}
	if fm, _ := f.Meeting(mustID(t, waiting)); fm.Status != zoomfake.StatusDeleted {
		t.Errorf("after delete the fake says %q", fm.Status)
	}
	if st, _ := c.MeetingState(ctx, token, waiting); st != platform.MeetingCancelled {
		t.Errorf("state %q, want cancelled", st)
	}
}

func TestInstantMeetingIsType1WithoutAStartTime(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	_, err := c.CreateMeeting(context.Background(), token, platform.MeetingSpec{Title: "now", Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	b := lastBody(t, f, "POST", "/v2/users/me/meetings")
	if b["type"] != 1.0 || b["start_time"] != nil || b["duration"] != 60.0 {
		t.Errorf("instant body %v", b)
	}
}

func TestPasscodeIsTenCharactersOfZoomsAlphabetAndRandom(t *testing.T) {
	t.Parallel()
	allowed := regexp.MustCompile(`^[A-Za-z0-9@_*-]{10}$`)
	seen := map[string]bool{}
	for range 500 {
		p, err := zoom.Passcode()
		if err != nil {
			t.Fatal(err)
		}
		if !allowed.MatchString(p) || !regexp.MustCompile(`[A-Z]`).MatchString(p) || !regexp.MustCompile(`[a-z]`).MatchString(p) ||
			!regexp.MustCompile(`[0-9]`).MatchString(p) || !regexp.MustCompile(`[@_*-]`).MatchString(p) {
			t.Fatalf("passcode %q", p)
		}
		if seen[p] {
			t.Fatalf("passcode %q repeated", p)
		}
		seen[p] = true
	}
}

func TestDeletingAMeetingZoomNoLongerHasSucceeds(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.DeleteMeeting(ctx, token, m); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if err := c.DeleteMeeting(ctx, token, platform.Meeting{ExternalID: "89999999999"}); err != nil {
		t.Fatalf("delete of an unknown meeting: %v", err)
	}
	err = c.EndMeeting(ctx, token, m)
	if platform.ReasonOf(err) != platform.ReasonNotFound {
		t.Fatalf("end of a deleted meeting: %v, want not_found", err)
	}
}

// A token without an endpoint's granular scope gets Zoom's 4711 from the
// fake; the client answers a permission problem that names the missing
// scope and tells the user to reconnect (PLATFORMS.md Zoom "(corrected)
// Missing scope"). The old default scopes (create and read the user only)
// are the case that broke end and delete.
func TestATokenWithoutAnEndpointsScopeIsAPermissionProblemNamingTheScope(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.SetTokenScopes(token, "meeting:write:meeting", "user:read:user")
	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, scope string
		call        func() error
	}{
		{"read", "meeting:read:meeting", func() error { _, err := c.MeetingState(ctx, token, m); return err }},
		{"end", "meeting:update:status", func() error { return c.EndMeeting(ctx, token, m) }},
		{"delete", "meeting:delete:meeting", func() error { return c.DeleteMeeting(ctx, token, m) }},
	}
	for _, tc := range cases {
		err := tc.call()
		pe, ok := platform.AsError(err)
		if !ok || pe.Reason != platform.ReasonPermission || pe.Status != 400 || pe.Code != "4711" {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(pe.Message, tc.scope) || !strings.Contains(pe.Message, "reconnect Zoom") {
			t.Errorf("%s: the message does not name %s and the way out: %q", tc.name, tc.scope, pe.Message)
		}
		if strings.Contains(pe.Message, token) {
			t.Errorf("%s: the message carries the token", tc.name)
		}
	}
	if got, _ := f.Meeting(mustID(t, m)); got.Status != zoomfake.StatusWaiting {
		t.Errorf("a refused call changed the meeting: %s", got.Status)
	}
	// With every scope the client's defaults ask for, each call works.
	f.SetTokenScopes(token, zoomfake.AllScopes()...)
	other, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMeeting(ctx, token, other); err != nil { // before it ends: Zoom refuses to delete an ended one
		t.Fatal(err)
	}
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
}

// The default scopes cover every endpoint the client calls.
func TestTheDefaultScopesCoverEveryEndpointTheClientCalls(t *testing.T) {
	t.Parallel()
	o, _ := registry.DefaultOAuth(zoom.ID)
	for op, scope := range zoomfake.Scope {
		if !slices.Contains(o.Scopes, scope) {
			t.Errorf("%s needs %s, which the default scopes lack", op, scope)
		}
	}
	if !o.ScopesInApp {
		t.Error("Zoom's scopes come from the app's settings: several granular scopes in the authorize URL fail")
	}
}

func mustID(t *testing.T, m platform.Meeting) int64 {
	t.Helper()
	id, err := strconv.ParseInt(m.ExternalID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestZoomErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		op     string
		status int
		code   string
		want   platform.Reason
	}{
		{"invalid access token", zoomfake.OpUsersMe, 401, "124", platform.ReasonExpiredToken},
		{"token without the scope", zoomfake.OpCreateMeeting, 400, "4711", platform.ReasonPermission},
		{"oauth catch-all", zoomfake.OpCreateMeeting, 400, "4700", platform.ReasonPermission},
		{"no permission", zoomfake.OpCreateMeeting, 400, "200", platform.ReasonPermission},
		{"invalid field", zoomfake.OpCreateMeeting, 400, "300", platform.ReasonInvalid},
		{"per-second rate limit", zoomfake.OpCreateMeeting, 429, "429", platform.ReasonRateLimited},
		{"meeting does not exist", zoomfake.OpMeetingStatus, 404, "3001", platform.ReasonNotFound},
		{"user does not exist", zoomfake.OpUsersMe, 404, "1001", platform.ReasonNotFound},
		{"may not host meetings", zoomfake.OpCreateMeeting, 400, "3161", platform.ReasonNotEligible},
		{"server error", zoomfake.OpCreateMeeting, 500, "500", platform.ReasonTransient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, c := setup(t)
			ctx := context.Background()
			f.FailNext(tc.op, tc.status, tc.code, 5)
			var err error
			switch tc.op {
			case zoomfake.OpUsersMe:
				_, err = c.Whoami(ctx, token)
			case zoomfake.OpCreateMeeting:
				_, err = c.CreateMeeting(ctx, token, scheduled())
			case zoomfake.OpMeetingStatus:
				err = c.EndMeeting(ctx, token, platform.Meeting{ExternalID: "89012345671"})
			}
			pe, ok := platform.AsError(err)
			if !ok || pe.Reason != tc.want || pe.Status != tc.status {
				t.Fatalf("err = %v, want %s (HTTP %d)", err, tc.want, tc.status)
			}
			if tc.status < 500 && pe.Code != tc.code {
				t.Errorf("code %q, want %q", pe.Code, tc.code)
			}
		})
	}
}

func TestHundredMeetingsADayIsAQuotaNotARateLimit(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.DailyCreateLimit = 2
	ctx := context.Background()
	for range 2 {
		if _, err := c.CreateMeeting(ctx, token, scheduled()); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateMeeting(ctx, token, scheduled())
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonQuota || pe.Status != 429 {
		t.Fatalf("err = %v, want quota", err)
	}
	if f.Calls(zoomfake.OpCreateMeeting) != 3 {
		t.Errorf("the quota answer was retried: %d calls", f.Calls(zoomfake.OpCreateMeeting))
	}
}

func TestRateLimitKeepsRetryAfterWhenZoomSendsIt(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.FailNextWith(zoomfake.OpUsersMe, 429, http.Header{"Retry-After": {"30"}},
		`{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}`, 1)
	_, err := c.Whoami(context.Background(), token)
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonRateLimited || pe.RetryAfter != 30*time.Second {
		t.Fatalf("err = %+v", err)
	}
	if n := f.Calls(zoomfake.OpUsersMe); n != 1 {
		t.Errorf("a 30 s Retry-After was waited for in line: %d calls", n)
	}
}

func TestIdempotentCallsAreRetriedOn500AndCreateIsNot(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}

	f.FailNext(zoomfake.OpMeetingStatus, 500, "500", 1)
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatalf("end after one 500: %v", err)
	}
	other, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	f.FailNext(zoomfake.OpDeleteMeeting, 503, "503", 2)
	if err := c.DeleteMeeting(ctx, token, other); err != nil { // not the ended one: Zoom refuses to delete that
		t.Fatalf("delete after two 503s: %v", err)
	}
	if got := f.Calls(zoomfake.OpMeetingStatus); got != 2 {
		t.Errorf("end calls %d, want 2", got)
	}
	if got := f.Calls(zoomfake.OpDeleteMeeting); got != 3 {
		t.Errorf("delete calls %d, want 3", got)
	}

	before := f.Calls(zoomfake.OpCreateMeeting)
	f.FailNext(zoomfake.OpCreateMeeting, 500, "500", 1)
	_, err = c.CreateMeeting(ctx, token, scheduled())
	if platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("create after a 500: %v", err)
	}
	if got := f.Calls(zoomfake.OpCreateMeeting) - before; got != 1 {
		t.Errorf("create was tried %d times; Zoom has no idempotency key, so once", got)
	}
}

func TestRejectedTokenIsExpiredAndNoTokenAppearsInErrors(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.RejectToken(token)
	_, err := c.Whoami(ctx, token)
	if platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("err = %v, want expired_token", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the token is in %q", err)
	}

	// A platform that echoes the token back in its message.
	other := "another-zoom-token-abcdefghijkl"
	f.FailNextWith(zoomfake.OpCreateMeeting, 400, nil, `{"code":300,"message":"Invalid field: token `+other+`"}`, 1)
	_, err = c.CreateMeeting(ctx, other, scheduled())
	if err == nil || strings.Contains(err.Error(), other) {
		t.Fatalf("err = %v", err)
	}
	// Nor does the host token of a created meeting.
	m, err := c.CreateMeeting(ctx, other, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	f.FailNext(zoomfake.OpDeleteMeeting, 400, "300", 1)
	err = c.DeleteMeeting(ctx, other, m)
	if err == nil || strings.Contains(err.Error(), m.HostURL) || strings.Contains(err.Error(), "zak=") {
		t.Fatalf("err = %v", err)
	}
}

func TestWhoamiNamesTheZoomUser(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	a, err := c.Whoami(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "KDcuGIm1QgePTO8WbOqwIQ" || a.Name != "Jill Chill" || a.Extra["email"] != "jchill@example.com" {
		t.Errorf("%+v", a)
	}
}

func TestScheduledMeetingWithoutStartIsRefusedBeforeCallingZoom(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	spec := scheduled()
	spec.Start = time.Time{}
	_, err := c.CreateMeeting(context.Background(), token, spec)
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonInvalid || pe.Status != 0 {
		t.Fatalf("err = %v", err)
	}
	spec = scheduled()
	spec.TimeZone = "Mars/Olympus"
	if _, err := c.CreateMeeting(context.Background(), token, spec); platform.ReasonOf(err) != platform.ReasonInvalid {
		t.Fatalf("err = %v", err)
	}
	if n := f.Calls(zoomfake.OpCreateMeeting); n != 0 {
		t.Errorf("%d calls reached Zoom", n)
	}
}

func TestContractCheckCatchesARequestZoomDoesNotDocument(t *testing.T) {
	t.Parallel()
	desc, err := contract.Zoom()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	bad := []contract.Request{
		{Method: "POST", URL: "/v2/users/me/meetings", Header: h, Body: []byte(`{"topic":"t","type":2,"start":"2030-01-01T00:00:00Z"}`)},
		{Method: "POST", URL: "/v2/users/me/meetings", Header: h, Body: []byte(`{"topic":"t","type":2,"password":"far-too-long-passcode"}`)},
		{Method: "PUT", URL: "/v2/meetings/123/status", Header: h, Body: []byte(`{"action":"finish"}`)},
		{Method: "POST", URL: "/v2/meetings/123/end", Header: h},
	}
	for _, r := range bad {
		if err := desc.Check(r); err == nil {
			t.Errorf("%s %s passed", r, r.Body)
		}
	}
}

func TestUpdateMeetingChangesTopicAndTimesAtZoomAndKeepsTheLinks(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	spec := platform.MeetingSpec{Title: "Moved prayer", Start: time.Date(2030, 3, 11, 1, 0, 0, 0, time.UTC),
		Duration: 45 * time.Minute, TimeZone: "Europe/Berlin"}
	got, err := c.UpdateMeeting(ctx, token, m, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.JoinURL != m.JoinURL || got.HostURL != m.HostURL || got.ExternalID != m.ExternalID {
		t.Errorf("the change altered the meeting's links: %+v", got)
	}
	fm, _ := f.Meeting(mustID(t, m))
	if fm.Topic != "Moved prayer" || fm.StartTime != "2030-03-11T01:00:00Z" || fm.Duration != 45 || fm.Timezone != "Europe/Berlin" {
		t.Errorf("Zoom holds %+v", fm)
	}
	if fm.Password == "" || fm.Settings["waiting_room"] != true {
		t.Errorf("the change lost the passcode or settings: %+v", fm)
	}
	b := lastBody(t, f, "PATCH", "/v2/meetings/")
	if _, ok := b["password"]; ok || len(b) != 4 {
		t.Errorf("update body %v: want exactly topic, start_time, duration, timezone", b)
	}
}

// Zoom refuses to change a meeting in progress (400, code 3000) and one it
// no longer has (404, code 3001).
func TestUpdateMeetingReportsZoomsRefusals(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled())
	if err != nil {
		t.Fatal(err)
	}
	f.StartMeeting(mustID(t, m))
	_, err = c.UpdateMeeting(ctx, token, m, scheduled())
	if pe, ok := platform.AsError(err); !ok || pe.Status != 400 || pe.Code != "3000" || !strings.Contains(pe.Message, "started") {
		t.Errorf("a started meeting: %v", err)
	}
	if fm, _ := f.Meeting(mustID(t, m)); fm.Topic != scheduled().Title {
		t.Error("a refused change was applied")
	}
	_, err = c.UpdateMeeting(ctx, token, platform.Meeting{ExternalID: "89012345999"}, scheduled())
	if platform.ReasonOf(err) != platform.ReasonNotFound {
		t.Errorf("an unknown meeting: %v", err)
	}
	spec := scheduled()
	spec.Start = time.Time{}
	before := f.Calls(zoomfake.OpUpdateMeeting)
	if _, err := c.UpdateMeeting(ctx, token, m, spec); platform.ReasonOf(err) != platform.ReasonInvalid {
		t.Errorf("no start: %v", err)
	}
	if f.Calls(zoomfake.OpUpdateMeeting) != before {
		t.Error("an invalid change reached Zoom")
	}
}
