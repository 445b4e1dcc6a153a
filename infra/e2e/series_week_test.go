package e2e_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

// seriesBody is a Series answer.
type seriesBody struct {
	ID, Rule, TimeZone, Status string
	NextOccurrences            []struct {
		Start, LivestreamID, Status string
	}
}

// ingestBody is a LivestreamIngest answer.
type ingestBody struct {
	Targets []struct {
		Platform, IngestURL, StreamKey string
		Stable                         bool
	}
}

func (in ingestBody) of(t *testing.T, p string) (url, key string, stable bool) {
	t.Helper()
	for _, tg := range in.Targets {
		if tg.Platform == p {
			return tg.IngestURL, tg.StreamKey, tg.Stable
		}
	}
	t.Fatalf("no %s target in the ingest answer %+v", p, in.Targets)
	return "", "", false
}

// checkedBody is a Livestream answer's targets with their checks.
type checkedBody struct {
	Targets []struct {
		Platform string
		Checks   []struct{ Name, Status, Message, At string }
	}
}

// devRun is one run of a schedule the dev scheduler fired.
type devRun struct {
	fn   string
	tick time.Time
	rep  app.RunReport
	err  error
}

// devSchedules plays EventBridge as `make dev` does (gateway.Scheduler,
// first runs 2 s after it starts, each function with its template
// timeout): stream-scheduler every minute, token-refresher every
// refresherEvery (make dev's -token-refresher-every). It runs until the
// test ends; every run's outcome arrives on the channel.
func (s *stack) devSchedules(refresherEvery time.Duration, logs *servicetest.Logs) <-chan devRun {
	s.t.Helper()
	opts := app.Options{Getenv: s.liveGetenv, Log: logs}
	schedules := []gateway.Schedule{
		{Function: app.StreamSched, Every: time.Minute, Timeout: devenv.Timeout(app.StreamSched)},
		{Function: app.TokenRefresher, Every: refresherEvery, Timeout: devenv.Timeout(app.TokenRefresher)},
	}
	for i := range schedules {
		run, err := app.Scheduled(context.Background(), schedules[i].Function, opts)
		if err != nil {
			s.t.Fatalf("building %s: %v", schedules[i].Function, err)
		}
		schedules[i].Run = run
	}
	runs := make(chan devRun, 64)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	sched := &gateway.Scheduler{Schedules: schedules, FirstRun: gateway.DefaultFirstRun, OnRun: func(fn string, ev events.EventBridgeEvent, rep app.RunReport, err error) {
		select {
		case runs <- devRun{fn: fn, tick: ev.Time, rep: rep, err: err}:
		default:
		}
	}}
	go func() { sched.Run(ctx); close(stopped) }()
	s.t.Cleanup(func() { cancel(); <-stopped })
	return runs
}

// waitRun waits for the first run of fn that ok accepts; a run that
// failed fails the test.
func waitRun(t *testing.T, runs <-chan devRun, within time.Duration, fn string, ok func(devRun) bool) devRun {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case r := <-runs:
			if r.err != nil {
				t.Fatalf("%s's run at %s failed: %v", r.fn, r.tick.Format(time.RFC3339), r.err)
			}
			if r.fn == fn && ok(r) {
				return r
			}
		case <-deadline:
			t.Fatalf("no run of %s as awaited within %s", fn, within)
		}
	}
}

