package livestream_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

var all = []platform.ID{youtube.ID, facebook.ID, instagram.ID, restream.ID}

func TestCreateSetsUpEveryTargetAtOnceAndKeepsOnlySealedKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, all...)
	in := e.input("youtube", "facebook", "instagram", "restream")
	igKey := in.Targets[2].StreamKey
	ls := e.create(in)

	if ls.PublicStatus() != livestream.StatusScheduled || len(ls.Targets) != 4 {
		t.Fatalf("created %s with %d targets", ls.PublicStatus(), len(ls.Targets))
	}
	for i, want := range all {
		tg := ls.Targets[i]
		// Restream creates nothing: its target streams to the user's default key.
		if tg.Platform != want || tg.Status != livestream.TargetReady || (tg.ExternalID == "") != (want == restream.ID) ||
			tg.IngestURL == "" || tg.LastError != nil {
			t.Errorf("target %d: %+v", i, tg)
		}
	}
	yt, ok := e.yt.Broadcast(target(t, ls, youtube.ID).ExternalID)
	if !ok || yt.Title != "Sunday service" || yt.PrivacyStatus != "unlisted" || yt.BoundStreamID == "" || yt.EnableAutoStart {
		t.Errorf("YouTube broadcast %+v", yt)
	}
	fb, ok := e.fb.Video(target(t, ls, facebook.ID).ExternalID)
	if !ok || fb.Status != "SCHEDULED_UNPUBLISHED" || fb.PlannedStart != in.ScheduledStart.Unix() {
		t.Errorf("Facebook video %+v", fb)
	}
	if reached := e.rs.Reaches(e.rs.UserStreamKey()); len(reached) == 0 || e.rs.Calls(restreamfake.OpEventNew) != 0 {
		t.Errorf("the Restream target does not stream to the default key that reaches the enabled channels (%+v)", reached)
	}
	if !strings.Contains(livestream.Note(restream.ID), "enabled in Restream's dashboard") {
		t.Error("a Restream target must say which channels it reaches and that they are chosen in Restream")
	}
	if ig := target(t, ls, instagram.ID); ig.WatchURL != "https://www.instagram.com/gracechurch/" || !ig.UserIngest {
		t.Errorf("Instagram target %+v", ig)
	}
	if livestream.Note(instagram.ID) == "" || !strings.Contains(livestream.Note(instagram.ID), "no public API") {
		t.Error("an Instagram target must say plainly that no API creates its broadcast")
	}

	// The keys come back whole from the ingest route, and only there.
	ingest, err := e.svc.Ingest(context.Background(), tenant, ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[platform.ID]string{}
	for _, in := range ingest {
		keys[in.Platform] = in.StreamKey
	}
	st, _ := e.yt.Stream(yt.BoundStreamID)
	fbNow, _ := e.fb.Video(fb.ID)
	if keys[youtube.ID] != st.StreamName || keys[facebook.ID] != fbNow.PersistentKey || keys[restream.ID] != e.rs.UserStreamKey() ||
		keys[instagram.ID] != igKey || st.StreamName == "" {
		t.Error("the ingest route does not give each platform's key")
	}
	secrets := e.secrets([]*livestream.Livestream{ls}, igKey)
	raw := e.rawItems()
	noSecretIn(t, "the table", raw, secrets)
	noSecretIn(t, "the logs", e.logs.String(), secrets)
	for _, p := range all {
		if !strings.Contains(raw, `"streamKey_`+string(p)+`"`) {
			t.Errorf("no sealed stream key stored for %s", p)
		}
	}
	view, _ := json.Marshal(e.get(ls.ID).Targets)
	noSecretIn(t, "a livestream's targets", string(view), secrets)
}

func TestBadRequestsAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, instagram.ID, restream.ID) // not Facebook
	long := strings.Repeat("x", livestream.MaxTitle+1)
	cases := []struct {
		name   string
		change func(*livestream.CreateInput)
		kind   apperr.Kind
		code   string
	}{
		{"empty title", func(in *livestream.CreateInput) { in.Title = "  " }, apperr.Invalid, "invalid_title"},
		{"title over YouTube's limit", func(in *livestream.CreateInput) { in.Title = long }, apperr.Invalid, "invalid_title"},
		{"description too long", func(in *livestream.CreateInput) { in.Description = strings.Repeat("d", 5001) }, apperr.Invalid, "invalid_description"},
		{"start in the past", func(in *livestream.CreateInput) { in.ScheduledStart = e.clock.Now().Add(-10 * time.Minute) }, apperr.Unprocessable, "invalid_schedule"},
		{"end before start", func(in *livestream.CreateInput) { in.ScheduledEnd = in.ScheduledStart.Add(-time.Minute) }, apperr.Unprocessable, "invalid_schedule"},
		{"start more than a year ahead", func(in *livestream.CreateInput) { in.ScheduledStart = e.clock.Now().AddDate(180, 0, 0) }, apperr.Invalid, "invalid_schedule"},
		{"end more than a year after the start", func(in *livestream.CreateInput) { in.ScheduledEnd = in.ScheduledStart.AddDate(2, 0, 0) }, apperr.Invalid, "invalid_schedule"},
		{"no targets", func(in *livestream.CreateInput) { in.Targets = nil }, apperr.Invalid, "invalid_targets"},
		{"five targets", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, in.Targets[0], in.Targets[0], in.Targets[0], in.Targets[0])
		}, apperr.Invalid, "invalid_targets"},
		{"a platform twice", func(in *livestream.CreateInput) { in.Targets = append(in.Targets, in.Targets[0]) }, apperr.Invalid, "invalid_targets"},
		{"a meeting platform", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, livestream.TargetInput{Platform: "zoom"})
		}, apperr.Invalid, "wrong_platform_kind"},
		{"no such platform", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, livestream.TargetInput{Platform: "myspace"})
		}, apperr.Invalid, "unknown_platform"},
		{"bad privacy", func(in *livestream.CreateInput) { in.Targets[0].Privacy = "friends" }, apperr.Invalid, "invalid_privacy"},
		{"Instagram without its ingest", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, livestream.TargetInput{Platform: "instagram"})
		}, apperr.Unprocessable, "ingest_required"},
		{"Instagram with an http URL", func(in *livestream.CreateInput) {
			ig := igTarget()
			ig.RTMPURL = "https://instagram.com/live"
			in.Targets = append(in.Targets, ig)
		}, apperr.Invalid, "invalid_ingest"},
		{"an ingest for YouTube", func(in *livestream.CreateInput) {
			in.Targets[0].RTMPURL, in.Targets[0].StreamKey = "rtmp://a.rtmp.youtube.com/live2", "abc"
		}, apperr.Unprocessable, "ingest_not_accepted"},
		{"YouTube without madeForKids", func(in *livestream.CreateInput) { in.Targets[0].MadeForKids = nil }, apperr.Invalid, "made_for_kids_required"},
		{"madeForKids for Restream", func(in *livestream.CreateInput) { in.Targets[1].MadeForKids = new(false) }, apperr.Unprocessable, "option_not_accepted"},
		{"autoStop for Restream", func(in *livestream.CreateInput) { in.Targets[1].AutoStop = new(true) }, apperr.Unprocessable, "option_not_accepted"},
		{"a target not connected", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, livestream.TargetInput{Platform: "facebook"})
		}, apperr.Conflict, "target_not_connected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := e.input("youtube", "restream")
			c.change(&in)
			_, err := e.svc.Create(context.Background(), tenant, "user-1", in)
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != c.kind || string(ae.Code) != c.code || ae.Detail == "" {
				t.Fatalf("got %v, want %s %s", err, c.kind, c.code)
			}
		})
	}
	t.Run("the refusal names the platform that is not connected", func(t *testing.T) {
		in := e.input("youtube", "facebook")
		_, err := e.svc.Create(context.Background(), tenant, "user-1", in)
		ae, _ := apperr.As(err)
		targets, _ := ae.Fields["targets"].([]map[string]string)
		if len(targets) != 1 || targets[0]["platform"] != "facebook" || targets[0]["code"] != "not_connected" {
			t.Fatalf("fields %v", ae.Fields)
		}
	})
	t.Run("the Instagram refusal says there is no API", func(t *testing.T) {
		in := e.input("instagram")
		in.Targets[0] = livestream.TargetInput{Platform: "instagram"}
		_, err := e.svc.Create(context.Background(), tenant, "user-1", in)
		if ae, _ := apperr.As(err); ae == nil || !strings.Contains(ae.Detail, "no public API") {
			t.Fatalf("%v", err)
		}
	})
	if raw := e.rawItems(); strings.Contains(raw, `"livestream"`) {
		t.Fatalf("a refused request stored a livestream: %s", raw)
	}
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert) + e.rs.Calls(restreamfake.OpUserStreamKey); n != 0 {
		t.Fatalf("a refused request made %d calls to platforms", n)
	}
}

