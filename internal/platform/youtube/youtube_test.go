package youtube_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/discovery"
	"github.com/switchboard-dev/switchboard/internal/platform/platformtest"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

const token = "ya29.a0-test-access-token-7f3c"

func setup(t *testing.T) (*youtube.Client, *youtubefake.Server) {
	t.Helper()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	return youtube.New(&http.Client{Timeout: 5 * time.Second}, fake.URL), fake
}

func spec() platform.BroadcastSpec {
	start := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	return platform.BroadcastSpec{
		Title: "Sunday service", Description: "Live from the main hall",
		ScheduledStart: start, ScheduledEnd: start.Add(90 * time.Minute),
		RequestID: "ls_123:youtube", MadeForKids: new(bool),
	}
}

func reasonOf(t *testing.T, err error) platform.Reason {
	t.Helper()
	return platformtest.Reason(t, err, youtube.ID)
}

func TestLifecycleProvisionGoLiveEndFollowsYouTubesStates(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()

	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if b.ExternalID == "" || b.IngestURL != "rtmp://a.rtmp.youtube.com/live2" || b.StreamKey == "" {
		t.Fatalf("broadcast %+v", b)
	}
	if b.WatchURL != "https://www.youtube.com/watch?v="+b.ExternalID {
		t.Errorf("watch URL %q", b.WatchURL)
	}
	if b.Extra[youtube.ExtraRTMPSIngestURL] != "rtmps://a.rtmps.youtube.com/live2" {
		t.Errorf("extra %v", b.Extra)
	}
	fb, _ := fake.Broadcast(b.ExternalID)
	st, _ := fake.Stream(b.Extra[youtube.ExtraStreamID])
	if fb.BoundStreamID != st.ID || st.StreamName != b.StreamKey {
		t.Fatalf("broadcast bound to %q, stream %+v", fb.BoundStreamID, st)
	}
	if fb.EnableAutoStart || fb.EnableAutoStop || fb.EnableMonitorStream || fb.SelfDeclaredMadeForKids || fb.PrivacyStatus != "public" {
		t.Errorf("broadcast settings %+v", fb)
	}
	if st.IngestionType != "rtmp" || st.Resolution != "variable" || st.FrameRate != "variable" {
		t.Errorf("stream settings %+v", st)
	}
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastReady {
		t.Fatalf("state after provision %q, %v", s, err)
	}

	fake.PushAll()
	if err := c.GoLive(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastLive {
		t.Fatalf("state after go-live %q, %v", s, err)
	}
	if err := c.GoLive(ctx, token, b); err != nil {
		t.Errorf("going live again (redundantTransition) should succeed: %v", err)
	}
	if n := fake.Calls(youtubefake.OpBroadcastTransition); n != 2 {
		t.Errorf("transition called %d times, want 2", n)
	}

	if err := c.End(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastEnded {
		t.Fatalf("state after end %q, %v", s, err)
	}
	if err := c.End(ctx, token, b); err != nil {
		t.Errorf("ending again (redundantTransition) should succeed: %v", err)
	}
}

func TestGoLiveBeforeTheEncoderPushesIsAConflictThatSaysSo(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	err = c.GoLive(ctx, token, b)
	if r := reasonOf(t, err); r != platform.ReasonConflict {
		t.Fatalf("reason %s", r)
	}
	if !strings.Contains(err.Error(), "encoder is not pushing") {
		t.Errorf("message does not say the encoder is not pushing: %v", err)
	}
	if n := fake.Calls(youtubefake.OpBroadcastTransition); n != 1 {
		t.Errorf("transition called %d times, want 1", n)
	}
	// The encoder starts, then going live works.
	fake.SetStreamActive(b.Extra[youtube.ExtraStreamID], true)
	if err := c.GoLive(ctx, token, b); err != nil {
		t.Fatal(err)
	}
}

func TestEndingABroadcastThatNeverWentLiveIsAConflict(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	err = c.End(ctx, token, b)
	if r := reasonOf(t, err); r != platform.ReasonConflict || !strings.Contains(err.Error(), "cancel it instead") {
		t.Fatalf("%s: %v", r, err)
	}
}

func TestCancelDeletesBroadcastAndStreamAndAlreadyGoneIsSuccess(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if nb, ns := fake.Counts(); nb != 0 || ns != 0 {
		t.Fatalf("%d broadcasts and %d streams left", nb, ns)
	}
	if err := c.Cancel(ctx, token, b); err != nil {
		t.Errorf("cancelling again (404) should succeed: %v", err)
	}
	if _, err := c.State(ctx, token, b); reasonOf(t, err) != platform.ReasonNotFound {
		t.Errorf("state of a deleted broadcast: %v", err)
	}
}

func TestProvisionDeletesWhatItCreatedWhenALaterStepFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		op     string
		status int
		reason string
		want   platform.Reason
	}{
		{youtubefake.OpBroadcastBind, 500, "backendError", platform.ReasonTransient},
		{youtubefake.OpBroadcastBind, 403, "insufficientLivePermissions", platform.ReasonPermission},
		{youtubefake.OpStreamInsert, 403, "quotaExceeded", platform.ReasonQuota},
	}
	for _, tc := range cases {
		t.Run(tc.op+"/"+tc.reason, func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			fake.FailNext(tc.op, tc.status, tc.reason, 1)
			_, err := c.Provision(context.Background(), token, spec())
			if r := reasonOf(t, err); r != tc.want {
				t.Fatalf("reason %s, want %s: %v", r, tc.want, err)
			}
			if nb, ns := fake.Counts(); nb != 0 || ns != 0 {
				t.Fatalf("orphans left: %d broadcasts, %d streams", nb, ns)
			}
			if n := fake.Calls(tc.op); n != 1 {
				t.Errorf("%s called %d times; a POST must not be retried", tc.op, n)
			}
			if n := fake.Calls(youtubefake.OpBroadcastDelete); n != 1 {
				t.Errorf("broadcast delete called %d times", n)
			}
		})
	}
}

func TestYouTubeErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		reason string
		want   platform.Reason
	}{
		{403, "quotaExceeded", platform.ReasonQuota},
		{403, "dailyLimitExceeded", platform.ReasonQuota},
		{403, "userRequestsExceedRateLimit", platform.ReasonRateLimited},
		{403, "rateLimitExceeded", platform.ReasonRateLimited},
		{429, "rateLimitExceeded", platform.ReasonRateLimited},
		{403, "liveStreamingNotEnabled", platform.ReasonNotEligible},
		{403, "insufficientLivePermissions", platform.ReasonPermission},
		{403, "forbidden", platform.ReasonPermission},
		{401, "authError", platform.ReasonExpiredToken},
		{404, "liveBroadcastNotFound", platform.ReasonNotFound},
		{403, "errorStreamInactive", platform.ReasonConflict},
		{403, "invalidTransition", platform.ReasonConflict},
		{500, "backendError", platform.ReasonTransient},
		{503, "backendError", platform.ReasonTransient},
		{400, "invalidTitle", platform.ReasonInvalid},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.reason), func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			// The broadcast insert is a POST: tried once, so one failure is the answer.
			fake.FailNext(youtubefake.OpBroadcastInsert, tc.status, tc.reason, 1)
			_, err := c.Provision(context.Background(), token, spec())
			if r := reasonOf(t, err); r != tc.want {
				t.Fatalf("reason %s, want %s: %v", r, tc.want, err)
			}
			pe, _ := platform.AsError(err)
			if pe.Code != tc.reason || pe.Status != tc.status || pe.Message == "" {
				t.Errorf("error %+v", pe)
			}
		})
	}
}

