package meeting_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/series"
)

var chicago = func() *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return loc
}()

// weeklyBibleStudy is a Tuesday 19:00 Chicago meeting on Zoom and Teams,
// its first on 2 March 2027; daylight-saving time begins on 14 March.
func weeklyBibleStudy() (meeting.CreateInput, series.Recurrence) {
	first := time.Date(2027, 3, 2, 19, 0, 0, 0, chicago)
	return meeting.CreateInput{Title: "Bible study", StartTime: first.Format(time.RFC3339), DurationMinutes: 60,
			Platforms: []string{string(zoom.ID), string(teams.ID)}},
		series.Recurrence{Rule: "FREQ=WEEKLY;BYDAY=TU", TimeZone: "America/Chicago"}
}

// newSeriesEnv is an env on 1 March 2027 with Zoom and Teams connected.
func newSeriesEnv(t *testing.T) *env {
	e := newEnv(t)
	e.clock.Set(time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	e.connect(e.tenant, zoom.ID)
	e.connect(e.tenant, teams.ID)
	return e
}

func (e *env) createSeries(in meeting.CreateInput, rec series.Recurrence) *meeting.Series {
	e.t.Helper()
	sr, err := e.svc.CreateSeries(context.Background(), e.tenant, e.user, in, rec)
	if err != nil {
		e.t.Fatalf("create series: %v", err)
	}
	return sr
}

// runSeries is one scheduler run at the clock's now.
func (e *env) runSeries(svc *meeting.Service) {
	e.t.Helper()
	if _, err := svc.RunDueSeries(context.Background(), e.clock.Now()); err != nil {
		e.t.Fatalf("run: %v", err)
	}
}

// occurrence is the series' meeting starting at start (wall clock in
// Chicago), which must exist.
func (e *env) occurrence(sr *meeting.Series, start time.Time) *meeting.Meeting {
	e.t.Helper()
	return e.get(meeting.OccurrenceID(sr.ID, start.UTC()))
}

func (e *env) occurrenceExists(sr *meeting.Series, start time.Time) bool {
	_, err := e.svc.Get(context.Background(), e.tenant, meeting.OccurrenceID(sr.ID, start.UTC()))
	return err == nil
}

func zoomMeeting(t *testing.T, e *env, m *meeting.Meeting) zoomfake.Meeting {
	t.Helper()
	id := mustZoomID(t, m)
	zm, ok := e.zoom.Meeting(id)
	if !ok {
		t.Fatalf("zoom has no meeting %d", id)
	}
	return zm
}

func tuesday(day int) time.Time { return time.Date(2027, 3, day, 19, 0, 0, 0, chicago) }

func TestAWeeklyMeetingSeriesKeepsItsLocalTimeAcrossTheDSTChangeAndIsMadeAtMost14DaysAhead(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())

	for week := range 4 {
		if week > 0 {
			e.clock.Advance(7 * 24 * time.Hour)
			e.runSeries(e.svc)
		}
		// Nothing is made more than 14 days ahead of its start.
		for day := 2; day <= 30; day += 7 {
			if made := e.occurrenceExists(sr, tuesday(day)); made != !tuesday(day).After(e.clock.Now().Add(series.DefaultAhead)) {
				t.Fatalf("week %d (now %s): the occurrence of %d March made=%v", week, e.clock.Now().Format(time.RFC3339), day, made)
			}
		}
	}
	for _, day := range []int{2, 9, 16, 23} {
		m := e.occurrence(sr, tuesday(day))
		if local := m.Start.In(chicago); local.Hour() != 19 || local.Minute() != 0 || m.SeriesID != sr.ID || m.DurationMinutes() != 60 {
			t.Errorf("%d March: starts %s Chicago (series %q, %d min), want 19:00", day, local.Format(time.RFC3339), m.SeriesID, m.DurationMinutes())
		}
		if m.TimeZone != "America/Chicago" {
			t.Errorf("%d March: time zone %q, want the recurrence's", day, m.TimeZone)
		}
		if zm := zoomMeeting(t, e, m); zm.Topic != "Bible study" || zm.Duration != 60 {
			t.Errorf("%d March at Zoom: %+v", day, zm)
		}
		if tm, ok := e.teams.Meeting(target(t, m, teams.ID).ExternalID); !ok || tm.Subject != "Bible study" {
			t.Errorf("%d March at Teams: %+v %v", day, tm, ok)
		}
	}
	// Before the change 19:00 CST is 01:00 UTC; after it 19:00 CDT is 00:00 UTC.
	if h9, h16 := e.occurrence(sr, tuesday(9)).Start.Hour(), e.occurrence(sr, tuesday(16)).Start.Hour(); h9 != 1 || h16 != 0 {
		t.Errorf("UTC hours %d and %d, want 1 then 0", h9, h16)
	}
	_, occ, err := e.svc.GetSeries(context.Background(), e.tenant, sr.ID, 3)
	// Now is Monday 22 March: the 23rd and the 30th are made, 6 April not yet.
	if err != nil || len(occ) != 3 || !occ[0].Start.Equal(tuesday(23).UTC()) || !occ[1].Created || occ[2].Created {
		t.Fatalf("next occurrences: %+v %v", occ, err)
	}
}

