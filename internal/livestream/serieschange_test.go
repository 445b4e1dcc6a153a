package livestream_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

func ptr[T any](v T) *T { return &v }

// occurrencesAt are the occurrences (as livestreams) of the series starting
// at start, whatever definition made them, and how many are scheduled.
func (e *env) scheduledAt(sr *livestream.Series, start time.Time) (scheduled []*livestream.Livestream) {
	e.t.Helper()
	list, _, err := e.svc.List(context.Background(), tenant, "", "", 200)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ls := range list {
		if ls.SeriesID == sr.ID && ls.ScheduledStart.Equal(start) && ls.PublicStatus() == livestream.StatusScheduled {
			scheduled = append(scheduled, ls)
		}
	}
	return scheduled
}

// A change of title from a date leaves the occurrences before it as they
// were and remakes, at every platform, those from it on already made.
func TestChangingASeriesFromADateLeavesEarlierOccurrences(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 6, 6, 15, 0, 0, 0, time.UTC)
	e, sr := dailyToYouTubeAndFacebook(t, first)
	day := 24 * time.Hour
	old := e.occurrence(sr, first.Add(3*day))
	if old == nil {
		t.Fatal("day 3 was not made")
	}
	ytOld, fbOld := target(t, old, youtube.ID).ExternalID, target(t, old, facebook.ID).ExternalID

	// New targets (YouTube alone) cannot be applied in place: the
	// occurrences from day 3 on are remade.
	got, err := e.svc.ChangeSeries(context.Background(), tenant, sr.ID, livestream.SeriesChange{
		From: first.Add(3*day - 12*time.Hour), Title: ptr("Evening prayer"), Description: ptr("From Wednesday on"),
		Targets: e.weekly(first, "youtube").Targets,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 1 || len(got.Earlier) != 1 {
		t.Fatalf("revision %d, %d earlier definitions", got.Revision, len(got.Earlier))
	}
	for i := range 3 {
		ls := e.occurrence(sr, first.Add(time.Duration(i)*day))
		if ls.Title != e.weekly(first).Title || ls.PublicStatus() != livestream.StatusScheduled {
			t.Fatalf("day %d before the change: %q %s", i, ls.Title, ls.PublicStatus())
		}
	}
	if e.occurrence(sr, first.Add(3*day)).PublicStatus() != livestream.StatusCancelled {
		t.Fatal("day 3's occurrence from the old definition is not cancelled")
	}
	// The change remade two; the scheduler, a minute on, the rest.
	e.at(first.Add(-time.Hour + 2*time.Minute))
	e.runSeries()
	if _, ok := e.yt.Broadcast(ytOld); ok {
		t.Error("day 3's old YouTube broadcast is still there")
	}
	if _, ok := e.fb.Video(fbOld); ok {
		t.Error("day 3's old Facebook live video is still there")
	}
	for i := 3; i < 6; i++ {
		at := first.Add(time.Duration(i) * day)
		now := e.scheduledAt(sr, at)
		if len(now) != 1 || now[0].Title != "Evening prayer" || now[0].Description != "From Wednesday on" || !now[0].ScheduledEnd.Equal(at.Add(time.Hour)) {
			t.Fatalf("day %d after the change: %+v", i, now)
		}
		if tg := target(t, now[0], youtube.ID); tg.Status != livestream.TargetReady {
			t.Errorf("day %d's YouTube target: %+v", i, tg)
		}
	}
	// Later runs make the rest from the new definition; GET shows it.
	e.at(first.Add(5 * day))
	e.runSeries()
	if now := e.scheduledAt(sr, first.Add(9*day)); len(now) != 1 || now[0].Title != "Evening prayer" {
		t.Fatalf("day 9: %+v", now)
	}
	e.at(first.Add(5*day - time.Hour))
	_, occ, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 3)
	if err != nil || len(occ) != 3 || !occ[0].Start.Equal(first.Add(5*day)) || !occ[0].Created {
		t.Fatalf("next occurrences %+v %v", occ, err)
	}
}

