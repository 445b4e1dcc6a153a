package googlemeet_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/contract"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
)

const token = "ya29.a0AfB_byC-google-access-token-0123456789"

// setup starts a fake and a client on it. When the test ends every request
// the fake received is checked: Meet's against the Meet discovery document,
// Calendar's against Calendar's. Userinfo is OpenID Connect, described by
// neither; it is the one exemption.
func setup(t *testing.T, opts ...googlemeet.Option) (*googlemeetfake.Server, *googlemeet.Client) {
	t.Helper()
	f := googlemeetfake.New()
	t.Cleanup(func() {
		defer f.Close()
		meet, err := contract.Meet()
		if err != nil {
			t.Fatalf("Meet's description: %v", err)
		}
		cal, err := contract.Calendar()
		if err != nil {
			t.Fatalf("Calendar's description: %v", err)
		}
		var meetReqs, calReqs []contract.Request
		for _, r := range f.Requests() {
			switch {
			case strings.HasPrefix(r.URL, "/v2/"):
				meetReqs = append(meetReqs, r)
			case strings.HasPrefix(r.URL, "/calendar/v3/"):
				calReqs = append(calReqs, r)
			case r.Method == http.MethodGet && r.URL == "/v1/userinfo":
			default:
				t.Errorf("request to neither API: %s", r)
			}
		}
		if err := contract.CheckAll(meet.Check, meetReqs); err != nil {
			t.Errorf("a request is not in Meet's description:\n%v", err)
		}
		if err := contract.CheckAll(cal.Check, calReqs); err != nil {
			t.Errorf("a request is not in Calendar's description:\n%v", err)
		}
	})
	opts = append([]googlemeet.Option{googlemeet.WithUserinfoURL(f.UserinfoURL()), googlemeet.WithPolling(10*time.Millisecond, 5)}, opts...)
	return f, googlemeet.New(&http.Client{Timeout: 5 * time.Second}, f.MeetURL(), f.CalendarURL(), opts...)
}

func scheduled(requestID string) platform.MeetingSpec {
	return platform.MeetingSpec{Title: "Youth group", Start: time.Date(2030, 6, 7, 17, 0, 0, 0, time.UTC),
		Duration: time.Hour, TimeZone: "America/New_York", RequestID: requestID}
}

func TestScheduledMeetingIsACalendarEventWhoseConferenceGoesFromPendingToSuccess(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.PendingReads = 2
	m, err := c.CreateMeeting(context.Background(), token, scheduled("m1/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}$`).MatchString(m.JoinURL) {
		t.Errorf("join URL %q", m.JoinURL)
	}
	if m.ExternalID != googlemeet.EventID("m1/google-meet") || m.Extra["kind"] != googlemeet.KindCalendarEvent ||
		m.Extra["conferenceStatus"] != "success" || !strings.HasSuffix(m.JoinURL, m.Extra["conferenceId"]) {
		t.Errorf("%+v", m)
	}
	if n := f.Calls(googlemeetfake.OpEventsGet); n != 2 {
		t.Errorf("%d reads while pending, want 2", n)
	}
	var body map[string]any
	for _, r := range f.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.URL, "/calendar/v3/calendars/primary/events?") {
			if !strings.Contains(r.URL, "conferenceDataVersion=1") {
				t.Errorf("insert without conferenceDataVersion=1: %s", r.URL)
			}
			json.Unmarshal(r.Body, &body)
		}
	}
	start := body["start"].(map[string]any)
	if start["dateTime"] != "2030-06-07T13:00:00-04:00" || start["timeZone"] != "America/New_York" {
		t.Errorf("start %v", start)
	}
	cr := body["conferenceData"].(map[string]any)["createRequest"].(map[string]any)
	if cr["requestId"] != "m1/google-meet" || cr["conferenceSolutionKey"].(map[string]any)["type"] != "hangoutsMeet" {
		t.Errorf("createRequest %v", cr)
	}
}