func TestRedundantTransitionIsSuccessForGoLiveAndEnd(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b := platform.Broadcast{ExternalID: "whatever"}
	fake.FailNext(youtubefake.OpBroadcastTransition, 403, "redundantTransition", 2)
	if err := c.GoLive(context.Background(), token, b); err != nil {
		t.Error(err)
	}
	if err := c.End(context.Background(), token, b); err != nil {
		t.Error(err)
	}
}

func TestReadsAreRetriedOnServerErrorsThenSucceed(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(youtubefake.OpBroadcastList, 500, "backendError", 1)
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastReady {
		t.Fatalf("state %q, %v", s, err)
	}
	if n := fake.Calls(youtubefake.OpBroadcastList); n != 2 {
		t.Errorf("list called %d times, want 2 (one retry)", n)
	}
	fake.FailNext(youtubefake.OpChannelList, 503, "backendError", 2)
	if _, err := c.Whoami(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(youtubefake.OpChannelList); n != 3 {
		t.Errorf("channels called %d times, want 3", n)
	}
}

func TestReadsGiveUpAfterBoundedRetries(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(youtubefake.OpChannelList, 500, "backendError", 10)
	if r := reasonOf(t, func() error { _, err := c.Whoami(context.Background(), token); return err }()); r != platform.ReasonTransient {
		t.Fatalf("reason %s", r)
	}
	if n := fake.Calls(youtubefake.OpChannelList); n != 3 {
		t.Errorf("channels called %d times, want 3", n)
	}
}

func TestQuotaIsNotRetried(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(youtubefake.OpChannelList, 403, "quotaExceeded", 1)
	_, err := c.Whoami(context.Background(), token)
	if r := reasonOf(t, err); r != platform.ReasonQuota {
		t.Fatalf("reason %s", r)
	}
	if n := fake.Calls(youtubefake.OpChannelList); n != 1 {
		t.Errorf("channels called %d times, want 1", n)
	}
}

// The quota resets at midnight Pacific Time
// (developers.google.com/youtube/data/determine_quota_cost): the error
// waits until then and says when, in winter (PST, UTC-8) and summer (PDT,
// UTC-7) alike.
func TestAUsedUpQuotaWaitsForMidnightPacificAndSaysWhen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		now, reset string
	}{
		{"2026-12-06T12:00:00Z", "2026-12-07T08:00:00Z"}, // 04:00 PST
		{"2026-12-07T07:59:00Z", "2026-12-07T08:00:00Z"}, // 23:59 PST
		{"2026-12-07T08:00:00Z", "2026-12-08T08:00:00Z"}, // midnight PST: the next one
		{"2026-07-01T06:30:00Z", "2026-07-01T07:00:00Z"}, // 23:30 PDT
		{"2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z"}, // the night PST turns into PDT: still midnight
	}
	for _, tc := range cases {
		now, _ := time.Parse(time.RFC3339, tc.now)
		want, _ := time.Parse(time.RFC3339, tc.reset)
		fake := youtubefake.New()
		c := youtube.New(&http.Client{Timeout: 5 * time.Second}, fake.URL, youtube.WithClock(func() time.Time { return now }))
		fake.FailNext(youtubefake.OpBroadcastInsert, 403, "quotaExceeded", 1)
		_, err := c.Provision(context.Background(), token, spec())
		fake.Close()
		pe, ok := platform.AsError(err)
		if !ok || pe.Reason != platform.ReasonQuota || pe.Code != "quotaExceeded" {
			t.Fatalf("%s: %v", tc.now, err)
		}
		if got := now.Add(pe.RetryAfter); got.Before(want) || got.After(want.Add(time.Minute)) {
			t.Errorf("%s: waits until %s, want just after %s", tc.now, got.UTC().Format(time.RFC3339), tc.reset)
		}
		if !strings.Contains(pe.Message, tc.reset) || !strings.Contains(pe.Message, "midnight Pacific Time") {
			t.Errorf("%s: the message does not say when the quota resets: %q", tc.now, pe.Message)
		}
	}
}

