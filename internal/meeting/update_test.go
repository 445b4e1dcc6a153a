package meeting_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

func num(n int) *int { return &n }

// updateCalls is how many changes reached the three platforms with an API.
func (e *env) updateCalls() int {
	return e.zoom.Calls(zoomfake.OpUpdateMeeting) + e.meet.Calls(googlemeetfake.OpEventsPatch) + e.teams.Calls(teamsfake.OpUpdate)
}

func (e *env) update(id string, ch meeting.Change) *meeting.Meeting {
	e.t.Helper()
	m, err := e.svc.Update(context.Background(), e.tenant, id, ch)
	if err != nil {
		e.t.Fatalf("update: %v", err)
	}
	return m
}

func TestMovingAMeetingChangesItAtEveryPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	jaas := e.connectAll(e.tenant)
	m := e.create(e.input(allFour...))
	oldJaaS := target(t, m, jitsi.ID).JoinURL

	start := e.clock.Now().Add(26 * time.Hour).UTC().Truncate(time.Second)
	got := e.update(m.ID, meeting.Change{Title: str("Elders' meeting (moved)"), StartTime: str(start.Format(time.RFC3339)),
		DurationMinutes: num(90), TimeZone: str("Europe/Berlin")})

	if got.Title != "Elders' meeting (moved)" || !got.Start.Equal(start) || got.DurationMinutes() != 90 || got.TimeZone != "Europe/Berlin" ||
		got.Revision != 1 || got.Status != meeting.StatusScheduled {
		t.Fatalf("meeting %+v", got)
	}
	for _, tg := range got.Targets {
		if !got.Current(tg) || tg.LastError != nil {
			t.Errorf("%s does not hold the change: %+v %+v", tg.Platform, tg, tg.LastError)
		}
	}
	// Read back from each platform.
	zm := zoomMeeting(t, e, got)
	if zm.Topic != "Elders' meeting (moved)" || zm.StartTime != start.Format("2006-01-02T15:04:05Z") || zm.Duration != 90 || zm.Timezone != "Europe/Berlin" {
		t.Errorf("zoom has %+v", zm)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ev, _ := e.meet.Event(target(t, got, googlemeet.ID).ExternalID)
	if ev.Summary != "Elders' meeting (moved)" || ev.Start["dateTime"] != start.In(berlin).Format(time.RFC3339) ||
		ev.End["dateTime"] != start.Add(90*time.Minute).In(berlin).Format(time.RFC3339) || ev.Start["timeZone"] != "Europe/Berlin" {
		t.Errorf("calendar has %+v", ev)
	}
	tm, _ := e.teams.Meeting(target(t, got, teams.ID).ExternalID)
	if tm.Subject != "Elders' meeting (moved)" || !strings.HasPrefix(tm.StartDateTime, start.Format("2006-01-02T15:04:05")) ||
		!strings.HasPrefix(tm.EndDateTime, start.Add(90*time.Minute).Format("2006-01-02T15:04:05")) {
		t.Errorf("teams has %+v", tm)
	}
	// The join links of Zoom, Meet and Teams stay; JaaS' are signed again
	// for the new times, in the same room.
	for _, p := range []platform.ID{zoom.ID, googlemeet.ID, teams.ID} {
		if target(t, got, p).JoinURL != target(t, m, p).JoinURL {
			t.Errorf("%s's join link changed", p)
		}
	}
	newJaaS := target(t, got, jitsi.ID).JoinURL
	claims, err := jaas.VerifyLink(newJaaS, start)
	if err != nil || claims.Room != target(t, m, jitsi.ID).ExternalID {
		t.Fatalf("the new JaaS link at the new start: %v %+v", err, claims)
	}
	if _, err := jaas.VerifyLink(oldJaaS, start); err == nil {
		t.Error("the old JaaS link opens the moved meeting: it was not signed for the old times")
	}
	if e.get(m.ID).Targets[3].JoinURL != newJaaS {
		t.Error("the new JaaS link was not kept")
	}
	// No link or token is logged or stored in the clear.
	logs, raw := e.logs.String(), e.rawTable()
	for _, secret := range []string{zm.StartURL[strings.Index(zm.StartURL, "zak=")+4:], newJaaS[strings.Index(newJaaS, "jwt=")+4:], "eyJ"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("a meeting secret is in the logs: %.40s…", secret)
		}
	}
	if strings.Contains(raw, newJaaS[strings.Index(newJaaS, "jwt=")+4:]) {
		t.Fatal("the new JaaS token is stored in the clear")
	}
	if !strings.Contains(logs, `"msg":"meeting changed"`) {
		t.Errorf("the change is not logged:\n%s", logs)
	}
}

