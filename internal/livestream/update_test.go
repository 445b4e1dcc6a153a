package livestream_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

// A church moves one Sunday of its weekly service from 10:00 to 11:00 and
// renames it: the occurrence changes at YouTube and Facebook too (read
// back from the fakes), Restream and Instagram say plainly that they keep
// what they had, and the scheduler goes live at the new time.
func TestMovingAnOccurrenceChangesItAtYouTubeAndFacebook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loc := chicago(t)
	e.at(time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC))
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID, instagram.ID)
	first := time.Date(2027, 3, 7, 10, 0, 0, 0, loc)
	in := e.weekly(first, "youtube", "facebook", "restream")
	sr := e.createSeries(in, "FREQ=WEEKLY;BYDAY=SU", "America/Chicago")
	occ := e.occurrence(sr, first)
	if occ == nil {
		t.Fatal("the first occurrence was not made")
	}
	newStart, newEnd := first.Add(time.Hour), first.Add(2*time.Hour)
	title, desc := "Baptism Sunday", "One service at 11:00 this week"
	got, err := e.svc.Update(context.Background(), tenant, occ.ID, livestream.UpdateInput{
		Title: &title, Description: &desc, ScheduledStart: &newStart, ScheduledEnd: &newEnd})
	if err != nil {
		t.Fatal(err)
	}
	want := map[platform.ID]livestream.UpdateStatus{
		youtube.ID: livestream.UpdateApplied, facebook.ID: livestream.UpdateApplied, restream.ID: livestream.UpdateUnsupported,
	}
	for _, ls := range []*livestream.Livestream{got, e.get(occ.ID)} { // the answer, and what is stored
		for p, st := range want {
			tg := target(t, ls, p)
			if tg.PlatformUpdate == nil || tg.PlatformUpdate.Status != st || tg.PlatformUpdate.At.IsZero() || tg.PlatformUpdate.At.After(e.clock.Now()) {
				t.Errorf("%s: %+v, want %s", p, tg.PlatformUpdate, st)
			}
		}
	}
	if m := target(t, got, restream.ID).PlatformUpdate.Message; !strings.Contains(m, "Restream keeps what it had") {
		t.Errorf("Restream says %q", m)
	}
	// Instagram (a one-off: its pasted key is for one broadcast) says so too.
	ig := e.create(e.input("instagram"))
	igGot, err := e.svc.Update(context.Background(), tenant, ig.ID, livestream.UpdateInput{Title: &title})
	if u := target(t, igGot, instagram.ID).PlatformUpdate; err != nil || u.Status != livestream.UpdateUnsupported ||
		!strings.Contains(u.Message, "Instagram keeps what it had") {
		t.Errorf("Instagram: %+v %v", u, err)
	}
	yt, _ := e.yt.Broadcast(target(t, got, youtube.ID).ExternalID)
	if yt.Title != title || yt.Description != desc || yt.ScheduledStart != newStart.UTC().Format(time.RFC3339) ||
		yt.ScheduledEnd != newEnd.UTC().Format(time.RFC3339) {
		t.Errorf("YouTube shows %+v", yt)
	}
	fb, _ := e.fb.Video(target(t, got, facebook.ID).ExternalID)
	if fb.Title != title || fb.Description != desc || fb.PlannedStart != newStart.Unix() || fb.Status != "SCHEDULED_UNPUBLISHED" {
		t.Errorf("Facebook shows %+v", fb)
	}
	// The claim the change held is given up: nothing is busy, and the
	// occurrence goes live at 11:00, not 10:00.
	if got.ClaimOwner != "" || e.get(occ.ID).ClaimOwner != "" {
		t.Fatalf("the change kept its claim: %q", got.ClaimOwner)
	}
	e.yt.PushAll()
	e.fb.PushAll()
	e.at(first)
	e.run()
	if n := e.goLives(); n[youtube.ID]+n[facebook.ID] != 0 {
		t.Fatalf("it went live at the old time: %v", n)
	}
	e.at(newStart)
	e.run()
	if st := e.get(occ.ID).PublicStatus(); st != livestream.StatusLive {
		t.Fatalf("at the new start it is %s", st)
	}
}