// madeForKids is the caller's declaration and autoStop its choice: both
// reach YouTube as given, and a broadcast without the declaration is never
// created.
func TestMadeForKidsAndAutoStopAreTheCallersChoices(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	for _, tc := range []struct{ kids, autoStop bool }{{true, true}, {false, false}, {true, false}} {
		sp := spec()
		sp.MadeForKids, sp.AutoStop = &tc.kids, tc.autoStop
		b, err := c.Provision(ctx, token, sp)
		if err != nil {
			t.Fatal(err)
		}
		fb, _ := fake.Broadcast(b.ExternalID)
		if fb.SelfDeclaredMadeForKids != tc.kids || fb.EnableAutoStop != tc.autoStop {
			t.Errorf("asked kids=%v autoStop=%v, YouTube has %+v", tc.kids, tc.autoStop, fb)
		}
	}
	sp := spec()
	sp.MadeForKids = nil
	before := fake.Calls(youtubefake.OpBroadcastInsert)
	_, err := c.Provision(ctx, token, sp)
	if r := reasonOf(t, err); r != platform.ReasonInvalid || !strings.Contains(err.Error(), "COPPA") {
		t.Fatalf("no declaration: %v", err)
	}
	if fake.Calls(youtubefake.OpBroadcastInsert) != before {
		t.Error("a broadcast was created without the made-for-kids declaration")
	}
}

// With autoStop an encoder drop completes the broadcast, and a complete
// broadcast cannot go live again (PLATFORMS.md YouTube, enableAutoStop);
// without it the broadcast stays live for the encoder to come back.
func TestAnEncoderDropEndsTheBroadcastForGoodOnlyWithAutoStop(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	for _, autoStop := range []bool{true, false} {
		sp := spec()
		sp.AutoStop = autoStop
		b, err := c.Provision(ctx, token, sp)
		if err != nil {
			t.Fatal(err)
		}
		sid := b.Extra[youtube.ExtraStreamID]
		fake.SetStreamActive(sid, true)
		if err := c.GoLive(ctx, token, b); err != nil {
			t.Fatal(err)
		}
		fake.SetStreamActive(sid, false)
		fake.SetStreamActive(sid, true)
		st, err := c.State(ctx, token, b)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]platform.BroadcastState{true: platform.BroadcastEnded, false: platform.BroadcastLive}[autoStop]; st != want {
			t.Errorf("autoStop=%v: after a drop the broadcast is %s, want %s", autoStop, st, want)
		}
		if autoStop {
			if err := c.GoLive(ctx, token, b); reasonOf(t, err) != platform.ReasonConflict {
				t.Errorf("a completed broadcast went live again: %v", err)
			}
		}
	}
}

func TestRejectedOrMissingTokenIsExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	ctx := context.Background()
	_, err := c.Whoami(ctx, token)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("whoami: %s", r)
	}
	_, err = c.Provision(ctx, token, spec())
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("provision: %s", r)
	}
	_, err = c.Whoami(ctx, "")
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("no token: %s", r)
	}
	if n := fake.Calls(youtubefake.OpChannelList); n != 2 {
		t.Errorf("a 401 must not be retried: %d calls", n)
	}
}

func TestWhoamiNamesTheChannelOrSaysThereIsNone(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.SetChannel("UC123", "St Mark's")
	acc, err := c.Whoami(context.Background(), token)
	if err != nil || acc.ID != "UC123" || acc.Name != "St Mark's" {
		t.Fatalf("%+v, %v", acc, err)
	}
	fake.SetNoChannel()
	_, err = c.Whoami(context.Background(), token)
	if r := reasonOf(t, err); r != platform.ReasonNotEligible {
		t.Fatalf("reason %s", r)
	}
}