func TestOnePlatformRefusingAChangeLeavesTheOthersChangedAndSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connectAll(e.tenant)
	m := e.create(e.input(allFour...))
	e.zoom.StartMeeting(mustZoomID(t, m)) // Zoom refuses to change a meeting in progress
	e.teams.FailNext(teamsfake.OpUpdate, http.StatusForbidden, "Forbidden", 1)

	got := e.update(m.ID, meeting.Change{Title: str("Renamed")})
	if got.Title != "Renamed" || got.Revision != 1 {
		t.Fatalf("the change was not recorded: %+v", got)
	}
	zt, tt := target(t, got, zoom.ID), target(t, got, teams.ID)
	if got.Current(zt) || zt.Status != meeting.TargetReady || zt.LastError == nil || !strings.Contains(zt.LastError.Message, "started") {
		t.Errorf("zoom target %+v %+v", zt, zt.LastError)
	}
	if got.Current(tt) || tt.LastError == nil || tt.LastError.Code != string(platform.ReasonPermission) {
		t.Errorf("teams target %+v %+v", tt, tt.LastError)
	}
	for _, p := range []platform.ID{googlemeet.ID, jitsi.ID} {
		if tg := target(t, got, p); !got.Current(tg) || tg.LastError != nil {
			t.Errorf("%s: %+v", p, tg)
		}
	}
	if zm := zoomMeeting(t, e, got); zm.Topic == "Renamed" {
		t.Error("Zoom applied a refused change")
	}
	if ev, _ := e.meet.Event(target(t, got, googlemeet.ID).ExternalID); ev.Summary != "Renamed" {
		t.Errorf("Meet was not changed: %q", ev.Summary)
	}
	if !strings.Contains(e.logs.String(), `"platform":"microsoft-teams","reason":"permission"`) {
		t.Errorf("the failure is not logged with its reason:\n%s", e.logs.String())
	}
	// The same change again reaches Teams now (Zoom still refuses).
	again := e.update(m.ID, meeting.Change{Title: str("Renamed")})
	if tt := target(t, again, teams.ID); !again.Current(tt) || tt.LastError != nil {
		t.Errorf("the retry did not reach Teams: %+v", tt)
	}
}

func mustZoomID(t *testing.T, m *meeting.Meeting) int64 {
	t.Helper()
	id, err := strconv.ParseInt(target(t, m, zoom.ID).ExternalID, 10, 64)
	if err != nil {
		t.Fatalf("zoom id of %s: %v", m.ID, err)
	}
	return id
}

// A public Jitsi room is only a link: a change sends nothing and a note
// says so.
func TestAPublicJitsiRoomTakesAChangeWithANote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.create(e.input("jitsi"))
	got := e.update(m.ID, meeting.Change{DurationMinutes: num(30)})
	tg := target(t, got, jitsi.ID)
	if !got.Current(tg) || !strings.Contains(tg.Note, "only a link") || tg.JoinURL != target(t, m, jitsi.ID).JoinURL {
		t.Errorf("jitsi target %+v", tg)
	}
}