func TestSkippingAMeetingOccurrenceCancelsItAtEveryPlatformAndLeavesTheOthers(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())
	first, second := e.occurrence(sr, tuesday(2)), e.occurrence(sr, tuesday(9))

	if err := e.svc.SkipOccurrence(context.Background(), e.tenant, sr.ID, tuesday(9)); err != nil {
		t.Fatal(err)
	}
	if zm := zoomMeeting(t, e, second); zm.Status != zoomfake.StatusDeleted {
		t.Errorf("the skipped occurrence at Zoom: %s", zm.Status)
	}
	if _, ok := e.teams.Meeting(target(t, second, teams.ID).ExternalID); ok {
		t.Error("the skipped occurrence is still at Teams")
	}
	if got := e.get(second.ID); got.Status != meeting.StatusCancelled {
		t.Errorf("the skipped occurrence is %s", got.Status)
	}
	if zm := zoomMeeting(t, e, first); zm.Status == zoomfake.StatusDeleted {
		t.Error("the other occurrence was cancelled at Zoom")
	}
	if _, ok := e.teams.Meeting(target(t, first, teams.ID).ExternalID); !ok {
		t.Error("the other occurrence is gone from Teams")
	}
	// Skipping a start the rule does not have is a 404 that changes nothing.
	err := e.svc.SkipOccurrence(context.Background(), e.tenant, sr.ID, tuesday(10))
	if ae, ok := apperr.As(err); !ok || ae.Code != apperr.CodeOccurrenceNotFound {
		t.Errorf("skip a Wednesday: %v", err)
	}
	// Later runs do not make it again.
	creates := e.zoom.Calls(zoomfake.OpCreateMeeting)
	e.clock.Advance(time.Hour)
	e.runSeries(e.svc)
	if got := e.get(second.ID); got.Status != meeting.StatusCancelled || e.zoom.Calls(zoomfake.OpCreateMeeting) != creates {
		t.Errorf("after a run the skipped occurrence is %s, zoom creates %d → %d", got.Status, creates, e.zoom.Calls(zoomfake.OpCreateMeeting))
	}
}

func TestEndingAMeetingSeriesCancelsTheFutureOccurrencesEverywhereAndMakesNoMore(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())
	first, second := e.occurrence(sr, tuesday(2)), e.occurrence(sr, tuesday(9))
	e.clock.Set(tuesday(2).Add(30 * time.Minute)) // the first is under way

	if _, err := e.svc.EndSeries(context.Background(), e.tenant, sr.ID); err != nil {
		t.Fatal(err)
	}
	if zm := zoomMeeting(t, e, second); zm.Status != zoomfake.StatusDeleted {
		t.Errorf("the future occurrence at Zoom: %s", zm.Status)
	}
	if _, ok := e.teams.Meeting(target(t, second, teams.ID).ExternalID); ok {
		t.Error("the future occurrence is still at Teams")
	}
	if zm := zoomMeeting(t, e, first); zm.Status == zoomfake.StatusDeleted {
		t.Error("the occurrence under way was cancelled")
	}
	creates := e.zoom.Calls(zoomfake.OpCreateMeeting)
	e.clock.Advance(10 * 24 * time.Hour)
	e.runSeries(e.svc)
	if e.zoom.Calls(zoomfake.OpCreateMeeting) != creates || e.occurrenceExists(sr, tuesday(16)) {
		t.Error("an ended series made an occurrence")
	}
	got, occ, err := e.svc.GetSeries(context.Background(), e.tenant, sr.ID, 5)
	if err != nil || got.Status != series.Ended || len(occ) != 0 {
		t.Errorf("ended series: %+v %v %v", got, occ, err)
	}
	if _, err := e.svc.EndSeries(context.Background(), e.tenant, sr.ID); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ending it again: %v", err)
	}
}