func TestFacebooksSevenDayWindowFailsItsTargetOrTheWholeRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID)
	far := func(in livestream.CreateInput) livestream.CreateInput {
		in.ScheduledStart = e.clock.Now().Add(8 * 24 * time.Hour).Truncate(time.Minute)
		in.ScheduledEnd = in.ScheduledStart.Add(time.Hour)
		return in
	}

	// Facebook alone: nothing can be scheduled, so nothing is kept.
	_, err := e.svc.Create(context.Background(), tenant, "user-1", far(e.input("facebook")))
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Unprocessable || ae.Code != "targets_refused" || !strings.Contains(ae.Detail, "7 days") {
		t.Fatalf("Facebook alone, 8 days ahead: %v", err)
	}
	if strings.Contains(e.rawItems(), `"livestream"`) || e.fb.Videos() != 0 {
		t.Fatal("a refused livestream left something behind")
	}

	// With YouTube: YouTube is set up, Facebook's target is failed with
	// Facebook's reason and not retried (the window will not move).
	ls := e.create(far(e.input("youtube", "facebook")))
	fb := target(t, ls, facebook.ID)
	if fb.Status != livestream.TargetFailed || fb.LastError == nil || fb.LastError.Code != string(platform.ReasonInvalid) ||
		!strings.Contains(fb.LastError.Message, "7 days") || !fb.NextAttemptAt.IsZero() {
		t.Fatalf("Facebook target %+v %+v", fb, fb.LastError)
	}
	if yt := target(t, ls, youtube.ID); yt.Status != livestream.TargetReady {
		t.Fatalf("YouTube target %+v", yt)
	}
	if ls.PublicStatus() != livestream.StatusScheduled {
		t.Fatalf("status %s", ls.PublicStatus())
	}
}

func TestARefusedTokenFailsItsTargetAndExpiresTheConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, restream.ID)
	e.yt.RejectToken(e.token(tenant, youtube.ID))
	ls := e.create(e.input("youtube", "restream"))
	yt := target(t, ls, youtube.ID)
	if yt.Status != livestream.TargetFailed || yt.LastError.Code != string(platform.ReasonExpiredToken) {
		t.Fatalf("YouTube target %+v %+v", yt, yt.LastError)
	}
	if target(t, ls, restream.ID).Status != livestream.TargetReady {
		t.Fatal("Restream was held back by YouTube's failure")
	}
	c, err := e.conns.Get(context.Background(), tenant, "youtube")
	if err != nil || c.Status != "expired" {
		t.Fatalf("the YouTube connection is %v %v, want expired", c.Status, err)
	}
	noSecretIn(t, "the logs", e.logs.String(), e.secrets([]*livestream.Livestream{ls}))
}

