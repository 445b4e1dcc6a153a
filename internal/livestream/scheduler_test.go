package livestream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestTheSchedulerStartsEveryTargetAtItsStartAndEndsThemAtItsEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID)
	ls := e.create(e.input("youtube", "facebook", "restream"))
	e.yt.PushAll() // the encoder pushes before the start
	e.fb.PushAll()
	e.rs.PushAll()

	// A run two minutes before the start leaves it for a later run; the run
	// of the minute before reads it, waits for the start's second and
	// sends the go-live requests then: never before, within 5 s after.
	e.at(ls.ScheduledStart.Add(-2 * time.Minute))
	if rep := e.run(); rep.Found != 1 || rep.Done != 1 || len(e.stamps.goLiveTimes()) != 0 {
		t.Fatalf("a run two minutes before the start (the preflight, not yet run): %+v", rep)
	}
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("a second run two minutes before the start found %+v", rep)
	}
	e.at(ls.ScheduledStart.Add(-time.Minute + 3*time.Second))
	if rep := e.run(); rep.Found != 1 || rep.Done != 1 {
		t.Fatalf("the run of the minute before the start: %+v", rep)
	}
	onTime(t, "go-live", e.stamps.goLiveTimes(), ls.ScheduledStart, 2)
	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusLive || got.StartedAt.IsZero() {
		t.Fatalf("at the start: %s %v", got.PublicStatus(), got.StartedAt)
	}
	for _, tg := range got.Targets {
		if tg.Status != livestream.TargetLive {
			t.Errorf("%s is %s: %+v", tg.Platform, tg.Status, tg.LastError)
		}
	}
	if b, _ := e.yt.Broadcast(got.Targets[0].ExternalID); b.LifeCycleStatus != "live" {
		t.Errorf("YouTube broadcast is %s", b.LifeCycleStatus)
	}
	if v, _ := e.fb.Video(got.Targets[1].ExternalID); v.Status != "LIVE" {
		t.Errorf("Facebook video is %s", v.Status)
	}
	// Later runs before the end find nothing and call nobody again.
	for _, d := range []time.Duration{30 * time.Second, 10 * time.Minute} {
		e.at(ls.ScheduledStart.Add(d))
		if rep := e.run(); rep.Found != 0 {
			t.Fatalf("a run %s after the start found %+v", d, rep)
		}
	}
	if n := e.goLives(); n[youtube.ID] != 1 || n[facebook.ID] != 1 {
		t.Fatalf("go-live calls %v, want one each", n)
	}

	e.at(ls.ScheduledEnd.Add(-40 * time.Second))
	if rep := e.run(); rep.Done != 1 {
		t.Fatalf("the run before the end: %+v", rep)
	}
	onTime(t, "end", e.stamps.endTimes(), ls.ScheduledEnd, 2)
	got = e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusEnded || got.EndedAt.IsZero() {
		t.Fatalf("at the end: %s", got.PublicStatus())
	}
	for _, tg := range got.Targets {
		if tg.Status != livestream.TargetEnded {
			t.Errorf("%s is %s after the end", tg.Platform, tg.Status)
		}
	}
	if b, _ := e.yt.Broadcast(got.Targets[0].ExternalID); b.LifeCycleStatus != "complete" {
		t.Errorf("YouTube broadcast is %s after the end", b.LifeCycleStatus)
	}
	if v, _ := e.fb.Video(got.Targets[1].ExternalID); v.Status != "LIVE_STOPPED" {
		t.Errorf("Facebook video is %s after the end", v.Status)
	}
	e.clock.Advance(time.Hour)
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("an ended livestream is still due: %+v", rep)
	}
	noSecretIn(t, "the logs", e.logs.String(), e.secrets([]*livestream.Livestream{got}))
	noSecretIn(t, "the table", e.rawItems(), e.secrets([]*livestream.Livestream{got}))
}

