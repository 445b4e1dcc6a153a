package livestream_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

func code(err error) string {
	if e, ok := apperr.As(err); ok {
		return string(e.Code)
	}
	return ""
}

func TestStartAndEndOnRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, instagram.ID)
	ls := e.create(e.input("youtube", "instagram"))
	ctx := context.Background()
	if _, err := e.svc.End(ctx, tenant, ls.ID); code(err) != "livestream_not_live" {
		t.Fatalf("ending a scheduled livestream: %v", err)
	}
	e.yt.PushAll()
	got, err := e.svc.Start(ctx, tenant, ls.ID)
	if err != nil || got.PublicStatus() != livestream.StatusLive {
		t.Fatalf("start: %v %+v", err, got)
	}
	if ig := target(t, got, instagram.ID); ig.Status != livestream.TargetLive {
		t.Fatalf("Instagram target %+v", ig) // no call: its part is done
	}
	if _, err := e.svc.Start(ctx, tenant, ls.ID); code(err) != "livestream_not_scheduled" {
		t.Fatalf("starting twice: %v", err)
	}
	// The scheduled start finds nothing left to do.
	e.at(ls.ScheduledStart)
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("%+v", rep)
	}
	if got, err = e.svc.End(ctx, tenant, ls.ID); err != nil || got.PublicStatus() != livestream.StatusEnded {
		t.Fatalf("end: %v %+v", err, got)
	}
	if n := e.goLives()[youtube.ID]; n != 1 {
		t.Fatalf("%d go-live calls", n)
	}
	e.at(ls.ScheduledEnd)
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("an ended livestream is due at its scheduled end: %+v", rep)
	}
}

func TestCancelCancelsAtEveryPlatformAndItNeverStarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID)
	ls := e.create(e.input("youtube", "facebook", "restream"))
	ctx := context.Background()
	if err := e.svc.Cancel(ctx, tenant, ls.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusCancelled {
		t.Fatalf("status %s", got.PublicStatus())
	}
	for _, tg := range got.Targets {
		if tg.Status != livestream.TargetCancelled {
			t.Errorf("%s is %s", tg.Platform, tg.Status)
		}
	}
	// The broadcast is gone; the channel's kept stream stays for the next.
	if b, s := e.yt.Counts(); b != 0 || s != 1 {
		t.Errorf("YouTube still has %d broadcasts and %d streams, want 0 and the kept one", b, s)
	}
	if n := e.fb.Videos(); n != 0 {
		t.Errorf("Facebook still has %d live videos", n)
	}
	if err := e.svc.Cancel(ctx, tenant, ls.ID); code(err) != "livestream_over" {
		t.Fatalf("cancelling twice: %v", err)
	}
	if _, err := e.svc.Start(ctx, tenant, ls.ID); code(err) != "livestream_not_scheduled" {
		t.Fatalf("starting a cancelled livestream: %v", err)
	}
	e.at(ls.ScheduledStart)
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("a cancelled livestream is due: %+v", rep)
	}
	if n := e.goLives(); n[youtube.ID]+n[facebook.ID] != 0 {
		t.Fatalf("a cancelled livestream went live: %v", n)
	}
}

func TestCancellingALiveLivestreamEndsItsLiveTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, restream.ID)
	ls := e.create(e.input("youtube", "restream"))
	e.yt.PushAll()
	e.at(ls.ScheduledStart)
	e.run()
	if err := e.svc.Cancel(context.Background(), tenant, ls.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusCancelled || got.Targets[0].Status != livestream.TargetEnded {
		t.Fatalf("%s %+v", got.PublicStatus(), got.Targets)
	}
	if b, _ := e.yt.Broadcast(got.Targets[0].ExternalID); b.LifeCycleStatus != "complete" {
		t.Fatalf("YouTube broadcast %s", b.LifeCycleStatus)
	}
}

func TestAFailedCancellationIsRecordedAndRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	ls := e.create(e.input("youtube"))
	e.yt.FailNext(youtubefake.OpBroadcastDelete, 503, "backendError", 3) // the client tries 3 times
	if err := e.svc.Cancel(context.Background(), tenant, ls.ID); err != nil {
		t.Fatal(err)
	}
	yt := e.get(ls.ID).Targets[0]
	if yt.Status != livestream.TargetFailed || yt.Step != livestream.StepCancel || yt.NextAttemptAt.IsZero() {
		t.Fatalf("after a failed cancellation %+v", yt)
	}
	e.at(yt.NextAttemptAt)
	e.run()
	if yt = e.get(ls.ID).Targets[0]; yt.Status != livestream.TargetCancelled {
		t.Fatalf("after the retry %+v", yt)
	}
	if b, _ := e.yt.Counts(); b != 0 {
		t.Fatal("the YouTube broadcast is still there")
	}
}

func TestTheEndOfALivestreamThatNeverWentLiveCleansUpAndLeavesItFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	ls := e.create(e.input("youtube"))
	e.at(ls.ScheduledStart)
	e.run() // no encoder: going live fails, and is retried
	e.at(ls.ScheduledEnd)
	for range 3 {
		e.run()
	}
	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusFailed || got.EndedAt.IsZero() || got.Targets[0].Status != livestream.TargetFailed ||
		!got.Targets[0].NextAttemptAt.IsZero() {
		t.Fatalf("%s %+v", got.PublicStatus(), got.Targets[0])
	}
	if b, _ := e.yt.Counts(); b != 0 {
		t.Fatal("the YouTube broadcast that never went live was left behind")
	}
	e.clock.Advance(time.Hour)
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("still due: %+v", rep)
	}
}

func TestUpdateChangesAScheduledLivestreamOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, restream.ID)
	ls := e.create(e.input("restream"))
	ctx := context.Background()
	title := "Easter service"
	later := ls.ScheduledStart.Add(2 * time.Hour)
	noEnd := time.Time{}
	got, err := e.svc.Update(ctx, tenant, ls.ID, livestream.UpdateInput{Title: &title, ScheduledStart: &later, ScheduledEnd: &noEnd})
	if err != nil || got.Title != title || !got.ScheduledStart.Equal(later) || !got.ScheduledEnd.IsZero() {
		t.Fatalf("%v %+v", err, got)
	}
	e.at(ls.ScheduledStart) // the old start
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("the old start is still due: %+v", rep)
	}
	end := later.Add(-time.Minute)
	if _, err := e.svc.Update(ctx, tenant, ls.ID, livestream.UpdateInput{ScheduledEnd: &end}); code(err) != "invalid_schedule" {
		t.Fatalf("an end before the start: %v", err)
	}
	past := e.clock.Now().Add(-time.Hour)
	if _, err := e.svc.Update(ctx, tenant, ls.ID, livestream.UpdateInput{ScheduledStart: &past}); code(err) != "invalid_schedule" {
		t.Fatalf("a start in the past: %v", err)
	}
	e.at(later)
	if rep := e.run(); rep.Done != 1 {
		t.Fatalf("the new start: %+v", rep)
	}
	if _, err := e.svc.Update(ctx, tenant, ls.ID, livestream.UpdateInput{Title: &title}); code(err) != "livestream_not_scheduled" {
		t.Fatalf("changing a live livestream: %v", err)
	}
}

func TestAnotherTenantsLivestreamDoesNotExist(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, restream.ID)
	e.connect("church-2", restream.ID)
	ls := e.create(e.input("restream"))
	ctx := context.Background()
	other := "church-2"
	title := "hijacked"
	checks := map[string]error{}
	_, checks["get"] = e.svc.Get(ctx, other, ls.ID)
	_, checks["ingest"] = e.svc.Ingest(ctx, other, ls.ID)
	_, checks["update"] = e.svc.Update(ctx, other, ls.ID, livestream.UpdateInput{Title: &title})
	_, checks["start"] = e.svc.Start(ctx, other, ls.ID)
	_, checks["end"] = e.svc.End(ctx, other, ls.ID)
	checks["cancel"] = e.svc.Cancel(ctx, other, ls.ID)
	for op, err := range checks {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s of another tenant's livestream: %v", op, err)
		}
	}
	if list, _, err := e.svc.List(ctx, other, "", "", 50); err != nil || len(list) != 0 {
		t.Fatalf("another tenant lists %d: %v", len(list), err)
	}
	if got := e.get(ls.ID); got.Title != "Sunday service" || got.Version != ls.Version {
		t.Fatalf("changed: %+v", got)
	}
	if _, err := e.svc.Get(ctx, tenant, "../"+ls.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a malformed id: %v", err)
	}
}

func TestListIsNewestFirstFilteredAndPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, restream.ID)
	var ids []string
	for i := range 3 {
		in := e.input("restream")
		in.ScheduledStart = in.ScheduledStart.Add(time.Duration(i) * time.Hour)
		in.ScheduledEnd = time.Time{}
		ids = append(ids, e.create(in).ID)
		e.clock.Advance(time.Millisecond * 5)
	}
	ctx := context.Background()
	page, next, err := e.svc.List(ctx, tenant, "", "", 2)
	if err != nil || len(page) != 2 || next == "" || page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Fatalf("first page %v %q %v", idsOf(page), next, err)
	}
	first := next
	page, next, err = e.svc.List(ctx, tenant, "", next, 2)
	if err != nil || len(page) != 1 || page[0].ID != ids[0] || next != "" {
		t.Fatalf("second page %v %q %v", idsOf(page), next, err)
	}
	if _, err := e.svc.Start(ctx, tenant, ids[1]); err != nil {
		t.Fatal(err)
	}
	live, _, _ := e.svc.List(ctx, tenant, livestream.StatusLive, "", 50)
	scheduled, _, _ := e.svc.List(ctx, tenant, livestream.StatusScheduled, "", 50)
	if len(live) != 1 || live[0].ID != ids[1] || len(scheduled) != 2 {
		t.Fatalf("live %v, scheduled %v", idsOf(live), idsOf(scheduled))
	}
	if _, _, err := e.svc.List(ctx, tenant, "starting", "", 50); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a status callers never see: %v", err)
	}
	if _, _, err := e.svc.List(ctx, "church-2", "", first, 50); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("another tenant's cursor: %v", err)
	}
	if n := e.rs.Calls(restreamfake.OpUserStreamKey); n != 3 {
		t.Fatalf("%d Restream targets set up", n)
	}
}

func idsOf(list []*livestream.Livestream) []string {
	var out []string
	for _, ls := range list {
		out = append(out, ls.ID)
	}
	return out
}