func TestATransientFailureIsRetriedWithBackoffUntilTheAttemptsAreUsedUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, restream.ID)
	e.rs.FailNext(restreamfake.OpUserStreamKey, 503, "", 100)
	// The first retry is due a minute after the failure, which happens
	// somewhere during the create (its tries wait in real time).
	before := e.clock.Now()
	ls := e.create(e.input("youtube", "restream"))
	created := e.clock.Now()
	rs := target(t, ls, restream.ID)
	if rs.Status != livestream.TargetFailed || rs.Step != livestream.StepProvision || rs.Attempts != 1 ||
		rs.LastError.Code != string(platform.ReasonTransient) ||
		rs.NextAttemptAt.Before(before.Add(time.Minute)) || rs.NextAttemptAt.After(created.Add(time.Minute)) {
		t.Fatalf("after the first failure %+v", rs)
	}
	// Retries after 1, 2, 4 and 8 minutes; then no more.
	for i := range 4 {
		e.at(e.get(ls.ID).Targets[1].NextAttemptAt)
		if rep := e.run(); rep.Done != 1 {
			t.Fatalf("retry %d: %+v", i+1, rep)
		}
		if rs = e.get(ls.ID).Targets[1]; rs.Attempts != i+2 {
			t.Fatalf("retry %d: attempts %d", i+1, rs.Attempts)
		}
	}
	if !rs.NextAttemptAt.IsZero() || rs.Status != livestream.TargetFailed {
		t.Fatalf("after 5 attempts %+v", rs)
	}
	e.clock.Advance(30 * time.Minute)
	e.run()
	if n := e.rs.Calls(restreamfake.OpUserStreamKey); n != 5*3 {
		t.Fatalf("Restream saw %d key reads, want 5 attempts of 3 tries", n)
	}
	if target(t, e.get(ls.ID), youtube.ID).Status != livestream.TargetReady {
		t.Fatal("YouTube was disturbed by Restream's retries")
	}
}

func TestRetryDelaysDouble(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, facebook.ID)
	e.fb.FailNextWith(facebookfake.OpCreate, 500, facebookfake.Error{Message: "An unexpected error has occurred.", Type: "OAuthException", Code: 2}, 3)
	ls := e.create(e.input("facebook"))
	var delays []time.Duration
	for i := range 3 {
		fb := e.get(ls.ID).Targets[0]
		delays = append(delays, fb.NextAttemptAt.Sub(fb.LastError.At).Round(time.Second))
		if i < 2 {
			e.at(fb.NextAttemptAt)
			e.run()
		}
	}
	if delays[0] != time.Minute || delays[1] != 2*time.Minute || delays[2] != 4*time.Minute {
		t.Fatalf("delays %v, want 1m, 2m, 4m", delays)
	}
	e.at(e.get(ls.ID).Targets[0].NextAttemptAt)
	e.run()
	if fb := e.get(ls.ID).Targets[0]; fb.Status != livestream.TargetReady || fb.Attempts != 0 || fb.LastError != nil {
		t.Fatalf("after a successful retry %+v", fb)
	}
}

func TestTheInstagramNoteAndClientAgree(t *testing.T) {
	t.Parallel()
	if !strings.Contains(instagram.NoAPIMessage, "no public API") || !strings.Contains(livestream.Note(instagram.ID), "no public API") {
		t.Fatal("Instagram's limits must be said in plain words")
	}
	if livestream.Note(restream.ID) == "" || livestream.Note(facebook.ID) != "" {
		t.Fatal("notes are for what a platform's API cannot do")
	}
}

func TestAnInstagramTargetRetriedLaterKeepsTheIngestTheUserPasted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, instagram.ID)
	e.ig.FailNext(instagramfake.OpAccounts, 500, 2, 3) // the linked-account lookup fails through the client's retries
	in := e.input("instagram")
	ls := e.create(in)
	ig := ls.Targets[0]
	if ig.Status != livestream.TargetFailed || ig.NextAttemptAt.IsZero() || ig.IngestURL != in.Targets[0].RTMPURL {
		t.Fatalf("after a transient failure %+v", ig)
	}
	e.at(ig.NextAttemptAt)
	e.run()
	if ig = e.get(ls.ID).Targets[0]; ig.Status != livestream.TargetReady || ig.WatchURL == "" {
		t.Fatalf("after the retry %+v", ig)
	}
	ingest, err := e.svc.Ingest(context.Background(), tenant, ls.ID)
	if err != nil || ingest[0].StreamKey != in.Targets[0].StreamKey || ingest[0].IngestURL != in.Targets[0].RTMPURL {
		t.Fatalf("ingest %v %v", ingest, err)
	}
	noSecretIn(t, "the table", e.rawItems(), []string{in.Targets[0].StreamKey})
}

func TestAYouTubeTargetWithoutMadeForKidsIsRefusedWithTheReasonItMatters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	in := e.input("youtube")
	in.Targets[0].MadeForKids = nil
	_, err := e.svc.Create(context.Background(), tenant, "user-1", in)
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Invalid || ae.Code != "made_for_kids_required" ||
		!strings.Contains(ae.Detail, "COPPA") || !strings.Contains(ae.Detail, "audience") {
		t.Fatalf("%v", err)
	}
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n != 0 {
		t.Fatalf("%d broadcasts created", n)
	}
	if raw := e.rawItems(); strings.Contains(raw, `"livestream"`) {
		t.Fatalf("a refused request stored a livestream: %s", raw)
	}
}