// A change that leaves every start where it was and the targets as they
// were (a new title, description or length) is made to the occurrences
// already made where they are: the same livestreams, the same YouTube
// broadcasts and Facebook videos (and so the same keys), told the new
// details; nothing is cancelled.
func TestATitleChangeFromADateChangesTheMadeOccurrencesWhereTheyAre(t *testing.T) {
	t.Parallel()
	first := time.Date(2027, 6, 6, 15, 0, 0, 0, time.UTC)
	e, sr := dailyToYouTubeAndFacebook(t, first)
	day := 24 * time.Hour
	before := map[int]*livestream.Livestream{}
	for i := range 6 {
		if before[i] = e.occurrence(sr, first.Add(time.Duration(i)*day)); before[i] == nil {
			t.Fatalf("day %d was not made", i)
		}
	}
	// Day 4 was moved on its own, half an hour later: it keeps its time.
	moved := first.Add(4*day + 30*time.Minute)
	if _, err := e.svc.Update(context.Background(), tenant, before[4].ID, livestream.UpdateInput{
		ScheduledStart: &moved, ScheduledEnd: ptr(moved.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	inserts, videos := e.yt.Calls(youtubefake.OpBroadcastInsert), e.fb.Videos()

	got, err := e.svc.ChangeSeries(context.Background(), tenant, sr.ID, livestream.SeriesChange{
		From: first.Add(3*day - 12*time.Hour), Title: ptr("Evening prayer"), Description: ptr("From Wednesday on"),
		ScheduledStart: ptr(first.Add(3 * day)), ScheduledEnd: ptr(first.Add(3*day + 90*time.Minute)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 0 || len(got.Earlier) != 1 || len(got.Withdraw) != 0 {
		t.Fatalf("revision %d, %d earlier definitions, withdrawing %v", got.Revision, len(got.Earlier), got.Withdraw)
	}
	for i := range 6 {
		ls := e.occurrence(sr, first.Add(time.Duration(i)*day))
		yt, fb := target(t, ls, youtube.ID), target(t, ls, facebook.ID)
		if yt.ExternalID != target(t, before[i], youtube.ID).ExternalID || fb.ExternalID != target(t, before[i], facebook.ID).ExternalID ||
			ls.PublicStatus() != livestream.StatusScheduled {
			t.Fatalf("day %d is not the same livestream at the platforms: %+v", i, ls)
		}
		b, _ := e.yt.Broadcast(yt.ExternalID)
		v, _ := e.fb.Video(fb.ExternalID)
		title, length := e.weekly(first).Title, time.Hour
		if i >= 3 {
			title, length = "Evening prayer", 90*time.Minute
		}
		if ls.Title != title || b.Title != title || v.Title != title || !ls.ScheduledEnd.Equal(ls.ScheduledStart.Add(length)) {
			t.Errorf("day %d: %q, at YouTube %q, at Facebook %q, ends %s; want %q for %s", i, ls.Title, b.Title, v.Title, ls.ScheduledEnd, title, length)
		}
	}
	if e.yt.Calls(youtubefake.OpBroadcastInsert) != inserts || e.fb.Videos() != videos {
		t.Error("an in-place change made new broadcasts or videos")
	}
	if ls := e.occurrence(sr, first.Add(4*day)); !ls.ScheduledStart.Equal(moved) {
		t.Errorf("day 4, moved on its own, now starts %s", ls.ScheduledStart)
	}
	// GET /series names day 4 by the rule's start and shows its own times.
	_, occ, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 6)
	if err != nil || len(occ) != 6 || !occ[4].Start.Equal(first.Add(4*day)) || !occ[4].Made.Start.Equal(moved) ||
		!occ[4].Made.End.Equal(moved.Add(90*time.Minute)) || !occ[5].Made.Start.Equal(occ[5].Start) {
		t.Errorf("next occurrences: %+v %v", occ, err)
	}
	// Later runs make the rest from the new definition, with the same ids.
	e.at(first.Add(5 * day))
	e.runSeries()
	if now := e.scheduledAt(sr, first.Add(9*day)); len(now) != 1 || now[0].Title != "Evening prayer" || now[0].ID != livestream.OccurrenceID(sr.ID, first.Add(9*day)) {
		t.Fatalf("day 9: %+v", now)
	}
}

// Sunday 10:00 in Chicago becomes 11:00 from the day daylight-saving time
// begins (14 March 2027): the Sunday before keeps 10:00 CST (16:00 UTC),
// the later ones are 11:00 CDT (16:00 UTC), and the 10:00 CDT occurrence
// already made for the 14th is cancelled.
func TestATimeChangeFromADateIsInLocalTimeAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := chicago(t)
	e.at(time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	e.connect(tenant, youtube.ID, restream.ID)
	first := time.Date(2027, 3, 7, 10, 0, 0, 0, loc)
	sr := e.createSeries(e.weekly(first, "youtube", "restream"), "FREQ=WEEKLY;BYDAY=SU", "America/Chicago")
	oldFourteenth := time.Date(2027, 3, 14, 10, 0, 0, 0, loc)
	if e.occurrence(sr, oldFourteenth) == nil {
		t.Fatal("the 14th was not made")
	}
	eleven := time.Date(2027, 3, 14, 11, 0, 0, 0, loc)
	if _, err := e.svc.ChangeSeries(context.Background(), tenant, sr.ID, livestream.SeriesChange{
		From: time.Date(2027, 3, 14, 0, 0, 0, 0, loc), ScheduledStart: &eleven, ScheduledEnd: ptr(eleven.Add(90 * time.Minute)),
	}); err != nil {
		t.Fatal(err)
	}
	if ls := e.occurrence(sr, first); ls.PublicStatus() != livestream.StatusScheduled || ls.ScheduledStart.UTC().Hour() != 16 || !ls.ScheduledEnd.Equal(first.Add(time.Hour)) {
		t.Fatalf("the 7th changed: %s %s", ls.PublicStatus(), ls.ScheduledStart)
	}
	if e.occurrence(sr, oldFourteenth).PublicStatus() != livestream.StatusCancelled {
		t.Fatal("the 14th at 10:00 is not cancelled")
	}
	if got := e.scheduledAt(sr, oldFourteenth); len(got) != 0 {
		t.Fatalf("something is still scheduled at 10:00 on the 14th: %d", len(got))
	}
	_, occ, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 4)
	if err != nil || len(occ) != 4 {
		t.Fatalf("%+v %v", occ, err)
	}
	for i, o := range occ {
		local, want := o.Start.In(loc), 11
		if i == 0 {
			want = 10
		}
		if local.Weekday() != time.Sunday || local.Hour() != want || o.Start.UTC().Hour() != 16 {
			t.Errorf("occurrence %d at %s (%s UTC), want Sunday %d:00", i, local, o.Start.UTC(), want)
		}
		if i > 0 && o.End.Sub(o.Start) != 90*time.Minute {
			t.Errorf("occurrence %d lasts %s", i, o.End.Sub(o.Start))
		}
	}
	if got := e.scheduledAt(sr, eleven); len(got) != 1 || !occ[1].Created || got[0].ID != occ[1].ID {
		t.Fatalf("the 14th at 11:00: %d made, %+v", len(got), occ[1])
	}
}

// Bad input is a problem naming what is wrong, and changes nothing.
func TestABadSeriesChangeChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := time.Date(2027, 6, 6, 15, 0, 0, 0, time.UTC)
	e.at(first.Add(-time.Hour))
	e.connect(tenant, youtube.ID)
	sr := e.createSeries(e.weekly(first, "youtube"), "FREQ=WEEKLY", "UTC")
	inserts := e.yt.Calls(youtubefake.OpBroadcastInsert)
	from := first.Add(24 * time.Hour)
	for _, tc := range []struct {
		name string
		ch   livestream.SeriesChange
		code string
	}{
		{"nothing to change", livestream.SeriesChange{From: from}, "invalid_body"},
		{"no from", livestream.SeriesChange{Title: ptr("x")}, "invalid_recurrence"},
		{"from in the past", livestream.SeriesChange{From: first.Add(-2 * time.Hour), Title: ptr("x")}, "invalid_recurrence"},
		{"a rule outside the subset", livestream.SeriesChange{From: from, Recurrence: &livestream.Recurrence{Rule: "FREQ=HOURLY", TimeZone: "UTC"}}, "invalid_recurrence"},
		{"no zone", livestream.SeriesChange{From: from, Recurrence: &livestream.Recurrence{Rule: "FREQ=DAILY", TimeZone: "Mars/Olympus"}}, "invalid_recurrence"},
		{"an empty title", livestream.SeriesChange{From: from, Title: ptr(" ")}, "invalid_title"},
		{"a start before from", livestream.SeriesChange{From: from, ScheduledStart: ptr(from.Add(-time.Minute))}, "invalid_schedule"},
		{"an end before the start", livestream.SeriesChange{From: from, ScheduledStart: ptr(from.Add(time.Hour)), ScheduledEnd: ptr(from)}, "invalid_schedule"},
		{"an end without a start", livestream.SeriesChange{From: from, ScheduledEnd: ptr(from)}, "invalid_schedule"},
		{"an unconnected platform", livestream.SeriesChange{From: from, Targets: []livestream.TargetInput{{Platform: "facebook"}}}, "target_not_connected"},
	} {
		if _, err := e.svc.ChangeSeries(context.Background(), tenant, sr.ID, tc.ch); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if _, err := e.svc.ChangeSeries(context.Background(), tenant, "01JXXXXXXXXXXXXXXXXXXXXXXX", livestream.SeriesChange{From: from, Title: ptr("x")}); code(err) != "series_not_found" {
		t.Errorf("another series: %v", err)
	}
	after, _, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 1)
	if err != nil || after.Version != sr.Version || after.Revision != 0 || len(after.Earlier) != 0 || len(after.Withdraw) != 0 {
		t.Fatalf("the series changed: %+v %v", after, err)
	}
	if e.occurrence(sr, first).PublicStatus() != livestream.StatusScheduled || e.yt.Calls(youtubefake.OpBroadcastInsert) != inserts {
		t.Fatal("an occurrence changed")
	}
}

// Changes and scheduler runs at once, on three instances: each start has
// exactly one scheduled occurrence, from the definition in force then.
func TestConcurrentChangesAndRunsMakeEachOccurrenceOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := time.Date(2027, 6, 6, 15, 0, 0, 0, time.UTC)
	e.at(first.Add(-time.Hour))
	e.connect(tenant, youtube.ID, facebook.ID)
	sr := e.createSeries(e.weekly(first, "youtube", "facebook"), "FREQ=DAILY", "UTC")
	day := 24 * time.Hour
	titles := []string{"A", "B", "C"}
	for step := range 6 {
		now := first.Add(time.Duration(step)*day + time.Hour)
		e.at(now)
		var wg sync.WaitGroup
		var changed atomic.Int32
		for i := range 3 {
			svc := e.instance()
			wg.Go(func() {
				if _, err := svc.RunDueSeries(context.Background(), now); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				// A change may lose its race to another (a conflict); not every one may.
				// The first only retitles (applied in place); the others also
				// list the targets in another order (cancelled and remade), so
				// both ways race the runs and each other.
				ch := livestream.SeriesChange{From: now.Add(time.Duration(i+1) * day), Title: ptr(titles[i])}
				if i > 0 {
					ch.Targets = e.weekly(first, "facebook", "youtube").Targets
				}
				if _, err := svc.ChangeSeries(context.Background(), tenant, sr.ID, ch); err == nil {
					changed.Add(1)
				}
			})
		}
		wg.Wait()
		if changed.Load() == 0 {
			t.Fatalf("%s: no change of the three succeeded, so no change raced the runs", now)
		}
	}
	// Settle: withdrawals that lost a race are done by the next runs.
	end := first.Add(6*day + 2*time.Hour)
	e.at(end)
	e.runSeries()
	e.at(end.Add(30 * time.Minute))
	e.runSeries()
	final, _, err := e.svc.GetSeries(context.Background(), tenant, sr.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Withdraw) != 0 {
		t.Fatalf("still to withdraw: %v", final.Withdraw)
	}
	for i := 7; i < 12; i++ {
		at := first.Add(time.Duration(i) * day)
		got := e.scheduledAt(sr, at)
		if len(got) != 1 {
			for _, g := range got {
				t.Logf("%s %q created %s", g.ID, g.Title, g.CreatedAt)
			}
			t.Fatalf("day %d has %d scheduled occurrences\n%+v", i, len(got), final)
		}
		if fb := target(t, got[0], facebook.ID); fb.Status != livestream.TargetReady {
			t.Errorf("day %d's Facebook target %+v", i, fb)
		}
	}
	if live := e.fb.Videos(); live < 5 {
		t.Fatalf("%d Facebook live videos", live)
	}
	// The remakes happened: more broadcasts were made than days.
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n <= 12 {
		t.Fatalf("%d YouTube broadcasts for 12 days: no change was remade", n)
	}
}