// Issue 15's walkthrough, through the stack as make dev runs it: a church
// connects YouTube and Restream, creates its Sunday service as a weekly
// series in Chicago time whose first start is seconds away, and the dev
// scheduler's ticks do the rest.
func TestAChurchsWeeklySeriesToYouTubeAndRestreamKeepsOneIngestChecksAndGoesLiveOnTheSecond(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	const tenant = "grace-church"
	for _, p := range []string{"youtube", "restream"} {
		if q := s.connectOAuth(tenant, p); q.Get("status") != "connected" {
			t.Fatalf("connecting %s: %v", p, q)
		}
	}

	// The first Sunday (whatever today is: BYDAY is the start's weekday in
	// Chicago) starts 25 s from now, on a whole second.
	start := time.Now().UTC().Truncate(time.Second).Add(25 * time.Second)
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	byDay := strings.ToUpper(start.In(chicago).Weekday().String()[:2])
	body := newLivestream(start, youtubeTarget(""), liveTarget{Platform: "restream"})
	body["recurrence"] = map[string]string{"rule": "FREQ=WEEKLY;BYDAY=" + byDay, "timeZone": "America/Chicago"}
	var sr seriesBody
	if r := s.call("POST", "/series", tenant, body, &sr); r.StatusCode != http.StatusCreated {
		t.Fatalf("POST /series: %d %s", r.StatusCode, bodyOf(r))
	}
	created := time.Now()
	// The encoder pushes to the ingest before the start, as the church's
	// would: YouTube refuses to go live before.
	s.sb.YouTube.PushAll()
	if time.Until(start) < 5*time.Second {
		t.Fatalf("setting up took until %s, too close to the start %s for the scheduler's first tick", time.Now().UTC().Format(time.RFC3339Nano), start.Format(time.RFC3339))
	}
	schedLogs := &servicetest.Logs{}
	runs := s.devSchedules(30*time.Second, schedLogs)

	// GET /series lists the next five Sundays, each with its livestream:
	// those within the window (YouTube and Restream set no bound, so two
	// weeks) are created already, by POST /series itself.
	ahead := livestream.OccurrenceAhead([]livestream.TargetInput{{Platform: "youtube"}, {Platform: "restream"}})
	occurrences := func(madeBy time.Time) []string {
		t.Helper()
		var got seriesBody
		if r := s.call("GET", "/series/"+sr.ID, tenant, nil, &got); r.StatusCode != http.StatusOK {
			t.Fatalf("GET /series/%s: %d %s", sr.ID, r.StatusCode, bodyOf(r))
		}
		if got.Rule != "FREQ=WEEKLY;BYDAY="+byDay || got.TimeZone != "America/Chicago" || got.Status != "active" || len(got.NextOccurrences) != 5 {
			t.Fatalf("the series %+v", got)
		}
		var ids []string
		for i, o := range got.NextOccurrences {
			at, err := time.Parse(time.RFC3339, o.Start)
			if err != nil || o.LivestreamID == "" {
				t.Fatalf("occurrence %d: %+v", i, o)
			}
			if at.In(chicago).Format("Mon 15:04:05") != start.In(chicago).Format("Mon 15:04:05") {
				t.Fatalf("occurrence %d starts %s, not at the first's Chicago weekday and time", i, o.Start)
			}
			want := "pending"
			if !at.After(madeBy.Add(ahead)) {
				want = "created"
			}
			if o.Status != want {
				t.Fatalf("occurrence %d (%s) is %s, want %s (made up to %s)", i, o.Start, o.Status, want, madeBy.Add(ahead).Format(time.RFC3339))
			}
			if want == "created" {
				ids = append(ids, o.LivestreamID)
			}
		}
		return ids
	}
	ids := occurrences(created)
	if len(ids) < 2 {
		t.Fatalf("%d occurrences created, want the first two Sundays", len(ids))
	}
	first := s.getLivestream(tenant, ids[0])
	if first.ScheduledStart != start.Format(time.RFC3339) || first.Status != "scheduled" || first.SeriesID == nil || *first.SeriesID != sr.ID {
		t.Fatalf("the first occurrence %+v", first)
	}

	// The dev scheduler's first stream-scheduler tick, seconds before the
	// start, runs the preflight and waits for the start's second.
	live := waitRun(t, runs, 90*time.Second, app.StreamSched, func(r devRun) bool { return r.rep.Done > 0 })
	first = s.getLivestream(tenant, ids[0])
	if first.Status != "live" || first.StartedAt == nil {
		t.Fatalf("after the run that went live (%+v): %+v", live.rep, first)
	}
	startedAt, _ := time.Parse(time.RFC3339, *first.StartedAt)
	if d := startedAt.Sub(start); d < 0 || d > 5*time.Second {
		t.Errorf("startedAt %s is %s after the start", *first.StartedAt, d)
	}
	// Restream has no start call (developers.restream.io documents none):
	// it is live while the encoder pushes to the account's default key, and
	// its target says, at the same second, that Switchboard's part is done.
	yt := first.Targets[first.target(t, "youtube")]
	rs := first.Targets[first.target(t, "restream")]
	if yt.Status != "live" || rs.Status != "live" || yt.ExternalID == nil {
		t.Fatalf("targets at the start: YouTube %+v, Restream %+v", yt, rs)
	}
	// YouTube's go-live is a request (liveBroadcasts.transition to live):
	// it arrived at the fake 0 to 5 s after the start, and none before.
	var goLives []time.Duration
	for _, r := range s.sb.YouTube.Requests() {
		if r.Op == youtubefake.OpBroadcastTransition && r.Query.Get("broadcastStatus") == "live" {
			if r.Query.Get("id") != *yt.ExternalID {
				t.Errorf("a go-live for broadcast %s, not the first Sunday's %s", r.Query.Get("id"), *yt.ExternalID)
			}
			goLives = append(goLives, r.At.Sub(start))
		}
	}
	if len(goLives) != 1 || goLives[0] < 0 || goLives[0] > 5*time.Second {
		t.Fatalf("YouTube's go-live requests arrived at start %+v, want one within 0 to 5 s", goLives)
	}
	t.Logf("YouTube's go-live arrived %s after the start; startedAt %s", goLives[0], *first.StartedAt)
	if yt, _ := s.sb.YouTube.Broadcast(*yt.ExternalID); yt.LifeCycleStatus != "live" {
		t.Fatalf("at YouTube the broadcast is %s", yt.LifeCycleStatus)
	}

	// The scheduler's preflight (its 30- and 10-minute times had passed)
	// checked every target before the start.
	var checked checkedBody
	s.call("GET", "/livestreams/"+ids[0], tenant, nil, &checked)
	wantChecks := map[string]map[string]string{
		"youtube":  {"connection": "pass", "account": "pass", "encoder": "pass", "quota": "pass"},
		"restream": {"connection": "pass", "account": "pass", "encoder": "unsupported"},
	}
	holdsChecks := func(where string, c checkedBody, notAfter time.Time) {
		t.Helper()
		if len(c.Targets) != 2 {
			t.Fatalf("%s: targets %+v", where, c.Targets)
		}
		for _, tg := range c.Targets {
			got := map[string]string{}
			for _, ch := range tg.Checks {
				at, err := time.Parse(time.RFC3339, ch.At)
				if err != nil || at.After(notAfter) || ch.Message == "" {
					t.Errorf("%s: %s's %s check %+v (not after %s)", where, tg.Platform, ch.Name, ch, notAfter.Format(time.RFC3339))
				}
				got[ch.Name] = ch.Status
			}
			if want := wantChecks[tg.Platform]; !maps.Equal(got, want) {
				t.Errorf("%s: %s's checks %v, want %v", where, tg.Platform, got, want)
			}
		}
	}
	holdsChecks("the scheduler's preflight", checked, start)

	// The second Sunday: POST /livestreams/{id}/check runs the same checks
	// now.
	var second checkedBody
	if r := s.call("POST", "/livestreams/"+ids[1]+"/check", tenant, nil, &second); r.StatusCode != http.StatusOK {
		t.Fatalf("check: %d %s", r.StatusCode, bodyOf(r))
	}
	holdsChecks("POST /livestreams/{id}/check", second, time.Now())

	// token-refresher's run after the start makes the Sundays that have
	// come within the window since (the third, two weeks on), never one
	// twice.
	refresh := waitRun(t, runs, 90*time.Second, app.TokenRefresher, func(r devRun) bool { return !r.tick.Before(start) })
	later := occurrences(refresh.tick)
	if len(later) < len(ids)-1 || !slices.Equal(later[:len(ids)-1], ids[1:]) {
		t.Fatalf("occurrences after token-refresher's run %v, before %v", later, ids)
	}
	if made := len(later) - (len(ids) - 1); made > 0 {
		t.Logf("token-refresher's run at %s made %d occurrence(s)", refresh.tick.Format(time.RFC3339), made)
	}
	ids = append(ids[:1], later...)

	// Every Sunday made has the same ingest: YouTube's reusable stream
	// (inserted once) and Restream's default key, each stable.
	var ytURL, ytKey string
	for i, id := range ids {
		var in ingestBody
		if r := s.call("GET", "/livestreams/"+id+"/ingest", tenant, nil, &in); r.StatusCode != http.StatusOK {
			t.Fatalf("ingest of %s: %d %s", id, r.StatusCode, bodyOf(r))
		}
		u, k, stable := in.of(t, "youtube")
		if !stable || u == "" || k == "" {
			t.Fatalf("occurrence %d's YouTube ingest: %q, a key of %d characters, stable %v", i, u, len(k), stable)
		}
		if i == 0 {
			ytURL, ytKey = u, k
		} else if u != ytURL || k != ytKey {
			t.Errorf("occurrence %d's YouTube ingest differs from the first's (URL %q, %q; same key: %v)", i, u, ytURL, k == ytKey)
		}
		u, k, stable = in.of(t, "restream")
		if !stable || u == "" || k != s.sb.Restream.UserStreamKey() {
			t.Errorf("occurrence %d's Restream ingest: %q, stable %v, the account's default key: %v", i, u, stable, k == s.sb.Restream.UserStreamKey())
		}
	}
	if n := s.sb.YouTube.Calls(youtubefake.OpStreamInsert); n != 1 {
		t.Errorf("YouTube streams inserted: %d, want one reusable stream for every Sunday", n)
	}
	if n := s.sb.YouTube.Calls(youtubefake.OpBroadcastInsert); n != len(ids) {
		t.Errorf("YouTube broadcasts inserted: %d, want one per Sunday made (%d)", n, len(ids))
	}

	// No stream key in any log or answer (but the ingest route's).
	keys := []string{ytKey, s.sb.Restream.UserStreamKey()}
	noLiveSecret(t, "the functions' logs", s.logs.String(), keys)
	noLiveSecret(t, "the scheduled functions' logs", schedLogs.String(), keys)
	noLiveSecret(t, "the API's answers", s.answers.String(), keys)
}
