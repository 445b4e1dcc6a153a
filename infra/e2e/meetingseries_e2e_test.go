package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

// meetingSeriesBody is a MeetingSeries answer.
type meetingSeriesBody struct {
	ID, Rule, Title, Status string
	RuleZone                string `json:"timeZone"`
	Timezone                string `json:"timezone"`
	DurationMinutes         int
	Targets, Skipped        []string
	NextOccurrences         []struct{ Start, End, MeetingID, Status string }
	Failure                 *struct{ Start, Code, Message, At string }
}

// tokenRefresherTick runs token-refresher as its schedule would at at.
func (s *stack) tokenRefresherTick(at time.Time) app.RunReport {
	s.t.Helper()
	run, err := app.Scheduled(context.Background(), app.TokenRefresher, app.Options{Getenv: s.liveGetenv, Log: &servicetest.Logs{}})
	if err != nil {
		s.t.Fatalf("building token-refresher: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the function's timeout
	defer cancel()
	rep, err := run(ctx, gateway.ScheduledEvent(app.TokenRefresher, gateway.DefaultRegion, gateway.DefaultAccountID, at))
	if err != nil {
		s.t.Fatalf("token-refresher at %s: %v", at.Format(time.RFC3339), err)
	}
	return rep
}

func (s *stack) zoomMeetingOf(tenant, meetingID string) zoomfake.Meeting {
	s.t.Helper()
	var m meetingBody
	if r := s.call("GET", "/meetings/"+meetingID, tenant, nil, &m); r.StatusCode != http.StatusOK {
		s.t.Fatalf("get meeting %s: %d %s", meetingID, r.StatusCode, bodyOf(r))
	}
	zid, _ := strconv.ParseInt(*m.target(s.t, "zoom").ExternalID, 10, 64)
	zm, ok := s.sb.Zoom.Meeting(zid)
	if !ok {
		s.t.Fatalf("zoom has no meeting %d", zid)
	}
	return zm
}

func TestARecurringMeetingThroughTheAPIMakesSkipsAndEndsItsOccurrencesAtThePlatforms(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const tenant = "church-weekly"
	connectMeetingPlatforms(s, tenant, false)
	chicago, _ := time.LoadLocation("America/Chicago")
	first := time.Now().In(chicago).Add(24 * time.Hour).Truncate(time.Minute)
	body := meetingRequest("zoom", "microsoft-teams")
	body["title"], body["startTime"] = "Bible study", first.Format(time.RFC3339)
	delete(body, "timezone") // the recurrence's zone is the meeting's
	body["recurrence"] = map[string]string{"rule": "FREQ=WEEKLY", "timeZone": "America/Chicago"}

	var sr meetingSeriesBody
	r := callKeyed(s, "/meeting-series", tenant, "bible-study-series", body, &sr)
	if r.StatusCode != http.StatusCreated || r.Header.Get("Location") != "/meeting-series/"+sr.ID {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	// Weekly from tomorrow: the first two are within 14 days and made now.
	if sr.Status != "active" || sr.Timezone != "America/Chicago" || len(sr.NextOccurrences) != 5 ||
		sr.NextOccurrences[0].Status != "created" || sr.NextOccurrences[1].Status != "created" || sr.NextOccurrences[2].Status != "pending" {
		t.Fatalf("series %+v", sr)
	}
	var m meetingBody
	if r := s.call("GET", "/meetings/"+sr.NextOccurrences[1].MeetingID, tenant, nil, &m); r.StatusCode != http.StatusOK ||
		m.Title != "Bible study" || m.StartTime != sr.NextOccurrences[1].Start || m.target(t, "microsoft-teams").JoinURL == nil {
		t.Fatalf("the second occurrence: %d %+v", r.StatusCode, m)
	}
	if local, _ := time.Parse(time.RFC3339, m.StartTime); local.In(chicago).Hour() != first.Hour() || local.In(chicago).Minute() != first.Minute() {
		t.Errorf("the second occurrence starts at %s Chicago, want %s", local.In(chicago), first.Format("15:04"))
	}
	// The same Idempotency-Key and body replays the series, making nothing.
	creates := s.sb.Zoom.Calls(zoomfake.OpCreateMeeting)
	var replay meetingSeriesBody
	if r := callKeyed(s, "/meeting-series", tenant, "bible-study-series", body, &replay); r.StatusCode != http.StatusCreated ||
		replay.ID != sr.ID || s.sb.Zoom.Calls(zoomfake.OpCreateMeeting) != creates {
		t.Fatalf("replay: %d %s", r.StatusCode, bodyOf(r))
	}

	// Skip the second: cancelled at Zoom; the first stays.
	if r := s.call("DELETE", "/meeting-series/"+sr.ID+"/occurrences/"+url.PathEscape(sr.NextOccurrences[1].Start), tenant, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("skip: %d %s", r.StatusCode, bodyOf(r))
	}
	if zm := s.zoomMeetingOf(tenant, sr.NextOccurrences[1].MeetingID); zm.Status != zoomfake.StatusDeleted {
		t.Errorf("the skipped occurrence at Zoom: %s", zm.Status)
	}
	if zm := s.zoomMeetingOf(tenant, sr.NextOccurrences[0].MeetingID); zm.Status == zoomfake.StatusDeleted {
		t.Error("the first occurrence was cancelled")
	}

	// Three token-refresher runs at once, as if a week had passed: the third
	// occurrence is made, once.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { s.tokenRefresherTick(time.Now().Add(7 * 24 * time.Hour)) })
	}
	wg.Wait()
	if got := s.sb.Zoom.Calls(zoomfake.OpCreateMeeting); got != creates+1 {
		t.Errorf("zoom creates %d → %d after three runs, want one more", creates, got)
	}
	var now meetingSeriesBody
	s.call("GET", "/meeting-series/"+sr.ID, tenant, nil, &now)
	if len(now.NextOccurrences) < 3 || now.NextOccurrences[1].Status != "skipped" || now.NextOccurrences[2].Status != "created" {
		t.Fatalf("after the runs: %+v", now.NextOccurrences)
	}

	// Another tenant sees no such series.
	if r := s.call("GET", "/meeting-series/"+sr.ID, "another-church", nil, nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("another tenant's read: %d", r.StatusCode)
	}
	// End it: the future occurrences are cancelled at Zoom.
	if r := s.call("DELETE", "/meeting-series/"+sr.ID, tenant, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("end: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, i := range []int{0, 2} {
		if zm := s.zoomMeetingOf(tenant, now.NextOccurrences[i].MeetingID); zm.Status != zoomfake.StatusDeleted {
			t.Errorf("occurrence %d at Zoom after the end: %s", i, zm.Status)
		}
	}
	if r := s.call("GET", "/meeting-series/"+sr.ID, tenant, nil, &now); r.StatusCode != http.StatusOK || now.Status != "ended" || len(now.NextOccurrences) != 0 {
		t.Errorf("ended series: %d %+v", r.StatusCode, now)
	}
}

func TestABadRecurringMeetingIsAProblemAndChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const tenant = "church-bad"
	connectMeetingPlatforms(s, tenant, false)
	good := func() map[string]any {
		b := meetingRequest("zoom")
		b["recurrence"] = map[string]string{"rule": "FREQ=WEEKLY;BYDAY=TU", "timeZone": "America/Chicago"}
		return b
	}
	for name, change := range map[string]func(map[string]any){
		"no recurrence": func(b map[string]any) { delete(b, "recurrence") },
		"a yearly rule": func(b map[string]any) {
			b["recurrence"] = map[string]string{"rule": "FREQ=YEARLY", "timeZone": "America/Chicago"}
		},
		"an unknown zone": func(b map[string]any) {
			b["recurrence"] = map[string]string{"rule": "FREQ=DAILY", "timeZone": "Nowhere/Land"}
		},
		"no title":         func(b map[string]any) { b["title"] = "" },
		"a livestream":     func(b map[string]any) { b["targets"] = []map[string]string{{"platform": "youtube"}} },
		"an unknown field": func(b map[string]any) { b["colour"] = "blue" },
	} {
		b := good()
		change(b)
		if r := s.call("POST", "/meeting-series", tenant, b, nil); r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.StatusCode, bodyOf(r))
		}
	}
	if s.sb.Zoom.Calls(zoomfake.OpCreateMeeting) != 0 || strings.Contains(rawItems(s), "MEETSERIES#") {
		t.Error("a refused series left a series or made a meeting")
	}
}