func TestOnePlatformFailingNeverHoldsBackTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID)
	ls := e.create(e.input("youtube", "facebook", "restream"))
	e.yt.PushAll()
	e.fb.FailNext(facebookfake.OpUpdate, 500, 2, 1) // Facebook fails once, transiently
	e.at(ls.ScheduledStart)
	e.run()

	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusLive {
		t.Fatalf("status %s", got.PublicStatus())
	}
	fb := target(t, got, facebook.ID)
	if fb.Status != livestream.TargetFailed || fb.Step != livestream.StepGoLive || fb.LastError == nil ||
		fb.LastError.Code != string(platform.ReasonTransient) || fb.NextAttemptAt.IsZero() {
		t.Fatalf("Facebook target %+v", fb)
	}
	for _, p := range []platform.ID{youtube.ID, restream.ID} {
		if tg := target(t, got, p); tg.Status != livestream.TargetLive {
			t.Fatalf("%s is %s", p, tg.Status)
		}
	}
	// The retry, a minute later, makes Facebook live too.
	e.at(fb.NextAttemptAt)
	if rep := e.run(); rep.Done != 1 {
		t.Fatalf("the retry run: %+v", rep)
	}
	fb = target(t, e.get(ls.ID), facebook.ID)
	if fb.Status != livestream.TargetLive || fb.LastError != nil || fb.Attempts != 0 {
		t.Fatalf("Facebook after the retry %+v", fb)
	}
	if n := e.goLives(); n[youtube.ID] != 1 || n[facebook.ID] != 2 {
		t.Fatalf("go-live calls %v", n)
	}
}

func TestAPermanentRefusalIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID)
	ls := e.create(e.input("youtube", "facebook"))
	e.yt.FailNext(youtubefake.OpBroadcastTransition, 403, "liveStreamingNotEnabled", 1)
	e.at(ls.ScheduledStart)
	e.run()
	got := e.get(ls.ID)
	yt := target(t, got, youtube.ID)
	if yt.Status != livestream.TargetFailed || yt.LastError.Code != string(platform.ReasonNotEligible) || !yt.NextAttemptAt.IsZero() {
		t.Fatalf("YouTube target %+v %+v", yt, yt.LastError)
	}
	if got.PublicStatus() != livestream.StatusLive || target(t, got, facebook.ID).Status != livestream.TargetLive {
		t.Fatal("Facebook was held back")
	}
}

func TestEveryTargetFailingFailsTheLivestreamUntilARetryWorks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	ls := e.create(e.input("youtube"))
	// The encoder is not pushing yet: YouTube refuses to go live, which
	// retrying helps with.
	e.at(ls.ScheduledStart)
	e.run()
	got := e.get(ls.ID)
	yt := got.Targets[0]
	if got.PublicStatus() != livestream.StatusFailed || yt.Status != livestream.TargetFailed || yt.NextAttemptAt.IsZero() {
		t.Fatalf("without an encoder: %s %+v", got.PublicStatus(), yt)
	}
	e.yt.PushAll()
	e.at(yt.NextAttemptAt)
	e.run()
	if got = e.get(ls.ID); got.PublicStatus() != livestream.StatusLive || got.Targets[0].Status != livestream.TargetLive {
		t.Fatalf("after the encoder started: %s %+v", got.PublicStatus(), got.Targets[0])
	}
}