func TestProvisionRejectsAnIncompleteSpecWithoutCallingYouTube(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	for name, mod := range map[string]func(*platform.BroadcastSpec){
		"no title":    func(s *platform.BroadcastSpec) { s.Title = " " },
		"no start":    func(s *platform.BroadcastSpec) { s.ScheduledStart = time.Time{} },
		"bad privacy": func(s *platform.BroadcastSpec) { s.Privacy = "friends" },
	} {
		s := spec()
		mod(&s)
		_, err := c.Provision(context.Background(), token, s)
		if r := reasonOf(t, err); r != platform.ReasonInvalid {
			t.Errorf("%s: reason %s", name, r)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached YouTube", n)
	}
}

func TestPrivacyIsPassedThrough(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	s := spec()
	s.Privacy = "unlisted"
	b, err := c.Provision(context.Background(), token, s)
	if err != nil {
		t.Fatal(err)
	}
	if fb, _ := fake.Broadcast(b.ExternalID); fb.PrivacyStatus != "unlisted" {
		t.Errorf("privacy %q", fb.PrivacyStatus)
	}
}

// errorText is everything an error could show: its message, its %+v form
// and the messages of everything it wraps.
func errorText(err error) string {
	var b strings.Builder
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		fmt.Fprintf(&b, "%v\n%+v\n%#v\n", e, e, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return b.String()
}

func TestErrorsNeverCarryTheTokenOrTheStreamKey(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	collect(c.GoLive(ctx, token, b)) // stream inactive
	collect(c.End(ctx, token, b))    // invalid transition
	fake.FailNext(youtubefake.OpBroadcastBind, 500, "backendError", 1)
	_, err = c.Provision(ctx, token, spec())
	collect(err)
	fake.FailNext(youtubefake.OpBroadcastList, 403, "forbidden", 1)
	_, err = c.State(ctx, token, b)
	collect(err)
	fake.RejectToken(token)
	_, err = c.Whoami(ctx, token)
	collect(err)
	collect(c.Cancel(ctx, token, b))

	// No answer at all: the transport error must not carry the request URL.
	dead := youtube.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/youtube/v3")
	_, err = dead.State(ctx, token, b)
	collect(err)
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("transport error carries the request URL: %v", ue)
	}

	if len(errs) < 7 {
		t.Fatalf("only %d errors collected", len(errs))
	}
	for _, err := range errs {
		text := errorText(err)
		if strings.Contains(text, token) || strings.Contains(text, b.StreamKey) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// TestEveryRequestFitsYouTubesDiscoveryDocument runs the client through
// everything it does (provision, go live, state, end, cancel, whoami, and
// the clean-up of a failed provision) against the fake, then holds every
// request the fake received to Google's discovery document for the YouTube
// Data API v3 (shared/specs/youtube-v3-discovery.json): the method exists,
// required parameters are there, every query parameter is declared and
// every body field is in the request schema; and every successful answer
// the fake gave fits the method's response schema.
func TestEveryRequestFitsYouTubesDiscoveryDocument(t *testing.T) {
	t.Parallel()
	path, err := discovery.SpecPath("youtube-v3-discovery.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := discovery.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, fake := setup(t)
	ctx := context.Background()
	if _, err := c.Whoami(ctx, token); err != nil {
		t.Fatal(err)
	}
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	moved := spec()
	for _, step := range []func() error{
		func() error {
			_, err := c.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{Title: "Moved", Description: "d",
				ScheduledStart: moved.ScheduledStart.Add(time.Hour), ScheduledEnd: moved.ScheduledEnd.Add(time.Hour), StartMoved: true})
			return err
		},
		func() error { fake.PushAll(); return c.GoLive(ctx, token, b) },
		func() error { _, err := c.State(ctx, token, b); return err },
		func() error { return c.End(ctx, token, b) },
		func() error { return c.Cancel(ctx, token, b) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	fake.FailNext(youtubefake.OpBroadcastBind, 500, "backendError", 1)
	_, _ = c.Provision(ctx, token, spec())

	seen := map[string]bool{}
	for _, r := range fake.Requests() {
		m, _, err := doc.Find(r.Method, r.URL)
		if err == nil {
			seen[m.ID] = true
		}
		if err := doc.Check(r.Method, r.URL, r.Body); err != nil {
			t.Errorf("%s %s %s:\n%v", r.Method, r.URL, r.Body, err)
		}
		// The fake's successful answers must have YouTube's shape too.
		if r.Status < 300 {
			if err := doc.CheckResponse(r.Method, r.URL, r.Response); err != nil {
				t.Errorf("fake's answer to %s %s: %s\n%v", r.Method, r.URL, r.Response, err)
			}
		}
	}
	for _, id := range []string{
		"youtube.channels.list", "youtube.liveBroadcasts.insert", "youtube.liveStreams.insert",
		"youtube.liveBroadcasts.bind", "youtube.liveBroadcasts.transition", "youtube.liveBroadcasts.list",
		"youtube.liveBroadcasts.delete", "youtube.liveStreams.delete", "youtube.liveBroadcasts.update",
	} {
		if !seen[id] {
			t.Errorf("the client never called %s: the contract check did not cover it", id)
		}
	}
}

// A change replaces the broadcast's whole snippet at YouTube, as
// liveBroadcasts.update does: the new title, times and description are
// read back from the fake, and an empty description or no end removes
// them there too; YouTube's refusals (a start in the past, no broadcast)
// come back as the error with YouTube's words, and change nothing.
func TestUpdateBroadcastReplacesTheSnippetAtYouTube(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(26 * time.Hour).Truncate(time.Second).UTC()
	for _, tc := range []struct {
		name              string
		change            platform.BroadcastChange
		wantDesc, wantEnd string
	}{
		{"a moved start, a new title, description and end",
			platform.BroadcastChange{Title: "Easter service", Description: "At 11:00 this week", ScheduledStart: start,
				ScheduledEnd: start.Add(time.Hour), StartMoved: true},
			"At 11:00 this week", start.Add(time.Hour).Format(time.RFC3339)},
		{"no description and no end remove them",
			platform.BroadcastChange{Title: "Easter service", ScheduledStart: start},
			"", ""},
	} {
		kept, err := c.UpdateBroadcast(ctx, token, b, tc.change)
		if err != nil || kept != "" {
			t.Fatalf("%s: kept %q, %v", tc.name, kept, err)
		}
		got, _ := fake.Broadcast(b.ExternalID)
		if got.Title != tc.change.Title || got.ScheduledStart != start.Format(time.RFC3339) || got.Description != tc.wantDesc ||
			got.ScheduledEnd != tc.wantEnd {
			t.Errorf("%s: YouTube holds %+v", tc.name, got)
		}
	}
	before, _ := fake.Broadcast(b.ExternalID)
	for _, tc := range []struct {
		name   string
		b      platform.Broadcast
		change platform.BroadcastChange
		reason platform.Reason
		words  string
	}{
		{"a start in the past", b, platform.BroadcastChange{Title: "Late", ScheduledStart: time.Now().Add(-time.Hour)},
			platform.ReasonInvalid, "must be in the future"},
		{"an end before the start", b, platform.BroadcastChange{Title: "Backwards", ScheduledStart: start, ScheduledEnd: start.Add(-time.Minute)},
			platform.ReasonInvalid, "end time must be after"},
		{"a broadcast YouTube no longer has", platform.Broadcast{ExternalID: "gone1234567"},
			platform.BroadcastChange{Title: "x", ScheduledStart: start}, platform.ReasonNotFound, "not found"},
	} {
		_, err := c.UpdateBroadcast(ctx, token, tc.b, tc.change)
		if got := reasonOf(t, err); got != tc.reason || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: %v (%s), want %s saying %q", tc.name, err, got, tc.reason, tc.words)
		}
	}
	if after, _ := fake.Broadcast(b.ExternalID); after != before {
		t.Errorf("a refused update changed the broadcast: %+v, was %+v", after, before)
	}
}
