package teams_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
)

const token = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InRlYW1zLXRva2VuIn0.teams-access-token"

// notInDescription are requests the cloud communications description does
// not cover (it has no /me): they are exempt from the contract check, and
// only these.
func notInDescription(r contract.Request) bool {
	return r.Method == http.MethodGet && r.URL == "/v1.0/me"
}

// setup starts a fake and a client on it; when the test ends every request
// the fake received (but GET /me) is checked against Graph's description.
func setup(t *testing.T) (*teamsfake.Server, *teams.Client) {
	t.Helper()
	f := teamsfake.New()
	t.Cleanup(func() {
		defer f.Close()
		desc, err := contract.Graph()
		if err != nil {
			t.Fatalf("Graph's description: %v", err)
		}
		var reqs []contract.Request
		for _, r := range f.Requests() {
			if !notInDescription(r) {
				reqs = append(reqs, r)
			}
		}
		if err := contract.CheckAll(desc.Check, reqs); err != nil {
			t.Errorf("a request is not in Graph's description:\n%v", err)
		}
	})
	return f, teams.New(&http.Client{Timeout: 5 * time.Second}, f.APIURL())
}

func spec(requestID string) platform.MeetingSpec {
	return platform.MeetingSpec{Title: "Elders' meeting", Start: time.Date(2030, 5, 1, 18, 0, 0, 0, time.UTC),
		Duration: 45 * time.Minute, TimeZone: "Europe/Berlin", RequestID: requestID}
}