func TestConcurrentAndRepeatedRunsStartAndEndEachPlatformOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID)
	ls := e.create(e.input("youtube", "facebook", "restream"))
	e.yt.PushAll()

	// Ten instances run at once, each a service of its own over the table,
	// as concurrent Lambdas would; then each runs again.
	runAll := func(at time.Time) (done int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 10 {
			svc := e.instance()
			wg.Go(func() {
				for range 2 {
					rep, err := svc.RunDue(context.Background(), at, 4)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					done += rep.Done
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return done
	}
	if done := runAll(ls.ScheduledStart); done != 1 {
		t.Fatalf("%d runs started the livestream, want 1", done)
	}
	if n := e.goLives(); n[youtube.ID] != 1 || n[facebook.ID] != 1 {
		t.Fatalf("go-live calls %v, want exactly one per platform", n)
	}
	if got := e.get(ls.ID); got.PublicStatus() != livestream.StatusLive {
		t.Fatalf("status %s", got.PublicStatus())
	}
	if done := runAll(ls.ScheduledEnd); done != 1 {
		t.Fatalf("%d runs ended the livestream, want 1", done)
	}
	ends := 0
	for _, r := range e.fb.Requests() {
		if r.Op == facebookfake.OpUpdate && r.Form.Get("end_live_video") == "true" {
			ends++
		}
	}
	if ytEnds := e.yt.Calls(youtubefake.OpBroadcastTransition) - 1; ytEnds != 1 || ends != 1 {
		t.Fatalf("end calls: YouTube %d, Facebook %d, want one each", ytEnds, ends)
	}
}

func TestARunThatDiedIsResumedWithoutRepeatingWhatItDid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID)
	ls := e.create(e.input("youtube", "facebook"))
	e.yt.PushAll()
	repo := e.fix.Store.Livestreams()
	ctx := context.Background()

	// A run claims the livestream at its start, makes YouTube live, records
	// it, and dies before Facebook.
	e.at(ls.ScheduledStart)
	now := e.clock.Now()
	dead := e.get(ls.ID)
	dead.Status, dead.ClaimOwner, dead.ClaimUntil, dead.DueAt = livestream.StatusStarting, "dead-run", now.Add(2*time.Minute), now.Add(2*time.Minute)
	if err := repo.Save(ctx, dead, livestream.Guard{Version: dead.Version, Now: now}); err != nil {
		t.Fatal(err)
	}
	yt := dead.Targets[0]
	if _, err := e.svc.Start(ctx, tenant, ls.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("starting a livestream a run holds: %v", err)
	}
	yt.Status = livestream.TargetLive
	if err := repo.SaveTarget(ctx, tenant, ls.ID, 0, &yt, nil, "dead-run"); err != nil {
		t.Fatal(err)
	}
	// Runs whose window ends before its lease does leave it alone.
	e.clock.Advance(10 * time.Second)
	if rep := e.run(); rep.Done != 0 {
		t.Fatalf("a run took a livestream another run holds: %+v", rep)
	}
	// After the lease, the next run resumes: Facebook only.
	e.clock.Advance(2 * time.Minute)
	if rep := e.run(); rep.Done != 1 {
		t.Fatalf("the resuming run: %+v", rep)
	}
	got := e.get(ls.ID)
	if got.PublicStatus() != livestream.StatusLive || got.ClaimOwner != "" || target(t, got, facebook.ID).Status != livestream.TargetLive {
		t.Fatalf("after the resume: %s %+v", got.PublicStatus(), got.Targets)
	}
	if n := e.goLives(); n[youtube.ID] != 0 || n[facebook.ID] != 1 {
		t.Fatalf("go-live calls %v: the resume repeated YouTube or skipped Facebook", n)
	}
	// The dead run, were it to wake up, can no longer write.
	yt.Status = livestream.TargetFailed
	if err := repo.SaveTarget(ctx, tenant, ls.ID, 0, &yt, nil, "dead-run"); !livestream.IsConflict(err) {
		t.Fatalf("a run whose claim is gone wrote: %v", err)
	}
}

// countingOps counts DynamoDB operations by name.
type countingOps struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *countingOps) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.ops[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

func (c *countingOps) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	c.ops = map[string]int{}
	return out
}

// The index of due work is sharded (store.DueShards partitions and the
// unsharded one of older items): an idle run reads each partition once.
func TestARunWithNothingDueCostsOneQueryPerDuePartition(t *testing.T) {
	t.Parallel()
	ops := &countingOps{ops: map[string]int{}}
	e := newEnv(t, ops.option)
	e.connect(tenant, restream.ID)
	e.create(e.input("restream"))
	ops.take()
	if rep := e.run(); rep.Found != 0 {
		t.Fatalf("%+v", rep)
	}
	if got := ops.take(); len(got) != 1 || got["Query"] != store.DueShards+1 {
		t.Fatalf("a run with nothing due made %v, want %d Queries", got, store.DueShards+1)
	}
}

func TestTheSchedulerTakesNoWorkWhenItsDeadlineIsNear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, restream.ID)
	ls := e.create(e.input("restream"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := e.svc.RunDue(ctx, ls.ScheduledStart, 2)
	if err != nil || rep.Found != 1 || rep.Skipped != 1 || rep.Done != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if got := e.get(ls.ID); got.Status != livestream.StatusScheduled {
		t.Fatalf("status %s", got.Status)
	}
}

func TestManyDueLivestreamsAreAllStartedAcrossPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, restream.ID)
	in := e.input("restream")
	const n = 60 // more than a page of the due index
	for range n {
		e.create(in)
	}
	rep := e.run()
	if rep.Found != 0 {
		t.Fatalf("before the start: %+v", rep)
	}
	e.at(in.ScheduledStart)
	if rep = e.run(); rep.Found != n || rep.Done != n {
		t.Fatalf("at the start: %+v", rep)
	}
	list, _, err := e.svc.List(context.Background(), tenant, livestream.StatusLive, "", 100)
	if err != nil || len(list) != n {
		t.Fatalf("%d live, %v", len(list), err)
	}
}

// onTime fails unless there are want requests, each sent at or after due
// and within 5 s of it.
func onTime(t *testing.T, what string, sent []time.Time, due time.Time, want int) {
	t.Helper()
	if len(sent) != want {
		t.Fatalf("%d %s requests, want %d", len(sent), what, want)
	}
	for _, at := range sent {
		if d := at.Sub(due); d < 0 || d > 5*time.Second {
			t.Errorf("a %s request was sent %s after its time (want 0 to 5 s)", what, d)
		}
	}
}