// madeForKids and autoStop are kept with the target, so a provisioning
// retried later sends the caller's choices, not defaults.
func TestYouTubesMadeForKidsAndAutoStopSurviveARetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	e.yt.FailNext(youtubefake.OpBroadcastInsert, 503, "backendError", 1)
	in := e.input("youtube")
	in.Targets[0].MadeForKids, in.Targets[0].AutoStop = new(true), new(true)
	ls := e.create(in)
	yt := target(t, ls, youtube.ID)
	if yt.Status != livestream.TargetFailed || yt.MadeForKids == nil || !*yt.MadeForKids || !yt.AutoStop {
		t.Fatalf("after the first failure %+v", yt)
	}
	e.at(yt.NextAttemptAt)
	e.run()
	yt = target(t, e.get(ls.ID), youtube.ID)
	b, ok := e.yt.Broadcast(yt.ExternalID)
	if yt.Status != livestream.TargetReady || !ok || !b.SelfDeclaredMadeForKids || !b.EnableAutoStop {
		t.Fatalf("after the retry %+v, broadcast %+v", yt, b)
	}
	// Without autoStop the target keeps YouTube's default, false.
	in = e.input("youtube")
	ls = e.create(in)
	if b, _ := e.yt.Broadcast(target(t, ls, youtube.ID).ExternalID); b.EnableAutoStop || b.SelfDeclaredMadeForKids {
		t.Fatalf("defaults %+v", b)
	}
}

// A used-up YouTube quota is not tried again before it resets at midnight
// Pacific Time, not even when the livestream starts; the target says when.
func TestAUsedUpYouTubeQuotaWaitsForItsResetAndSaysWhen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.at(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)) // 12:00 PST
	e.connect(tenant, youtube.ID, restream.ID)
	e.yt.FailNext(youtubefake.OpBroadcastInsert, 403, "quotaExceeded", 1)
	in := e.input("youtube", "restream")
	in.ScheduledEnd = time.Time{} // still on air when the quota resets
	ls := e.create(in)
	reset := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC) // midnight PST
	yt := target(t, ls, youtube.ID)
	if yt.Status != livestream.TargetFailed || yt.LastError == nil || yt.LastError.Code != string(platform.ReasonQuota) ||
		yt.NextAttemptAt.Before(reset) || yt.NextAttemptAt.After(reset.Add(time.Minute)) || !strings.Contains(yt.LastError.Message, reset.Format(time.RFC3339)) {
		t.Fatalf("after the quota failure %+v %+v", yt, yt.LastError)
	}
	// The livestream starts an hour later: YouTube is not tried again.
	e.at(ls.ScheduledStart)
	if _, err := e.svc.Start(context.Background(), tenant, ls.ID); err != nil {
		t.Fatal(err)
	}
	e.run()
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n != 1 {
		t.Fatalf("YouTube tried %d times before the quota reset", n)
	}
	if got := target(t, e.get(ls.ID), restream.ID); got.Status != livestream.TargetLive {
		t.Fatalf("Restream %+v", got)
	}
	// A run whose window ends before the reset does not try it; the run
	// just before the reset waits for the retry's second and tries then.
	e.at(reset.Add(-2 * time.Minute))
	e.run()
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n != 1 {
		t.Fatalf("YouTube tried %d times before the quota reset", n)
	}
	e.at(reset.Add(-time.Second))
	e.run()
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert); n != 2 {
		t.Fatalf("YouTube tried %d times after the reset, want 2", n)
	}
	for _, st := range e.stamps.matching(func(st stamp) bool { return strings.HasPrefix(st.req, "POST /youtube/v3/liveBroadcasts?") }) {
		if st.After(e.clock.Now()) || (st.After(ls.CreatedAt.Add(time.Minute)) && st.Before(reset)) {
			t.Errorf("YouTube was tried at %s, before the quota's reset %s", st, reset)
		}
	}
}
