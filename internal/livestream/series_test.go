package livestream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

// weekly is a series input: first start at first, an hour long, to the
// platforms given.
func (e *env) weekly(first time.Time, platforms ...string) livestream.CreateInput {
	in := e.input(platforms...)
	in.ScheduledStart, in.ScheduledEnd = first, first.Add(time.Hour)
	return in
}

func (e *env) createSeries(in livestream.CreateInput, rule, zone string) *livestream.Series {
	e.t.Helper()
	sr, err := e.svc.CreateSeries(context.Background(), tenant, "user-1", in, livestream.Recurrence{Rule: rule, TimeZone: zone})
	if err != nil {
		e.t.Fatalf("create series: %v", err)
	}
	return sr
}

// occurrence is the series' occurrence at start, as a livestream, or nil.
func (e *env) occurrence(sr *livestream.Series, start time.Time) *livestream.Livestream {
	ls, err := e.svc.Get(context.Background(), tenant, livestream.OccurrenceID(sr.ID, start))
	if err != nil {
		return nil
	}
	return ls
}

func (e *env) runSeries() {
	e.t.Helper()
	if _, err := e.svc.RunDueSeries(context.Background(), e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// dailyToYouTubeAndFacebook is an env at an hour before first with
// YouTube and Facebook connected and a daily London series from first
// whose occurrences within Facebook's window are all made: the create
// makes the first two, the scheduler's run a minute on the rest.
func dailyToYouTubeAndFacebook(t *testing.T, first time.Time) (*env, *livestream.Series) {
	t.Helper()
	e := newEnv(t)
	e.at(first.Add(-time.Hour))
	e.connect(tenant, youtube.ID, facebook.ID)
	sr := e.createSeries(e.weekly(first, "youtube", "facebook"), "FREQ=DAILY", "Europe/London")
	e.at(first.Add(-time.Hour + time.Minute))
	e.runSeries()
	return e, sr
}

func chicago(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A weekly Sunday 10:00 service in Chicago keeps 10:00 across the change
// to daylight-saving time (14 March 2027), so its UTC start moves an hour.
func TestAWeeklySeriesKeepsItsLocalTimeAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := chicago(t)
	e.at(time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	e.connect(tenant, youtube.ID, restream.ID)
	first := time.Date(2027, 3, 7, 10, 0, 0, 0, loc) // the last Sunday of standard time
	sr := e.createSeries(e.weekly(first, "youtube", "restream"), "FREQ=WEEKLY;BYDAY=SU", "America/Chicago")

	_, occ, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 4)
	if err != nil || len(occ) != 4 {
		t.Fatalf("next occurrences %v %v", occ, err)
	}
	wantUTC := []int{16, 15, 15, 15} // CST is UTC-6, CDT UTC-5
	for i, o := range occ {
		local := o.Start.In(loc)
		if local.Weekday() != time.Sunday || local.Hour() != 10 || local.Minute() != 0 || o.Start.Hour() != wantUTC[i] {
			t.Errorf("occurrence %d at %s (%s UTC), want Sunday 10:00 in Chicago", i, local, o.Start.UTC())
		}
	}
	// Both Sundays within the window are made, at 10:00 local each.
	for _, o := range occ[:2] {
		ls := e.occurrence(sr, o.Start)
		if ls == nil || !o.Created || ls.SeriesID != sr.ID {
			t.Fatalf("the occurrence of %s was not made: %+v", o.Start, o)
		}
		if l := ls.ScheduledStart.In(loc); l.Hour() != 10 || !ls.ScheduledEnd.Equal(ls.ScheduledStart.Add(time.Hour)) {
			t.Errorf("occurrence at %s, ends %s", l, ls.ScheduledEnd)
		}
	}
	// The same YouTube key for both Sundays.
	a := e.ingestOf(livestream.OccurrenceID(sr.ID, occ[0].Start), youtube.ID)
	b := e.ingestOf(livestream.OccurrenceID(sr.ID, occ[1].Start), youtube.ID)
	if a.StreamKey == "" || a.StreamKey != b.StreamKey || !a.Stable {
		t.Fatal("two occurrences have different YouTube keys")
	}
}

// With a Facebook target, an occurrence is made no more than 7 days
// before its start; the scheduler makes each one once however often and
// however many runs go.
func TestFacebookOccurrencesAreMadeWithinSevenDaysAndExactlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := time.Date(2027, 5, 2, 15, 0, 0, 0, time.UTC)
	e.at(start.Add(-20 * 24 * time.Hour))
	e.connect(tenant, youtube.ID, facebook.ID)
	sr := e.createSeries(e.weekly(start, "youtube", "facebook"), "FREQ=WEEKLY;COUNT=3", "UTC")
	if e.occurrence(sr, start) != nil {
		t.Fatal("an occurrence 20 days ahead was made")
	}
	// Every 6 hours for four weeks, three scheduler instances at once.
	for now := e.clock.Now(); now.Before(start.Add(15 * 24 * time.Hour)); now = now.Add(6 * time.Hour) {
		e.at(now)
		var wg sync.WaitGroup
		for range 3 {
			svc := e.instance()
			wg.Go(func() {
				if _, err := svc.RunDueSeries(context.Background(), now); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	for i := range 3 {
		at := start.Add(time.Duration(i) * 7 * 24 * time.Hour)
		ls := e.occurrence(sr, at)
		if ls == nil {
			t.Fatalf("occurrence %d (%s) was not made", i, at)
		}
		if ahead := ls.ScheduledStart.Sub(ls.CreatedAt); ahead > 7*24*time.Hour || ahead < 0 {
			t.Errorf("occurrence %d was made %s before its start; Facebook takes at most 7 days", i, ahead)
		}
		if tg := target(t, ls, facebook.ID); tg.Status != livestream.TargetReady {
			t.Errorf("occurrence %d's Facebook target: %+v %+v", i, tg, tg.LastError)
		}
	}
	if e.occurrence(sr, start.Add(21*24*time.Hour)) != nil {
		t.Fatal("COUNT=3 made a fourth")
	}
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n != 3 {
		t.Fatalf("%d YouTube broadcasts for 3 occurrences: made twice", n)
	}
	if n := e.fb.Videos(); n != 3 {
		t.Fatalf("%d Facebook live videos for 3 occurrences", n)
	}
}

// Skipping one occurrence cancels it everywhere and leaves the others;
// ending the series cancels the future ones and makes no more.
func TestSkippingOneOccurrenceAndEndingTheSeries(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 6, 6, 15, 0, 0, 0, time.UTC)
	e, sr := dailyToYouTubeAndFacebook(t, first)
	day := 24 * time.Hour
	// Made: six days (Facebook's window less a margin).
	for i := range 6 {
		if e.occurrence(sr, first.Add(time.Duration(i)*day)) == nil {
			t.Fatalf("day %d not made", i)
		}
	}
	second := e.occurrence(sr, first.Add(day))
	ytBroadcast, fbVideo := target(t, second, youtube.ID).ExternalID, target(t, second, facebook.ID).ExternalID
	if err := e.svc.SkipOccurrence(context.Background(), tenant, sr.ID, first.Add(day)); err != nil {
		t.Fatal(err)
	}
	if got := e.occurrence(sr, first.Add(day)); got.PublicStatus() != livestream.StatusCancelled {
		t.Fatalf("the skipped occurrence is %s", got.PublicStatus())
	}
	if _, ok := e.yt.Broadcast(ytBroadcast); ok {
		t.Error("the skipped occurrence's YouTube broadcast is still there")
	}
	if _, ok := e.fb.Video(fbVideo); ok {
		t.Error("the skipped occurrence's Facebook live video is still there")
	}
	for _, i := range []int{0, 2, 3} {
		if got := e.occurrence(sr, first.Add(time.Duration(i)*day)); got.PublicStatus() != livestream.StatusScheduled {
			t.Fatalf("day %d is %s after skipping day 1", i, got.PublicStatus())
		}
	}
	// A day not made yet is skipped too: never made.
	if err := e.svc.SkipOccurrence(context.Background(), tenant, sr.ID, first.Add(8*day)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SkipOccurrence(context.Background(), tenant, sr.ID, first.Add(8*day+time.Hour)); code(err) != "occurrence_not_found" {
		t.Fatalf("skipping a time that is no occurrence: %v", err)
	}
	e.at(first.Add(3 * day))
	e.runSeries()
	if e.occurrence(sr, first.Add(8*day)) != nil {
		t.Fatal("the skipped day 8 was made")
	}
	if e.occurrence(sr, first.Add(9*day)) == nil {
		t.Fatal("day 9 was not made")
	}

	// The series ends on day 3 at noon: days 4 to 9 are cancelled, day 3
	// (already started? no: 15:00) too; days 0–2 are left as they are.
	e.at(first.Add(3*day - 3*time.Hour))
	if _, err := e.svc.EndSeries(context.Background(), tenant, sr.ID); err != nil {
		t.Fatal(err)
	}
	for i := 3; i <= 9; i++ {
		if i == 8 {
			continue
		}
		if got := e.occurrence(sr, first.Add(time.Duration(i)*day)); got == nil || got.PublicStatus() != livestream.StatusCancelled {
			t.Fatalf("day %d after the series ended: %+v", i, got)
		}
	}
	if got := e.occurrence(sr, first.Add(2*day)); got.PublicStatus() != livestream.StatusScheduled {
		t.Fatalf("day 2 (past) was changed by the end: %s", got.PublicStatus())
	}
	e.at(first.Add(10 * day))
	e.runSeries()
	if e.occurrence(sr, first.Add(12*day)) != nil {
		t.Fatal("an ended series made an occurrence")
	}
	if _, err := e.svc.EndSeries(context.Background(), tenant, sr.ID); code(err) != "series_ended" {
		t.Fatalf("ending twice: %v", err)
	}
}