func TestCreateThenDeleteAnOnlineMeeting(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, spec("mtg-1/teams"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.JoinURL, "https://teams.microsoft.com/l/meetup-join/") || m.ExternalID == "" || m.HostURL != "" {
		t.Errorf("%+v", m)
	}
	fm, ok := f.Meeting(m.ExternalID)
	if !ok || fm.Subject != "Elders' meeting" || !strings.HasPrefix(fm.StartDateTime, "2030-05-01T18:00:00") ||
		!strings.HasPrefix(fm.EndDateTime, "2030-05-01T18:45:00") || fm.ExternalID != "mtg-1/teams" {
		t.Errorf("fake has %+v", fm)
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Meeting(m.ExternalID); ok {
		t.Error("meeting still there")
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatalf("deleting a meeting already gone: %v", err)
	}
}

func TestCreateWithTheSameRequestIDGetsTheSameMeeting(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	a, err := c.CreateMeeting(ctx, token, spec("mtg-2/teams"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateMeeting(ctx, token, spec("mtg-2/teams"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ExternalID != b.ExternalID || a.JoinURL != b.JoinURL || b.Extra["existing"] != "true" {
		t.Errorf("first %+v, second %+v", a, b)
	}
	if _, err := c.CreateMeeting(ctx, token, spec("mtg-3/teams")); err != nil {
		t.Fatal(err)
	}
	if n := f.Meetings(); n != 2 {
		t.Errorf("%d meetings, want 2", n)
	}
}

func TestCreateIsRetriedOn500BecauseCreateOrGetIsIdempotent(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.FailNext(teamsfake.OpCreateOrGet, 500, "InternalServerError", 1)
	m, err := c.CreateMeeting(context.Background(), token, spec("mtg-4/teams"))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(teamsfake.OpCreateOrGet); n != 2 || f.Meetings() != 1 || m.ExternalID == "" {
		t.Errorf("calls %d, meetings %d", n, f.Meetings())
	}
}

func TestCreateWithoutRequestIDIsTriedOnce(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.FailNext(teamsfake.OpCreateOrGet, 500, "InternalServerError", 1)
	_, err := c.CreateMeeting(context.Background(), token, spec(""))
	if platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("err = %v", err)
	}
	if n := f.Calls(teamsfake.OpCreateOrGet); n != 1 {
		t.Errorf("calls %d, want 1", n)
	}
	// The externalId it sends is random, so two such creates are two meetings.
	for range 2 {
		if _, err := c.CreateMeeting(context.Background(), token, spec("")); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Meetings(); n != 2 {
		t.Errorf("%d meetings", n)
	}
}

func TestDeleteIsRetriedOn503(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, spec("mtg-5/teams"))
	if err != nil {
		t.Fatal(err)
	}
	f.FailNext(teamsfake.OpDelete, 503, "ServiceNotAvailable", 1)
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(teamsfake.OpDelete); n != 2 {
		t.Errorf("calls %d", n)
	}
}

func TestEndingATeamsMeetingIsUnsupported(t *testing.T) {
	t.Parallel()
	var m platform.Meeter = (*teams.Client)(nil)
	if _, ok := m.(platform.MeetingEnder); ok {
		t.Error("the client has EndMeeting, but Microsoft Graph has no call that ends a Teams meeting")
	}
	if teams.Registration().Supports(platform.CapMeetingEnd) {
		t.Error("Teams advertises meeting.end")
	}
}

func TestGraphErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		code   string
		want   platform.Reason
	}{
		{"expired token", 401, "InvalidAuthenticationToken", platform.ReasonExpiredToken},
		{"forbidden", 403, "Forbidden", platform.ReasonPermission},
		{"insufficient privileges", 403, "Authorization_RequestDenied", platform.ReasonPermission},
		{"personal Microsoft account", 401, "AuthenticationError", platform.ReasonNotEligible},
		{"throttled", 429, "TooManyRequests", platform.ReasonRateLimited},
		{"bad request", 400, "BadRequest", platform.ReasonInvalid},
		{"unavailable", 503, "ServiceNotAvailable", platform.ReasonTransient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, c := setup(t)
			f.FailNext(teamsfake.OpCreateOrGet, tc.status, tc.code, 5)
			_, err := c.CreateMeeting(context.Background(), token, spec("mtg-err/teams"))
			pe, ok := platform.AsError(err)
			if !ok || pe.Reason != tc.want || pe.Code != tc.code || pe.Status != tc.status {
				t.Fatalf("err = %+v, want %s", err, tc.want)
			}
			if tc.want == platform.ReasonNotEligible && !strings.Contains(pe.Message, "work or school account") {
				t.Errorf("message %q does not say why", pe.Message)
			}
			if tc.status == 429 && pe.RetryAfter != time.Second {
				t.Errorf("Retry-After %v", pe.RetryAfter)
			}
		})
	}
}

func TestRejectedTokenIsExpiredAndNoTokenAppearsInErrors(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.RejectToken(token)
	_, err := c.Whoami(ctx, token)
	if platform.ReasonOf(err) != platform.ReasonExpiredToken || strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v", err)
	}
	other := "another-graph-token-abcdefghijklmnop"
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "BadRequest", "message": "Bad token " + other}})
	f.FailNextWith(teamsfake.OpDelete, 400, nil, string(body), 1)
	err = c.DeleteMeeting(ctx, other, platform.Meeting{ExternalID: "abc"})
	if err == nil || strings.Contains(err.Error(), other) {
		t.Fatalf("err = %v", err)
	}
}