func TestACancelledOrEndedMeetingIsAConflictAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connectAll(e.tenant)
	cancelled := e.create(e.input(allFour...))
	if err := e.svc.Cancel(context.Background(), e.tenant, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	ended := e.create(e.input("zoom"))
	_, err := e.svc.Update(context.Background(), e.tenant, cancelled.ID, meeting.Change{Title: str("Too late")})
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Conflict || ae.Code != apperr.CodeMeetingCancelled {
		t.Errorf("cancelled: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	_, err = e.svc.Update(context.Background(), e.tenant, ended.ID, meeting.Change{Title: str("Too late")})
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Conflict || ae.Code != apperr.CodeMeetingEnded {
		t.Errorf("ended: %v", err)
	}
	if n := e.updateCalls(); n != 0 {
		t.Errorf("%d changes reached a platform", n)
	}
	for _, id := range []string{cancelled.ID, ended.ID} {
		if got := e.get(id); got.Title != "Elders' meeting" || got.Revision != 0 {
			t.Errorf("%s was changed: %+v", id, got)
		}
	}
}

func TestABadChangeIsAProblemThatChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connectAll(e.tenant)
	m := e.create(e.input(allFour...))
	past := e.clock.Now().Add(-time.Hour).Format(time.RFC3339)
	cases := []struct {
		name  string
		ch    meeting.Change
		field string
	}{
		{"nothing to change", meeting.Change{}, "body"},
		{"empty title", meeting.Change{Title: str("  ")}, "title"},
		{"title with a line break", meeting.Change{Title: str("a\nb")}, "title"},
		{"title too long", meeting.Change{Title: str(strings.Repeat("x", 201))}, "title"},
		{"start not RFC 3339", meeting.Change{StartTime: str("next Sunday")}, "startTime"},
		{"start in the past", meeting.Change{StartTime: &past}, "startTime"},
		{"zero minutes", meeting.Change{DurationMinutes: num(0)}, "durationMinutes"},
		{"more than a day", meeting.Change{DurationMinutes: num(1441)}, "durationMinutes"},
		{"unknown zone", meeting.Change{TimeZone: str("Mars/Olympus")}, "timezone"},
		{"the server's zone", meeting.Change{TimeZone: str("Local")}, "timezone"},
		{"a good title and a bad duration", meeting.Change{Title: str("Fine"), DurationMinutes: num(-5)}, "durationMinutes"},
	}
	for _, tc := range cases {
		_, err := e.svc.Update(context.Background(), e.tenant, m.ID, tc.ch)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.Invalid || ae.Code != apperr.CodeInvalidMeeting || ae.Fields["field"] != tc.field {
			t.Errorf("%s: %v (fields %v), want invalid_meeting on %s", tc.name, err, ae.Fields, tc.field)
		}
	}
	if n := e.updateCalls(); n != 0 {
		t.Errorf("%d changes reached a platform", n)
	}
	if got := e.get(m.ID); got.Title != m.Title || !got.Start.Equal(m.Start) || got.Revision != 0 {
		t.Errorf("a refused change was recorded: %+v", got)
	}
	// Another tenant's meeting is not found, whatever the change.
	_, err := e.svc.Update(context.Background(), "church-b", m.ID, meeting.Change{})
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.CodeMeetingNotFound {
		t.Errorf("another tenant: %v", err)
	}
}

// Two changes at once: one is sent, the other is told to try again; the
// meeting and every platform hold the one that was recorded.
func TestConcurrentChangesAreOneAtATime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	e.connect(e.tenant, teams.ID)
	m := e.create(e.input("zoom", "microsoft-teams"))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.svc.Update(context.Background(), e.tenant, m.ID, meeting.Change{Title: str("Change " + string(rune('A'+i)))})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if ae, isApp := apperr.As(err); !isApp || ae.Code != apperr.CodeBusy {
			t.Errorf("a concurrent change: %v", err)
		}
	}
	got := e.get(m.ID)
	if ok == 0 || got.Revision != ok || !got.ChangingUntil.IsZero() {
		t.Fatalf("%d changes succeeded, revision %d, changing until %v", ok, got.Revision, got.ChangingUntil)
	}
	zm := zoomMeeting(t, e, got)
	tm, _ := e.teams.Meeting(target(t, got, teams.ID).ExternalID)
	if zm.Topic != got.Title || tm.Subject != got.Title {
		t.Errorf("meeting %q, zoom %q, teams %q", got.Title, zm.Topic, tm.Subject)
	}
}

