package livestream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

func checkOf(t *testing.T, tg livestream.Target, name string) livestream.Check {
	t.Helper()
	for _, c := range tg.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check on %s: %+v", name, tg.Platform, tg.Checks)
	return livestream.Check{}
}

// An expired Facebook token and a silent encoder at YouTube: the check on
// demand says each plainly, on its target, and keeps it on the livestream.
func TestAPreflightReportsAnExpiredTokenAndASilentEncoderPlainly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, facebook.ID, restream.ID)
	ls := e.create(e.input("youtube", "facebook", "restream"))
	e.fb.RejectToken(e.token(tenant, facebook.ID)) // Facebook no longer takes it

	got, err := e.svc.Check(context.Background(), tenant, ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	yt, fb, rs := target(t, got, youtube.ID), target(t, got, facebook.ID), target(t, got, restream.ID)
	if c := checkOf(t, yt, livestream.CheckEncoder); c.Status != livestream.CheckWarn || !strings.Contains(c.Message, "not pushing to YouTube") {
		t.Errorf("YouTube's silent encoder: %+v", c)
	}
	if c := checkOf(t, yt, livestream.CheckAccount); c.Status != livestream.CheckPass {
		t.Errorf("YouTube's account: %+v", c)
	}
	if c := checkOf(t, fb, livestream.CheckAccount); c.Status != livestream.CheckFail || !strings.Contains(c.Message, "reconnect Facebook") {
		t.Errorf("Facebook's refused token: %+v", c)
	}
	if c := checkOf(t, rs, livestream.CheckEncoder); c.Status != livestream.CheckUnsupported {
		t.Errorf("Restream's encoder: %+v", c)
	}
	// The refusal marked the connection expired; the results are kept.
	conn, err := e.fix.Store.Connections().Get(context.Background(), tenant, facebook.ID)
	if err != nil || conn.Status != connection.StatusExpired {
		t.Fatalf("the Facebook connection after the refusal: %v %v", conn.Status, err)
	}
	stored := e.get(ls.ID)
	if checkOf(t, target(t, stored, facebook.ID), livestream.CheckAccount).Status != livestream.CheckFail || stored.CheckedAt.IsZero() {
		t.Fatalf("the checks were not kept: %+v", stored.Targets)
	}

	// The encoder starts: a second check says so, and that Facebook's
	// connection cannot be used until it is reconnected.
	e.yt.PushAll()
	got, err = e.svc.Check(context.Background(), tenant, ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, target(t, got, youtube.ID), livestream.CheckEncoder); c.Status != livestream.CheckPass {
		t.Errorf("YouTube's pushing encoder: %+v", c)
	}
	if c := checkOf(t, target(t, got, facebook.ID), livestream.CheckConnection); c.Status != livestream.CheckFail {
		t.Errorf("Facebook's expired connection: %+v", c)
	}
	noSecretIn(t, "the checks", e.rawItems(), e.secrets([]*livestream.Livestream{got}))
}

// The scheduler runs the preflight 30 and 10 minutes before the start, and
// the start still happens on its second.
func TestTheSchedulerChecksThirtyAndTenMinutesBeforeTheStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	ls := e.create(e.input("youtube"))
	if !ls.DueAt.Equal(ls.ScheduledStart.Add(-30 * time.Minute)) {
		t.Fatalf("due at %s, want 30 minutes before the start", ls.DueAt)
	}
	for _, before := range []time.Duration{30 * time.Minute, 10 * time.Minute} {
		e.at(ls.ScheduledStart.Add(-before - 20*time.Second))
		if rep := e.run(); rep.Done != 1 {
			t.Fatalf("the run %s before the start: %+v", before, rep)
		}
		got := e.get(ls.ID)
		if d := got.CheckedAt.Sub(ls.ScheduledStart.Add(-before)); d < 0 || d > 5*time.Second {
			t.Fatalf("checked at %s, want at %s before the start", got.CheckedAt, before)
		}
		if len(target(t, got, youtube.ID).Checks) != 3 {
			t.Fatalf("checks %+v", target(t, got, youtube.ID).Checks)
		}
	}
	if got := e.get(ls.ID); !got.DueAt.Equal(ls.ScheduledStart) {
		t.Fatalf("after the checks due at %s, want the start", got.DueAt)
	}
	e.yt.PushAll()
	e.at(ls.ScheduledStart.Add(-45 * time.Second))
	e.run()
	onTime(t, "go-live", e.stamps.goLiveTimes(), ls.ScheduledStart, 1)
}