func TestWhoamiNamesTheGraphUser(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	a, err := c.Whoami(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != teamsfake.OrganizerID || a.Name != "Adele Vance" || a.Extra["userPrincipalName"] != "AdeleV@contoso.com" {
		t.Errorf("%+v", a)
	}
}

func TestInstantMeetingStartsNow(t *testing.T) {
	t.Parallel()
	f, _ := setup(t)
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	c := teams.New(http.DefaultClient, f.APIURL(), teams.WithClock(func() time.Time { return now }))
	m, err := c.CreateMeeting(context.Background(), token, platform.MeetingSpec{Title: "now", Instant: true, RequestID: "i1"})
	if err != nil {
		t.Fatal(err)
	}
	fm, _ := f.Meeting(m.ExternalID)
	if !strings.HasPrefix(fm.StartDateTime, "2031-01-02T03:04:05") || !strings.HasPrefix(fm.EndDateTime, "2031-01-02T04:04:05") {
		t.Errorf("%+v", fm)
	}
}

func TestContractCheckCatchesARequestGraphDoesNotDocument(t *testing.T) {
	t.Parallel()
	desc, err := contract.Graph()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer x"}, "Content-Type": {"application/json"}}
	bad := []contract.Request{
		{Method: "POST", URL: "/v1.0/me/onlineMeetings/createOrGet", Header: h, Body: []byte(`{"externalId":"a","title":"t"}`)},
		{Method: "POST", URL: "/v1.0/me/onlineMeetings/createOrGet", Header: h, Body: []byte(`{"externalId":"a","startDateTime":"1 May 2030"}`)},
		{Method: "POST", URL: "/v1.0/me/onlineMeetings/abc/end", Header: h},
		// A change is checked property by property against onlineMeeting (its allOf merged).
		{Method: "PATCH", URL: "/v1.0/me/onlineMeetings/abc", Header: h, Body: []byte(`{"subject":5}`)},
		{Method: "PATCH", URL: "/v1.0/me/onlineMeetings/abc", Header: h, Body: []byte(`{"startDateTime":"1 May 2030","endDateTime":"2030-05-01T19:00:00Z"}`)},
		{Method: "PATCH", URL: "/v1.0/me/onlineMeetings/abc", Header: h, Body: []byte(`{"title":"an undeclared property"}`)},
		{Method: "GET", URL: "/v1.0/me", Header: h}, // not in this description: must fail, not pass silently
	}
	for _, r := range bad {
		if err := desc.Check(r); err == nil {
			t.Errorf("%s %s passed", r, r.Body)
		}
	}
}

func TestUpdateMeetingPatchesSubjectAndBothTimes(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, spec("mtg-u1/teams"))
	if err != nil {
		t.Fatal(err)
	}
	changed := platform.MeetingSpec{Title: "Elders' meeting (moved)", Start: time.Date(2030, 5, 2, 19, 30, 0, 0, time.UTC),
		Duration: time.Hour, TimeZone: "Europe/Berlin"}
	got, err := c.UpdateMeeting(ctx, token, m, changed)
	if err != nil {
		t.Fatal(err)
	}
	if got.JoinURL != m.JoinURL || got.ExternalID != m.ExternalID {
		t.Errorf("the change altered the meeting: %+v", got)
	}
	fm, _ := f.Meeting(m.ExternalID)
	if fm.Subject != "Elders' meeting (moved)" || !strings.HasPrefix(fm.StartDateTime, "2030-05-02T19:30:00") ||
		!strings.HasPrefix(fm.EndDateTime, "2030-05-02T20:30:00") || fm.JoinWebURL != m.JoinURL {
		t.Errorf("Graph holds %+v", fm)
	}
}

// Graph answers a change of one time without the other 400 BadRequest,
// and a meeting it no longer has 404.
func TestUpdateMeetingReportsGraphsRefusals(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, spec("mtg-u2/teams"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPatch, f.APIURL()+"/me/onlineMeetings/"+m.ExternalID, strings.NewReader(`{"startDateTime":"2030-05-03T10:00:00Z"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 400 || e.Error.Code != "BadRequest" {
		t.Errorf("start without end: %d %+v", resp.StatusCode, e)
	}
	if fm, _ := f.Meeting(m.ExternalID); !strings.HasPrefix(fm.StartDateTime, "2030-05-01T18:00:00") {
		t.Errorf("a refused change was applied: %s", fm.StartDateTime)
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateMeeting(ctx, token, m, spec("")); platform.ReasonOf(err) != platform.ReasonNotFound {
		t.Errorf("a deleted meeting: %v", err)
	}
}
