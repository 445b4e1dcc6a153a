package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

// A meeting moved through the stack (every answer checked against
// openapi.json): the change reaches Zoom, Meet and Teams, JaaS links are
// signed again; a platform refusing is shown on its target; bad bodies
// and a cancelled meeting change nothing.
func TestChangingAMeetingThroughTheStackMovesItAtEveryPlatform(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	jaas := connectMeetingPlatforms(s, "church-1", true)
	var m meetingBody
	if r := s.call("POST", "/meetings", "church-1", meetingRequest(fourMeetingPlatforms...), &m); r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, tg := range m.Targets {
		if !tg.Current {
			t.Fatalf("a new meeting's %s target is not current", tg.Platform)
		}
	}
	start := time.Now().Add(50 * time.Hour).UTC().Truncate(time.Second)
	var got meetingBody
	r := s.call("PATCH", "/meetings/"+m.ID, "church-1", map[string]any{"title": "Elders' meeting (Thursday)",
		"startTime": start.Format(time.RFC3339), "durationMinutes": 75}, &got)
	if r.StatusCode != http.StatusOK || got.Title != "Elders' meeting (Thursday)" || got.StartTime != start.Format(time.RFC3339) || got.DurationMinutes != 75 {
		t.Fatalf("change: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, tg := range got.Targets {
		if !tg.Current || tg.LastError != nil {
			t.Errorf("%s does not hold the change: %+v", tg.Platform, tg)
		}
	}
	zid, _ := strconv.ParseInt(*got.target(t, "zoom").ExternalID, 10, 64)
	if zm, _ := s.sb.Zoom.Meeting(zid); zm.Topic != got.Title || zm.StartTime != start.Format("2006-01-02T15:04:05Z") || zm.Duration != 75 {
		t.Errorf("zoom holds %+v", zm)
	}
	chicago, _ := time.LoadLocation("America/Chicago")
	if ev, _ := s.sb.Meet.Event(*got.target(t, "google-meet").ExternalID); ev.Summary != got.Title || ev.Start["dateTime"] != start.In(chicago).Format(time.RFC3339) {
		t.Errorf("calendar holds %+v", ev)
	}
	if tm, _ := s.sb.Teams.Meeting(*got.target(t, "microsoft-teams").ExternalID); tm.Subject != got.Title || !strings.HasPrefix(tm.StartDateTime, start.Format("2006-01-02T15:04:05")) {
		t.Errorf("teams holds %+v", tm)
	}
	if *got.target(t, "zoom").JoinURL != *m.target(t, "zoom").JoinURL {
		t.Error("Zoom's join link changed")
	}
	newJaaS := *got.target(t, "jitsi").JoinURL
	if _, err := jaas.VerifyLink(newJaaS, start); err != nil {
		t.Errorf("the new JaaS link at the new start: %v", err)
	}
	if _, err := jaas.VerifyLink(*m.target(t, "jitsi").JoinURL, start); err == nil {
		t.Error("the old JaaS link opens the moved meeting")
	}

	// Teams refusing: the others take the change, Teams' target says why.
	s.sb.Teams.FailNext(teamsfake.OpUpdate, http.StatusForbidden, "Forbidden", 1)
	if r = s.call("PATCH", "/meetings/"+m.ID, "church-1", map[string]any{"title": "Elders"}, &got); r.StatusCode != http.StatusOK {
		t.Fatalf("second change: %d %s", r.StatusCode, bodyOf(r))
	}
	if tt := got.target(t, "microsoft-teams"); tt.Current || tt.LastError == nil || tt.LastError.Code != "permission" {
		t.Errorf("teams target %+v", tt)
	}
	if zt := got.target(t, "zoom"); !zt.Current {
		t.Errorf("zoom target %+v", zt)
	}

	// Bad bodies are problems that change nothing.
	calls := s.sb.Zoom.Calls(zoomfake.OpUpdateMeeting) + s.sb.Meet.Calls(googlemeetfake.OpEventsPatch) + s.sb.Teams.Calls(teamsfake.OpUpdate)
	for _, body := range []map[string]any{{}, {"durationMinutes": 0}, {"startTime": "next Thursday"}, {"timezone": "Mars/Olympus"},
		{"title": "x", "targets": []any{}}, {"startTime": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}} {
		if r = s.call("PATCH", "/meetings/"+m.ID, "church-1", body, nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d %s", body, r.StatusCode, bodyOf(r))
		}
	}
	if n := s.sb.Zoom.Calls(zoomfake.OpUpdateMeeting) + s.sb.Meet.Calls(googlemeetfake.OpEventsPatch) + s.sb.Teams.Calls(teamsfake.OpUpdate); n != calls {
		t.Errorf("bad bodies reached the platforms: %d → %d calls", calls, n)
	}

	// A cancelled meeting is a conflict and changes nothing.
	if r = s.call("DELETE", "/meetings/"+m.ID, "church-1", nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d %s", r.StatusCode, bodyOf(r))
	}
	r = s.call("PATCH", "/meetings/"+m.ID, "church-1", map[string]any{"title": "Too late"}, nil)
	if r.StatusCode != http.StatusConflict || !strings.Contains(bodyOf(r), "meeting_cancelled") {
		t.Errorf("a cancelled meeting: %d %s", r.StatusCode, bodyOf(r))
	}
	var after meetingBody
	s.call("GET", "/meetings/"+m.ID, "church-1", nil, &after)
	if after.Title != "Elders" || after.Status != "cancelled" {
		t.Errorf("after: %+v", after)
	}
}