func TestConferenceStillPendingAfterPollingIsTransientAndARetryPicksItUp(t *testing.T) {
	t.Parallel()
	f, c := setup(t, googlemeet.WithPolling(time.Millisecond, 2))
	f.PendingReads = 4
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled("m2/google-meet"))
	if platform.ReasonOf(err) != platform.ReasonTransient || m.ExternalID == "" || m.Extra["conferenceStatus"] != "pending" {
		t.Fatalf("m %+v, err %v", m, err)
	}
	m2, err := c.CreateMeeting(ctx, token, scheduled("m2/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	if m2.ExternalID != m.ExternalID || m2.JoinURL == "" || f.Events() != 1 {
		t.Errorf("retry gave %+v; %d events", m2, f.Events())
	}
}

func TestRetriedInsertFindsTheFirstEventInsteadOfMakingASecond(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.PendingReads = 0
	ctx := context.Background()
	a, err := c.CreateMeeting(ctx, token, scheduled("m3/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateMeeting(ctx, token, scheduled("m3/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	if a.ExternalID != b.ExternalID || a.JoinURL != b.JoinURL || f.Events() != 1 {
		t.Errorf("a %+v b %+v events %d", a, b, f.Events())
	}
	// A 500 on insert is retried, because the event id makes it idempotent.
	f.FailNext(googlemeetfake.OpEventsInsert, 500, "backendError", 1)
	if _, err := c.CreateMeeting(ctx, token, scheduled("m4/google-meet")); err != nil {
		t.Fatal(err)
	}
	if f.Events() != 2 {
		t.Errorf("%d events", f.Events())
	}
	// Once deleted, the same request id cannot come back.
	if err := c.DeleteMeeting(ctx, token, a); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateMeeting(ctx, token, scheduled("m3/google-meet"))
	if platform.ReasonOf(err) != platform.ReasonConflict {
		t.Fatalf("err = %v", err)
	}
}

func TestInsertWithoutRequestIDIsTriedOnce(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.FailNext(googlemeetfake.OpEventsInsert, 500, "backendError", 1)
	_, err := c.CreateMeeting(context.Background(), token, scheduled(""))
	if platform.ReasonOf(err) != platform.ReasonTransient || f.Calls(googlemeetfake.OpEventsInsert) != 1 {
		t.Fatalf("err %v, calls %d", err, f.Calls(googlemeetfake.OpEventsInsert))
	}
}

func TestConferenceFailureIsNotEligibleAndLeavesNoEvent(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.ConferenceFailure = true
	_, err := c.CreateMeeting(context.Background(), token, scheduled("m5/google-meet"))
	if platform.ReasonOf(err) != platform.ReasonNotEligible {
		t.Fatalf("err = %v", err)
	}
	if f.Events() != 0 {
		t.Errorf("%d events left", f.Events())
	}
}

func TestDeletingACalendarMeetingCancelsTheEventAndGoneIsSuccess(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled("m6/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.Event(m.ExternalID); e.Status != "cancelled" {
		t.Errorf("event status %q", e.Status)
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil { // 410 deleted
		t.Fatalf("second delete: %v", err)
	}
	if err := c.DeleteMeeting(ctx, token, platform.Meeting{ExternalID: "abcdefghij"}); err != nil { // 404
		t.Fatalf("unknown event: %v", err)
	}
	for _, r := range f.Requests() {
		if r.Method == "DELETE" && !strings.HasSuffix(r.URL, "?sendUpdates=all") {
			t.Errorf("delete without sendUpdates=all: %s", r.URL)
		}
	}
}

func TestEndingACalendarScheduledMeetIsUnsupported(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	err := c.EndMeeting(context.Background(), token, platform.Meeting{ExternalID: "abcdefghij"})
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonUnsupported || !strings.Contains(pe.Message, "ends when its participants leave") {
		t.Fatalf("err = %v", err)
	}
	if len(f.Requests()) != 0 {
		t.Error("called Google")
	}
}

func TestInstantMeetingIsASpaceThatCanBeEndedButNotDeleted(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, platform.MeetingSpec{Title: "now", Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := f.Space(m.ExternalID)
	if !ok || m.JoinURL != sp.MeetingURI || m.Extra["meetingCode"] != sp.MeetingCode || m.Extra["kind"] != googlemeet.KindSpace {
		t.Fatalf("%+v vs %+v", m, sp)
	}
	// Nobody has joined: nothing to end.
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatalf("end with no conference: %v", err)
	}
	f.StartConference(m.ExternalID)
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if sp, _ := f.Space(m.ExternalID); sp.ActiveConference != nil {
		t.Error("conference still active")
	}
	before := len(f.Requests())
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if len(f.Requests()) != before {
		t.Error("deleting a space called Google")
	}
}

func TestSpaceCreateIsTriedOnceAndEndIsRetried(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.FailNext(googlemeetfake.OpSpacesCreate, 503, "", 1)
	if _, err := c.CreateMeeting(ctx, token, platform.MeetingSpec{Instant: true}); platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("err = %v", err)
	}
	if n := f.Calls(googlemeetfake.OpSpacesCreate); n != 1 {
		t.Errorf("create tried %d times", n)
	}
	m, err := c.CreateMeeting(ctx, token, platform.MeetingSpec{Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	f.StartConference(m.ExternalID)
	f.FailNext(googlemeetfake.OpEndActiveConference, 500, "", 1)
	if err := c.EndMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if n := f.Calls(googlemeetfake.OpEndActiveConference); n != 2 {
		t.Errorf("end tried %d times", n)
	}
}

func TestGoogleErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		op     string
		status int
		code   string
		want   platform.Reason
	}{
		{"calendar rate limit", googlemeetfake.OpEventsDelete, 403, "rateLimitExceeded", platform.ReasonRateLimited},
		{"calendar user rate limit", googlemeetfake.OpEventsDelete, 429, "userRateLimitExceeded", platform.ReasonRateLimited},
		{"calendar quota", googlemeetfake.OpEventsDelete, 403, "quotaExceeded", platform.ReasonQuota},
		{"calendar forbidden", googlemeetfake.OpEventsDelete, 403, "forbidden", platform.ReasonPermission},
		{"calendar scope missing", googlemeetfake.OpEventsDelete, 403, "insufficientPermissions", platform.ReasonPermission},
		{"calendar expired token", googlemeetfake.OpEventsDelete, 401, "authError", platform.ReasonExpiredToken},
		{"calendar invalid", googlemeetfake.OpEventsDelete, 400, "invalid", platform.ReasonInvalid},
		{"meet rate limit", googlemeetfake.OpEndActiveConference, 429, "RATE_LIMIT_EXCEEDED", platform.ReasonRateLimited},
		{"meet scope missing", googlemeetfake.OpEndActiveConference, 403, "ACCESS_TOKEN_SCOPE_INSUFFICIENT", platform.ReasonPermission},
		{"meet expired token", googlemeetfake.OpEndActiveConference, 401, "ACCESS_TOKEN_EXPIRED", platform.ReasonExpiredToken},
		{"userinfo expired token", googlemeetfake.OpUserinfo, 401, "invalid_token", platform.ReasonExpiredToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, c := setup(t)
			ctx := context.Background()
			f.FailNext(tc.op, tc.status, tc.code, 5)
			var err error
			switch tc.op {
			case googlemeetfake.OpEventsDelete:
				err = c.DeleteMeeting(ctx, token, platform.Meeting{ExternalID: "abcdefghij"})
			case googlemeetfake.OpEndActiveConference:
				err = c.EndMeeting(ctx, token, platform.Meeting{ExternalID: "spaces/abc"})
			case googlemeetfake.OpUserinfo:
				_, err = c.Whoami(ctx, token)
			}
			pe, ok := platform.AsError(err)
			if !ok || pe.Reason != tc.want || pe.Status != tc.status || pe.Code != tc.code {
				t.Fatalf("err = %+v, want %s", err, tc.want)
			}
		})
	}
}

func TestRejectedTokenIsExpiredEverywhereAndNoTokenAppearsInErrors(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	ctx := context.Background()
	f.RejectToken(token)
	_, err1 := c.Whoami(ctx, token)
	_, err2 := c.CreateMeeting(ctx, token, scheduled("m7/google-meet"))
	_, err3 := c.CreateMeeting(ctx, token, platform.MeetingSpec{Instant: true})
	for _, err := range []error{err1, err2, err3} {
		if platform.ReasonOf(err) != platform.ReasonExpiredToken || strings.Contains(err.Error(), token) {
			t.Errorf("err = %v", err)
		}
	}
	other := "ya29.another-google-token-abcdefghijk"
	f.FailNextWith(googlemeetfake.OpEventsDelete, 400, nil,
		`{"error":{"code":400,"message":"Bad token `+other+`","errors":[{"reason":"invalid","message":"x"}]}}`, 1)
	if err := c.DeleteMeeting(ctx, other, platform.Meeting{ExternalID: "abcdefghij"}); err == nil || strings.Contains(err.Error(), other) {
		t.Fatalf("err = %v", err)
	}
}

func TestWhoamiReadsUserinfo(t *testing.T) {
	t.Parallel()
	_, c := setup(t)
	a, err := c.Whoami(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != googlemeetfake.UserSub || a.Name != googlemeetfake.UserName || a.Extra["email"] != googlemeetfake.UserEmail {
		t.Errorf("%+v", a)
	}
}

func TestEventIDIsInCalendarsAlphabetAndStable(t *testing.T) {
	t.Parallel()
	id := googlemeet.EventID("meeting-1/google-meet")
	if !regexp.MustCompile(`^[a-v0-9]{5,}$`).MatchString(id) || id != googlemeet.EventID("meeting-1/google-meet") ||
		id == googlemeet.EventID("meeting-2/google-meet") {
		t.Errorf("%q", id)
	}
}

func TestURLsFromEnvDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GOOGLE_MEET_CALENDAR_API_URL": "http://127.0.0.1:9/calendar/v3"}
	m, c, u := googlemeet.URLsFromEnv(func(k string) string { return env[k] })
	if m != googlemeet.DefaultMeetURL || c != "http://127.0.0.1:9/calendar/v3" || u != googlemeet.DefaultUserinfoURL {
		t.Errorf("%s %s %s", m, c, u)
	}
}

func TestContractCheckCatchesRequestsGoogleDoesNotDocument(t *testing.T) {
	t.Parallel()
	meet, err := contract.Meet()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := contract.Calendar()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer x"}}
	badCal := []contract.Request{
		{Method: "POST", URL: "/calendar/v3/calendars/primary/events?conferenceDataVersion=1", Header: h,
			Body: []byte(`{"summary":"x","start":{"dateTime":"2030-01-01T00:00:00Z"},"end":{"dateTime":"2030-01-01T01:00:00Z"},"meetLink":"x"}`)},
		{Method: "POST", URL: "/calendar/v3/calendars/primary/events?conferenceDataVersion=1", Header: h,
			Body: []byte(`{"summary":"no end","start":{"dateTime":"2030-01-01T00:00:00Z"}}`)},
		{Method: "DELETE", URL: "/calendar/v3/calendars/primary/events/abc?notify=all", Header: h},
		{Method: "POST", URL: "/calendar/v3/calendars/primary/events", Header: http.Header{}, Body: []byte(`{}`)},
	}
	for _, r := range badCal {
		if err := cal.Check(r); err == nil {
			t.Errorf("%s %s passed Calendar's check", r, r.Body)
		}
	}
	badMeet := []contract.Request{
		{Method: "POST", URL: "/v2/spaces", Header: h, Body: []byte(`{"title":"x"}`)},
		{Method: "DELETE", URL: "/v2/spaces/abc", Header: h},
		{Method: "POST", URL: "/v2/spaces/abc:end", Header: h, Body: []byte(`{}`)},
	}
	for _, r := range badMeet {
		if err := meet.Check(r); err == nil {
			t.Errorf("%s %s passed Meet's check", r, r.Body)
		}
	}
}

func TestUpdateMeetingPatchesTheEventsTitleAndTimesAndKeepsItsConference(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.PendingReads = 0
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled("m2/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	spec := platform.MeetingSpec{Title: "Youth group (moved)", Start: time.Date(2030, 6, 8, 23, 30, 0, 0, time.UTC),
		Duration: 90 * time.Minute, TimeZone: "America/Chicago"}
	got, err := c.UpdateMeeting(ctx, token, m, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got.JoinURL != m.JoinURL || got.ExternalID != m.ExternalID {
		t.Errorf("the change altered the meeting: %+v", got)
	}
	ev, _ := f.Event(m.ExternalID)
	if ev.Summary != "Youth group (moved)" || ev.Start["dateTime"] != "2030-06-08T18:30:00-05:00" || ev.Start["timeZone"] != "America/Chicago" ||
		ev.End["dateTime"] != "2030-06-08T20:00:00-05:00" || ev.HangoutLink != m.JoinURL {
		t.Errorf("Calendar holds %+v", ev)
	}
	var patch contract.Request
	for _, r := range f.Requests() {
		if r.Method == http.MethodPatch {
			patch = r
		}
	}
	if !strings.Contains(patch.URL, "sendUpdates=all") || strings.Contains(string(patch.Body), "conferenceData") {
		t.Errorf("patch %s %s: want sendUpdates=all and no conferenceData", patch.URL, patch.Body)
	}
}

// Calendar refuses a change of an event that was deleted (403 forbidden)
// and of one it never had (404); a Meet space has no time to change.
func TestUpdateMeetingReportsCalendarsRefusalsAndSpacesCannotChange(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.PendingReads = 0
	ctx := context.Background()
	m, err := c.CreateMeeting(ctx, token, scheduled("m3/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMeeting(ctx, token, m); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateMeeting(ctx, token, m, scheduled("")); platform.ReasonOf(err) != platform.ReasonPermission {
		t.Errorf("a deleted event: %v", err)
	}
	if _, err := c.UpdateMeeting(ctx, token, platform.Meeting{ExternalID: "abcdef0123"}, scheduled("")); platform.ReasonOf(err) != platform.ReasonNotFound {
		t.Errorf("an unknown event: %v", err)
	}
	if _, err := c.UpdateMeeting(ctx, token, platform.Meeting{ExternalID: "spaces/abc"}, scheduled("")); platform.ReasonOf(err) != platform.ReasonUnsupported {
		t.Errorf("a space: %v", err)
	}
	f.FailNext(googlemeetfake.OpEventsPatch, 403, "insufficientPermissions", 1)
	m2, err := c.CreateMeeting(ctx, token, scheduled("m4/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateMeeting(ctx, token, m2, scheduled(""))
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonPermission || strings.Contains(pe.Error(), token) {
		t.Errorf("a missing scope: %v", err)
	}
}

func TestCalendarFakeRefusesAnEndBeforeTheStartAndAnUnknownZone(t *testing.T) {
	t.Parallel()
	f, c := setup(t)
	f.PendingReads = 0
	m, err := c.CreateMeeting(context.Background(), token, scheduled("m5/google-meet"))
	if err != nil {
		t.Fatal(err)
	}
	for body, reason := range map[string]string{
		`{"start":{"dateTime":"2030-06-07T12:00:00Z"},"end":{"dateTime":"2030-06-07T11:00:00Z"}}`: "timeRangeEmpty",
		`{"start":{"timeZone":"Mars/Olympus"}}`:                                                   "invalid",
	} {
		req, _ := http.NewRequest(http.MethodPatch, f.CalendarURL()+"/calendars/primary/events/"+m.ExternalID, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct {
				Errors []struct {
					Reason string `json:"reason"`
				} `json:"errors"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 400 || len(e.Error.Errors) == 0 || e.Error.Errors[0].Reason != reason {
			t.Errorf("%s: %d %+v, want 400 %s", body, resp.StatusCode, e, reason)
		}
	}
	if ev, _ := f.Event(m.ExternalID); ev.Start["dateTime"] != "2030-06-07T13:00:00-04:00" {
		t.Errorf("a refused patch changed the event: %v", ev.Start)
	}
}