// A platform that refuses or fails the change never loses it: the
// livestream keeps the new details, the target says why the platform does
// not have them (the platform's reason and words), the other platforms
// have them, and sending the change again reaches the platform.
func TestAPlatformRefusingTheChangeLeavesItInPlaceAndSaysWhy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     func(e *env)
		platform platform.ID
		code     string
		words    string
	}{
		// An update is a write: the client tries it once.
		{"YouTube is down", func(e *env) { e.yt.FailNext(youtubefake.OpBroadcastUpdate, 503, "backendError", 1) },
			youtube.ID, string(platform.ReasonTransient), "Backend Error"},
		{"YouTube's quota is used up", func(e *env) { e.yt.FailNext(youtubefake.OpBroadcastUpdate, 403, "quotaExceeded", 1) },
			youtube.ID, string(platform.ReasonQuota), "quota"},
		{"Facebook refuses the planned start", func(e *env) {
			// Facebook's clock runs ahead: the new start is within 10 minutes there.
			e.fb.SetClock(func() time.Time { return e.clock.Now().Add(2*time.Hour + 55*time.Minute) })
		}, facebook.ID, string(platform.ReasonInvalid), "invalid planned start time"},
		{"Facebook's token expired", func(e *env) { e.fb.FailNext(facebookfake.OpUpdate, http.StatusBadRequest, 190, 1) },
			facebook.ID, string(platform.ReasonExpiredToken), "Session has expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(tenant, youtube.ID, facebook.ID)
			ls := e.create(e.input("youtube", "facebook"))
			tc.fail(e)
			title, start := "Moved service", ls.ScheduledStart.Add(2*time.Hour)
			got, err := e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &title, ScheduledStart: &start,
				ScheduledEnd: new(start.Add(time.Hour))})
			if err != nil {
				t.Fatalf("a platform's failure failed the change: %v", err)
			}
			stored := e.get(ls.ID)
			if stored.Title != title || !stored.ScheduledStart.Equal(start) {
				t.Fatalf("the change was lost: %q at %v", stored.Title, stored.ScheduledStart)
			}
			for _, tg := range stored.Targets {
				u := tg.PlatformUpdate
				switch {
				case u == nil:
					t.Errorf("%s says nothing of the change", tg.Platform)
				case tg.Platform == tc.platform && (u.Status != livestream.UpdateFailed || u.Code != tc.code || !strings.Contains(u.Message, tc.words)):
					t.Errorf("%s: %+v, want failed %s saying %q", tg.Platform, u, tc.code, tc.words)
				case tg.Platform != tc.platform && u.Status != livestream.UpdateApplied:
					t.Errorf("%s: %+v, want updated", tg.Platform, u)
				case tg.Status != livestream.TargetReady:
					t.Errorf("%s is %s: a refused change is no failed target", tg.Platform, tg.Status)
				}
			}
			if !sameUpdates(got, stored) {
				t.Errorf("the answer and what is stored differ")
			}
			// The same change sent again reaches the platform once it takes it.
			e.fb.SetClock(e.clock.Now)
			e.connect(tenant, facebook.ID)
			if _, err := e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &title}); err != nil {
				t.Fatal(err)
			}
			again := e.get(ls.ID)
			if u := target(t, again, tc.platform).PlatformUpdate; u.Status != livestream.UpdateApplied {
				t.Errorf("sent again: %+v", u)
			}
			switch tc.platform {
			case youtube.ID:
				if b, _ := e.yt.Broadcast(target(t, again, youtube.ID).ExternalID); b.Title != title || b.ScheduledStart != start.Format(time.RFC3339) {
					t.Errorf("YouTube shows %+v", b)
				}
			case facebook.ID:
				if v, _ := e.fb.Video(target(t, again, facebook.ID).ExternalID); v.Title != title || v.PlannedStart != start.Unix() {
					t.Errorf("Facebook shows %+v (the earlier failure must make the start be sent again)", v)
				}
			}
			noSecretIn(t, "the logs", e.logs.String(), e.secrets([]*livestream.Livestream{again}))
			noSecretIn(t, "the table", e.rawItems(), e.secrets([]*livestream.Livestream{again}))
			view, _ := json.Marshal(again.Targets)
			noSecretIn(t, "the targets", string(view), e.secrets([]*livestream.Livestream{again}))
		})
	}
}

func sameUpdates(a, b *livestream.Livestream) bool {
	for i := range a.Targets {
		x, y := a.Targets[i].PlatformUpdate, b.Targets[i].PlatformUpdate
		if (x == nil) != (y == nil) || (x != nil && (x.Status != y.Status || x.Code != y.Code || x.Message != y.Message)) {
			return false
		}
	}
	return true
}

