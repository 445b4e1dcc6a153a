package e2e_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

var threePlatforms = []liveTarget{youtubeTarget("unlisted"), {Platform: "facebook"}, {Platform: "restream"}}

// connectThree connects YouTube, Facebook and Restream through the real
// OAuth redirects of the sandbox.
func connectThree(s *stack, tenant string) {
	for _, p := range []string{"youtube", "facebook", "restream"} {
		if q := s.connectOAuth(tenant, p); q.Get("status") != "connected" {
			s.t.Fatalf("connecting %s: %v", p, q)
		}
	}
}

func TestALivestreamToYouTubeFacebookAndRestreamGoesLiveOnAllThreeAtItsStart(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectThree(s, "church-1")
	start := liveStartIn(3)
	ls := s.createLivestream("church-1", newLivestream(start, threePlatforms...))
	if ls.Status != "scheduled" || len(ls.Targets) != 3 {
		t.Fatalf("created %+v", ls)
	}
	for _, tg := range ls.Targets {
		// Restream creates nothing: its target streams to the user's default key.
		if tg.Status != "ready" || (tg.ExternalID == nil) != (tg.Platform == "restream") {
			t.Fatalf("target %+v", tg)
		}
	}
	sched := s.newLiveScheduler()

	// A tick a minute before the start runs the preflight (its 30- and
	// 10-minute times have passed) and goes live at no platform yet; the
	// start itself is past this run's deadline reserve, so the next run
	// takes it.
	if rep := sched.tick(start.Add(-time.Minute)); rep.Found != 1 || rep.Done != 1 {
		t.Fatalf("a tick before the start: %+v", rep)
	}
	if y, f := s.liveGoLives(); y != 0 || f != 0 {
		t.Fatalf("go-live calls before the start: YouTube %d, Facebook %d", y, f)
	}
	// The encoder pushes to every ingest before the start, as it would.
	s.sb.YouTube.PushAll()
	s.sb.Facebook.PushAll()
	s.sb.Restream.PushAll()
	if rep := sched.tick(start); rep.Found != 1 || rep.Done != 1 || rep.Function != app.StreamSched {
		t.Fatalf("the tick at the start: %+v", rep)
	}
	ls = s.getLivestream("church-1", ls.ID)
	if ls.Status != "live" || ls.StartedAt == nil {
		t.Fatalf("at the start: %+v", ls)
	}
	for _, tg := range ls.Targets {
		if tg.Status != "live" || tg.LastError != nil {
			t.Errorf("%s is %s: %+v", tg.Platform, tg.Status, tg.LastError)
		}
	}
	yt, _ := s.sb.YouTube.Broadcast(*ls.Targets[0].ExternalID)
	fb, _ := s.sb.Facebook.Video(*ls.Targets[1].ExternalID)
	rs := s.sb.Restream.Live()
	if yt.LifeCycleStatus != "live" || fb.Status != "LIVE" || len(rs) == 0 {
		t.Fatalf("at the platforms: YouTube %s, Facebook %s, Restream live on %+v", yt.LifeCycleStatus, fb.Status, rs)
	}
	if y, f := s.liveGoLives(); y != 1 || f != 1 {
		t.Fatalf("go-live calls: YouTube %d, Facebook %d", y, f)
	}

	if rep := sched.tick(start.Add(time.Hour)); rep.Done != 1 {
		t.Fatalf("the tick at the end: %+v", rep)
	}
	ls = s.getLivestream("church-1", ls.ID)
	if ls.Status != "ended" || ls.EndedAt == nil {
		t.Fatalf("at the end: %+v", ls)
	}
	yt, _ = s.sb.YouTube.Broadcast(*ls.Targets[0].ExternalID)
	fb, _ = s.sb.Facebook.Video(*ls.Targets[1].ExternalID)
	if yt.LifeCycleStatus != "complete" || fb.Status != "LIVE_STOPPED" {
		t.Fatalf("after the end: YouTube %s, Facebook %s", yt.LifeCycleStatus, fb.Status)
	}
}

func TestWithOnePlatformFailingTheOtherTwoGoLiveAndTheFailureIsReported(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectThree(s, "church-1")
	start := liveStartIn(3)
	ls := s.createLivestream("church-1", newLivestream(start, threePlatforms...))
	s.sb.YouTube.PushAll()
	// Facebook is down: every publish fails with Graph's transient error.
	s.sb.Facebook.FailNext(facebookfake.OpUpdate, http.StatusInternalServerError, 2, 100)
	sched := s.newLiveScheduler()
	sched.tick(start)

	ls = s.getLivestream("church-1", ls.ID)
	if ls.Status != "live" {
		t.Fatalf("status %s", ls.Status)
	}
	fb := ls.Targets[ls.target(t, "facebook")]
	if fb.Status != "failed" || fb.LastError == nil || fb.LastError.Code != "transient" || fb.LastError.Message == "" ||
		fb.Attempts != 1 || fb.NextAttemptAt == nil {
		t.Fatalf("the Facebook target does not report its failure: %+v %+v", fb, fb.LastError)
	}
	for _, p := range []string{"youtube", "restream"} {
		if tg := ls.Targets[ls.target(t, p)]; tg.Status != "live" {
			t.Fatalf("%s is %s", p, tg.Status)
		}
	}
	// Retried with backoff: the next attempt a minute later fails again and
	// waits two more.
	next, _ := time.Parse(time.RFC3339, *fb.NextAttemptAt)
	if rep := sched.tick(next); rep.Done != 1 {
		t.Fatalf("the retry tick: %+v", rep)
	}
	fb = s.getLivestream("church-1", ls.ID).Targets[1]
	later, _ := time.Parse(time.RFC3339, *fb.NextAttemptAt)
	if fb.Attempts != 2 || later.Sub(next) != 2*time.Minute {
		t.Fatalf("after the retry %+v", fb)
	}
	if y, _ := s.liveGoLives(); y != 1 {
		t.Fatalf("YouTube went live %d times", y)
	}
}

func TestRepeatedAndConcurrentSchedulerRunsCallEachPlatformsGoLiveOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectThree(s, "church-1")
	start := liveStartIn(3)
	ls := s.createLivestream("church-1", newLivestream(start, threePlatforms...))
	s.sb.YouTube.PushAll()

	// Eight stream-scheduler instances (as concurrent Lambdas), each firing
	// three times in the start minute: at, just after, and a retried event.
	var scheds []*liveScheduler
	for range 8 {
		scheds = append(scheds, s.newLiveScheduler())
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for _, sc := range scheds {
		wg.Go(func() {
			for _, at := range []time.Time{start, start.Add(20 * time.Second), start} {
				rep := sc.tick(at)
				mu.Lock()
				done += rep.Done
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if done != 1 {
		t.Fatalf("%d runs started the livestream, want 1", done)
	}
	if y, f := s.liveGoLives(); y != 1 || f != 1 {
		t.Fatalf("go-live calls: YouTube %d, Facebook %d, want one each", y, f)
	}
	if ls = s.getLivestream("church-1", ls.ID); ls.Status != "live" {
		t.Fatalf("status %s", ls.Status)
	}
	// Later ticks, however many, change nothing.
	for _, sc := range scheds[:3] {
		sc.tick(start.Add(5 * time.Minute))
	}
	if y, f := s.liveGoLives(); y != 1 || f != 1 || s.sb.YouTube.Calls(youtubefake.OpBroadcastTransition) != 1 {
		t.Fatalf("later ticks called again: YouTube %d, Facebook %d", y, f)
	}
}