func TestConcurrentSchedulerRunsMakeEachMeetingOccurrenceOnce(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	in, rec := weeklyBibleStudy()
	// Made only by the runs: the series is created 20 days before its first.
	e.clock.Set(tuesday(2).Add(-20 * 24 * time.Hour))
	sr := e.createSeries(in, rec)
	if e.zoom.Calls(zoomfake.OpCreateMeeting) != 0 {
		t.Fatal("an occurrence 20 days ahead was made at once")
	}
	runners := []*meeting.Service{e.svc, meeting.New(e.cfg), meeting.New(e.cfg)}
	for range 4 * 7 {
		e.clock.Advance(24 * time.Hour)
		var wg sync.WaitGroup
		for _, svc := range runners {
			wg.Go(func() { e.runSeries(svc) })
		}
		wg.Wait()
	}
	made := 0
	for day := 2; day <= 30; day += 7 {
		if e.occurrenceExists(sr, tuesday(day)) {
			made++
		}
	}
	if made < 4 {
		t.Fatalf("%d occurrences made over four weeks", made)
	}
	if z, tm := e.zoom.Calls(zoomfake.OpCreateMeeting), e.teams.Meetings(); z != made || tm != made {
		t.Errorf("%d occurrences: %d Zoom creates, %d Teams meetings", made, z, tm)
	}
}

func TestChangingAMeetingSeriesFromADateLeavesEarlierOccurrencesAndRemakesLaterOnes(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())
	first, second := e.occurrence(sr, tuesday(2)), e.occurrence(sr, tuesday(9))
	title, start := "Bible study (new room)", tuesday(9).Add(30*time.Minute).Format(time.RFC3339)

	if _, err := e.svc.ChangeSeries(context.Background(), e.tenant, sr.ID, meeting.SeriesChange{
		From: tuesday(9), Title: &title, StartTime: &start}); err != nil {
		t.Fatal(err)
	}
	if m := e.get(first.ID); m.Title != "Bible study" || m.Status != meeting.StatusScheduled {
		t.Errorf("the earlier occurrence: %q %s", m.Title, m.Status)
	}
	if zm := zoomMeeting(t, e, second); zm.Status != zoomfake.StatusDeleted {
		t.Errorf("the replaced occurrence at Zoom: %s", zm.Status)
	}
	_, occ, err := e.svc.GetSeries(context.Background(), e.tenant, sr.ID, 3)
	if err != nil || len(occ) != 3 {
		t.Fatalf("next occurrences: %+v %v", occ, err)
	}
	remade := e.get(occ[1].ID)
	if local := remade.Start.In(chicago); remade.Title != title || local.Hour() != 19 || local.Minute() != 30 || local.Day() != 9 {
		t.Errorf("the changed occurrence: %q at %s", remade.Title, local)
	}
	if zm := zoomMeeting(t, e, remade); zm.Topic != title {
		t.Errorf("at Zoom: %q", zm.Topic)
	}
}

func TestABadMeetingSeriesIsAProblemAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	good, rec := weeklyBibleStudy()
	withRule := func(rule, zone string) series.Recurrence { return series.Recurrence{Rule: rule, TimeZone: zone} }
	cases := []struct {
		name string
		in   meeting.CreateInput
		rec  series.Recurrence
		kind apperr.Kind
		code apperr.Code
	}{
		{"a yearly rule", good, withRule("FREQ=YEARLY", "America/Chicago"), apperr.Invalid, apperr.CodeInvalidRecurrence},
		{"an unsupported rule part", good, withRule("FREQ=WEEKLY;BYSETPOS=1", "America/Chicago"), apperr.Invalid, apperr.CodeInvalidRecurrence},
		{"no rule", good, withRule("", "America/Chicago"), apperr.Invalid, apperr.CodeInvalidRecurrence},
		{"an unknown zone", good, withRule(rec.Rule, "Mars/Olympus"), apperr.Invalid, apperr.CodeInvalidRecurrence},
		{"no title", func() meeting.CreateInput { in := good; in.Title = " "; return in }(), rec, apperr.Invalid, apperr.CodeInvalidMeeting},
		{"a platform not connected", func() meeting.CreateInput {
			in := good
			in.Platforms = []string{string(zoom.ID), "google-meet"}
			return in
		}(), rec, apperr.Conflict, apperr.CodeTargetNotConnected},
	}
	for _, c := range cases {
		_, err := e.svc.CreateSeries(context.Background(), e.tenant, e.user, c.in, c.rec)
		if ae, ok := apperr.As(err); !ok || ae.Kind != c.kind || ae.Code != c.code {
			t.Errorf("%s: %v, want %s %s", c.name, err, c.kind, c.code)
		}
	}
	if raw := e.rawTable(); strings.Contains(raw, "MEET") || e.zoom.Calls(zoomfake.OpCreateMeeting) != 0 {
		t.Errorf("a refused series left something: zoom creates %d", e.zoom.Calls(zoomfake.OpCreateMeeting))
	}
}