// Facebook takes a planned start 10 minutes to 7 days ahead: a start
// moved beyond that is kept in Switchboard and the title reaches Facebook,
// but the target says plainly that Facebook keeps the planned start it
// had. A target not set up yet is set up with the new details.
func TestAChangeFacebookTakesOnlyInPartSaysWhatItKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, facebook.ID, youtube.ID)
	e.fb.FailNext(facebookfake.OpCreate, http.StatusServiceUnavailable, 2, 1) // Facebook's set-up fails once: retried later
	ls := e.create(e.input("facebook", "youtube"))
	if tg := target(t, ls, facebook.ID); tg.Status != livestream.TargetFailed || tg.NextAttemptAt.IsZero() {
		t.Fatalf("Facebook's set-up %+v", tg)
	}
	title, start := "Moved service", ls.ScheduledStart.Add(time.Hour)
	got, err := e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &title, ScheduledStart: &start,
		ScheduledEnd: new(start.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if u := target(t, got, facebook.ID).PlatformUpdate; u.Status != livestream.UpdateNotSetUp || !strings.Contains(u.Message, "set up with the new") {
		t.Fatalf("a target not set up yet: %+v", u)
	}
	e.at(target(t, got, facebook.ID).NextAttemptAt)
	e.run()
	fbID := target(t, e.get(ls.ID), facebook.ID).ExternalID
	if v, _ := e.fb.Video(fbID); v.Title != title || v.PlannedStart != start.Unix() {
		t.Fatalf("the retried set-up made %+v", v)
	}

	far := e.clock.Now().Add(8 * 24 * time.Hour).Truncate(time.Minute)
	renamed := "Moved again"
	got, err = e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &renamed, ScheduledStart: &far,
		ScheduledEnd: new(far.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	u := target(t, got, facebook.ID).PlatformUpdate
	if u.Status != livestream.UpdatePartial || !strings.Contains(u.Message, "Facebook keeps the planned start") {
		t.Errorf("a start beyond Facebook's window: %+v", u)
	}
	if v, _ := e.fb.Video(fbID); v.Title != renamed || v.PlannedStart != start.Unix() {
		t.Errorf("Facebook shows %+v, want the new title and the planned start it had", v)
	}
	if st := e.get(ls.ID); !st.ScheduledStart.Equal(far) || st.Title != renamed {
		t.Errorf("Switchboard lost the change: %+v", st)
	}
	if yt := target(t, got, youtube.ID).PlatformUpdate; yt.Status != livestream.UpdateApplied {
		t.Errorf("YouTube %+v", yt)
	}
}

// While a run holds the livestream (the scheduler claims it ahead of its
// start) a change is livestream_busy and reaches no platform.
func TestAChangeWhileARunHoldsTheLivestreamIsBusyAndReachesNoPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	ls := e.create(e.input("youtube"))
	stored := e.get(ls.ID)
	stored.ClaimOwner, stored.ClaimUntil = "scheduler-run", e.clock.Now().Add(90*time.Second)
	if err := e.cfg.Repo.Save(context.Background(), stored, livestream.Guard{Version: stored.Version, Now: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	title := "Too late"
	if _, err := e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &title}); code(err) != "livestream_busy" {
		t.Fatalf("a change while a run holds it: %v", err)
	}
	if n := e.yt.Calls(youtubefake.OpBroadcastUpdate); n != 0 {
		t.Fatalf("YouTube was sent %d updates", n)
	}
}

// A change is not sent to YouTube when the day's quota left cannot pay
// for it without the units reserved for the day's go-lives: the change
// stays in Switchboard, the target says why, and nothing is spent.
func TestAChangeIsNotSentWhenYouTubesQuotaLeftIsReservedForGoLives(t *testing.T) {
	t.Parallel()
	e := newQuotaEnv(t, 10000, sundayMorning)
	ls := e.create(e.input("youtube"))
	spent, reserved := e.units("2026-12-06")
	// Other users of the app spent all but what today's go-lives need, and 49 more.
	key := platform.QuotaKey{Platform: youtube.ID, Project: quotaProject, Day: "2026-12-06"}
	if err := e.fix.Store.QuotaLedger().AddUnits(context.Background(), key, 10000-spent-reserved-49, 0, sundayMorning.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	title := "Moved service"
	got, err := e.svc.Update(context.Background(), tenant, ls.ID, livestream.UpdateInput{Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	u := target(t, got, youtube.ID).PlatformUpdate
	if u.Status != livestream.UpdateFailed || u.Code != string(platform.ReasonQuota) || !strings.Contains(u.Message, "costs 50") {
		t.Errorf("%+v", u)
	}
	if n := e.yt.Calls(youtubefake.OpBroadcastUpdate); n != 0 || e.get(ls.ID).Title != title {
		t.Errorf("%d updates sent; title %q", n, e.get(ls.ID).Title)
	}
}
