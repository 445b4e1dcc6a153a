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
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

var all = []platform.ID{platform.YouTube, platform.Facebook, platform.Instagram, platform.Restream}

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
		if tg.Platform != want || tg.Status != livestream.TargetReady || tg.ExternalID == "" || tg.IngestURL == "" || tg.LastError != nil {
			t.Errorf("target %d: %+v", i, tg)
		}
	}
	yt, ok := e.yt.Broadcast(target(t, ls, platform.YouTube).ExternalID)
	if !ok || yt.Title != "Sunday service" || yt.PrivacyStatus != "unlisted" || yt.BoundStreamID == "" || yt.EnableAutoStart {
		t.Errorf("YouTube broadcast %+v", yt)
	}
	fb, ok := e.fb.Video(target(t, ls, platform.Facebook).ExternalID)
	if !ok || fb.Status != "SCHEDULED_UNPUBLISHED" || fb.PlannedStart != in.ScheduledStart.Unix() {
		t.Errorf("Facebook video %+v", fb)
	}
	rs, ok := e.rs.Event(target(t, ls, platform.Restream).ExternalID)
	if !ok || rs.Status != "upcoming" || rs.ScheduledFor == nil || *rs.ScheduledFor != in.ScheduledStart.Unix() {
		t.Errorf("Restream event %+v", rs)
	}
	if ig := target(t, ls, platform.Instagram); ig.WatchURL != "https://www.instagram.com/gracechurch/" || !ig.UserIngest {
		t.Errorf("Instagram target %+v", ig)
	}
	if livestream.Note(platform.Instagram) == "" || !strings.Contains(livestream.Note(platform.Instagram), "no public API") {
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
	rsNow, _ := e.rs.Event(rs.ID)
	if keys[platform.YouTube] != st.StreamName || keys[platform.Facebook] != fbNow.StreamKey || keys[platform.Restream] != rsNow.StreamKey ||
		keys[platform.Instagram] != igKey || st.StreamName == "" {
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
	e.connect(tenant, platform.YouTube, platform.Instagram, platform.Restream) // not Facebook
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
		}, apperr.Unprocessable, "not_a_livestream_platform"},
		{"no such platform", func(in *livestream.CreateInput) {
			in.Targets = append(in.Targets, livestream.TargetInput{Platform: "myspace"})
		}, apperr.Unprocessable, "unknown_platform"},
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
			if !ok || ae.Kind != c.kind || ae.Code != c.code || ae.Detail == "" {
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
	if n := e.yt.Calls(youtubefake.OpBroadcastInsert) + e.rs.Calls(restreamfake.OpEventNew); n != 0 {
		t.Fatalf("a refused request made %d calls to platforms", n)
	}
}

func TestFacebooksSevenDayWindowFailsItsTargetOrTheWholeRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, platform.YouTube, platform.Facebook)
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
	fb := target(t, ls, platform.Facebook)
	if fb.Status != livestream.TargetFailed || fb.LastError == nil || fb.LastError.Code != string(platform.ReasonInvalid) ||
		!strings.Contains(fb.LastError.Message, "7 days") || !fb.NextAttemptAt.IsZero() {
		t.Fatalf("Facebook target %+v %+v", fb, fb.LastError)
	}
	if yt := target(t, ls, platform.YouTube); yt.Status != livestream.TargetReady {
		t.Fatalf("YouTube target %+v", yt)
	}
	if ls.PublicStatus() != livestream.StatusScheduled {
		t.Fatalf("status %s", ls.PublicStatus())
	}
}

func TestARefusedTokenFailsItsTargetAndExpiresTheConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, platform.YouTube, platform.Restream)
	e.yt.RejectToken(e.token(tenant, platform.YouTube))
	ls := e.create(e.input("youtube", "restream"))
	yt := target(t, ls, platform.YouTube)
	if yt.Status != livestream.TargetFailed || yt.LastError.Code != string(platform.ReasonExpiredToken) {
		t.Fatalf("YouTube target %+v %+v", yt, yt.LastError)
	}
	if target(t, ls, platform.Restream).Status != livestream.TargetReady {
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
	e.connect(tenant, platform.YouTube, platform.Restream)
	e.rs.FailNext(restreamfake.OpEventNew, 503, "", 100)
	ls := e.create(e.input("youtube", "restream"))
	created := e.clock.Now()
	rs := target(t, ls, platform.Restream)
	if rs.Status != livestream.TargetFailed || rs.Step != livestream.StepProvision || rs.Attempts != 1 ||
		rs.LastError.Code != string(platform.ReasonTransient) || rs.NextAttemptAt.Sub(created).Round(time.Second) != time.Minute {
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
	if n := e.rs.Calls(restreamfake.OpEventNew); n != 5 {
		t.Fatalf("Restream saw %d creations, want 5", n)
	}
	if target(t, e.get(ls.ID), platform.YouTube).Status != livestream.TargetReady {
		t.Fatal("YouTube was disturbed by Restream's retries")
	}
}

func TestRetryDelaysDouble(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, platform.Facebook)
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
	if !strings.Contains(instagram.NoAPIMessage, "no public API") || !strings.Contains(livestream.Note(platform.Instagram), "no public API") {
		t.Fatal("Instagram's limits must be said in plain words")
	}
	if livestream.Note(platform.Restream) == "" || livestream.Note(platform.Facebook) != "" {
		t.Fatal("notes are for what a platform's API cannot do")
	}
}

func TestAnInstagramTargetRetriedLaterKeepsTheIngestTheUserPasted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, platform.Instagram)
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