func TestChangingOneOccurrenceOfASeriesLeavesTheOthers(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())
	first, second := e.occurrence(sr, tuesday(2)), e.occurrence(sr, tuesday(9))

	moved := tuesday(10).Add(-30 * time.Minute) // the Wednesday, 18:30
	got := e.update(second.ID, meeting.Change{StartTime: str(moved.Format(time.RFC3339)), Title: str("Bible study (Wednesday)")})
	if got.SeriesID != sr.ID || !got.Start.Equal(moved) {
		t.Fatalf("occurrence %+v", got)
	}
	if zm := zoomMeeting(t, e, got); zm.Topic != "Bible study (Wednesday)" || zm.StartTime != moved.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("the changed occurrence at Zoom: %+v", zm)
	}
	if zm := zoomMeeting(t, e, first); zm.Topic != "Bible study" || zm.StartTime != tuesday(2).UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("the other occurrence at Zoom: %+v", zm)
	}
	if tm, _ := e.teams.Meeting(target(t, first, teams.ID).ExternalID); tm.Subject != "Bible study" {
		t.Errorf("the other occurrence at Teams: %+v", tm)
	}
	if other := e.get(first.ID); other.Title != "Bible study" || !other.Start.Equal(tuesday(2)) || other.Revision != 0 {
		t.Errorf("the other occurrence: %+v", other)
	}
	// A scheduler run neither makes the moved occurrence again nor undoes the change.
	creates := e.zoom.Calls(zoomfake.OpCreateMeeting)
	e.clock.Advance(time.Hour)
	e.runSeries(e.svc)
	if again := e.get(second.ID); again.Title != "Bible study (Wednesday)" || e.zoom.Calls(zoomfake.OpCreateMeeting) != creates {
		t.Errorf("after a run: %q, zoom creates %d → %d", again.Title, creates, e.zoom.Calls(zoomfake.OpCreateMeeting))
	}
}

// updateGate holds a platform's change until released.
type updateGate struct {
	updatingMeeter
	entered chan struct{}
	release chan struct{}
}

type updatingMeeter interface {
	deletingMeeter
	platform.MeetingUpdater
}

func (g updateGate) UpdateMeeting(ctx context.Context, token string, m platform.Meeting, spec platform.MeetingSpec) (platform.Meeting, error) {
	close(g.entered)
	<-g.release
	return g.updatingMeeter.UpdateMeeting(ctx, token, m, spec)
}

// While a change is being sent, another change is told to wait (the first
// would otherwise race it at the platforms), and a cancel goes through:
// the change's late outcome does not bring the cancelled target back.
func TestAChangeInFlightHoldsOffAnotherAndYieldsToACancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, teams.ID)
	g := updateGate{updatingMeeter: e.clients.meeters[teams.ID].(updatingMeeter), entered: make(chan struct{}), release: make(chan struct{})}
	e.clients.meeters = map[platform.ID]platform.Meeter{teams.ID: g}
	e.rebuild()
	m := e.create(e.input("microsoft-teams"))

	ctx := context.Background()
	var changeErr error
	var wg sync.WaitGroup
	wg.Go(func() { _, changeErr = e.svc.Update(ctx, e.tenant, m.ID, meeting.Change{Title: str("First")}) })
	<-g.entered
	_, err := e.svc.Update(ctx, e.tenant, m.ID, meeting.Change{Title: str("Second")})
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.CodeBusy {
		t.Errorf("a second change while the first is sent: %v", err)
	}
	if err := e.svc.Cancel(ctx, e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	wg.Wait()
	if changeErr != nil {
		t.Fatal(changeErr)
	}
	got := e.get(m.ID)
	if tt := target(t, got, teams.ID); got.Status != meeting.StatusCancelled || tt.Status != meeting.TargetCancelled || got.Title != "First" {
		t.Errorf("after both: %s %q %+v", got.Status, got.Title, tt)
	}
	if e.teams.Meetings() != 0 {
		t.Errorf("teams still holds %d meetings", e.teams.Meetings())
	}
}