func TestAnOccurrenceThatCannotBeMadeIsRecordedOnTheSeriesAndMadeOnceTheCauseIsGone(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	in, rec := weeklyBibleStudy()
	e.clock.Set(tuesday(2).Add(-20 * 24 * time.Hour))
	sr := e.createSeries(in, rec)
	if _, err := e.conns.Disconnect(context.Background(), e.tenant, string(teams.ID)); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(tuesday(2).Add(-10 * 24 * time.Hour))
	e.runSeries(e.svc)
	got, _, err := e.svc.GetSeries(context.Background(), e.tenant, sr.ID, 1)
	if err != nil || got.Failure == nil || !got.Failure.Start.Equal(tuesday(2).UTC()) || got.Failure.Code != string(apperr.CodeTargetNotConnected) ||
		!strings.Contains(got.Failure.Message, "Teams") || e.occurrenceExists(sr, tuesday(2)) {
		t.Fatalf("after a run with Teams disconnected: %+v %v", got.Failure, err)
	}
	// Reconnected, the next run (15 minutes on) makes it and clears the failure.
	e.connect(e.tenant, teams.ID)
	e.clock.Advance(16 * time.Minute)
	e.runSeries(e.svc)
	got, _, err = e.svc.GetSeries(context.Background(), e.tenant, sr.ID, 1)
	if err != nil || got.Failure != nil || !e.occurrenceExists(sr, tuesday(2)) {
		t.Fatalf("after reconnecting: %+v %v", got.Failure, err)
	}
}

// A change that leaves every start where it was and the platforms as they
// were is made to the occurrences already made where they are: the same
// meetings at Zoom and Teams, so the same join links, told the new title
// and length.
func TestATitleAndLengthChangeKeepsEachOccurrencesMeetingsAndLinks(t *testing.T) {
	t.Parallel()
	e := newSeriesEnv(t)
	sr := e.createSeries(weeklyBibleStudy())
	first, second := e.occurrence(sr, tuesday(2)), e.occurrence(sr, tuesday(9))
	title, minutes := "Bible study: Romans", 90

	got, err := e.svc.ChangeSeries(context.Background(), e.tenant, sr.ID, meeting.SeriesChange{
		From: tuesday(9), Title: &title, DurationMinutes: &minutes})
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 0 || len(got.Withdraw) != 0 {
		t.Fatalf("revision %d, withdrawing %v", got.Revision, got.Withdraw)
	}
	after := e.occurrence(sr, tuesday(9))
	if after.ID != second.ID || after.Title != title || after.DurationMinutes() != 90 || after.Status != meeting.StatusScheduled {
		t.Fatalf("the changed occurrence: %+v", after)
	}
	for _, p := range []platform.ID{zoom.ID, teams.ID} {
		if a, b := target(t, after, p), target(t, second, p); a.ExternalID != b.ExternalID || a.JoinURL != b.JoinURL {
			t.Errorf("%s: the meeting or its join link changed (%s %s → %s %s)", p, b.ExternalID, b.JoinURL, a.ExternalID, a.JoinURL)
		}
	}
	if zm := zoomMeeting(t, e, after); zm.Topic != title || zm.Duration != 90 || zm.Status == zoomfake.StatusDeleted {
		t.Errorf("at Zoom: %+v", zm)
	}
	if tm, ok := e.teams.Meeting(target(t, after, teams.ID).ExternalID); !ok || tm.Subject != title {
		t.Errorf("at Teams: %+v %v", tm, ok)
	}
	if m := e.get(first.ID); m.Title != "Bible study" || m.DurationMinutes() != 60 {
		t.Errorf("the earlier occurrence changed: %q %d", m.Title, m.DurationMinutes())
	}
	if e.zoom.Calls(zoomfake.OpCreateMeeting) != 2 {
		t.Errorf("%d Zoom creates; an in-place change makes none", e.zoom.Calls(zoomfake.OpCreateMeeting))
	}
}
