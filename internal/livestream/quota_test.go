package livestream_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

const quotaProject = "1234-test.apps.googleusercontent.com"

// newQuotaEnv is newEnv with YouTube's client counting its calls in the
// table's quota ledger against a daily quota of daily units, the clock at
// now.
func newQuotaEnv(t *testing.T, daily int64, now time.Time) *env {
	t.Helper()
	e := newEnv(t)
	e.at(now)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: e.stamps}
	e.cfg.Broadcasters[youtube.ID] = youtube.New(hc, e.yt.URL, youtube.WithClock(e.clock.Now),
		youtube.WithLedger(e.fix.Store.QuotaLedger(), quotaProject, daily))
	e.svc = livestream.New(e.cfg)
	e.connect(tenant, youtube.ID)
	return e
}

// units reads the ledger of the Pacific day day.
func (e *env) units(day string) (spent, reserved int64) {
	e.t.Helper()
	spent, reserved, err := e.fix.Store.QuotaLedger().Units(context.Background(),
		platform.QuotaKey{Platform: youtube.ID, Project: quotaProject, Day: day})
	if err != nil {
		e.t.Fatal(err)
	}
	return spent, reserved
}

// ytUnits is what the YouTube fake received, at YouTube's costs: a list
// (GET) 1 unit, an insert, bind, transition or delete 50.
func (e *env) ytUnits() int64 {
	var n int64
	for _, r := range e.yt.Requests() {
		if r.Method == http.MethodGet {
			n++
		} else {
			n += 50
		}
	}
	return n
}

// 10:00 Pacific Standard Time on Sunday 6 December 2026.
var sundayMorning = time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)

// The ledger holds back the go-live and end of every livestream that
// starts before the quota resets; a create that would eat into them is
// refused plainly, with the units left and the reset, and nothing is done
// at YouTube.
func TestACreateThatWouldStarveADueStartIsRefused(t *testing.T) {
	t.Parallel()
	e := newQuotaEnv(t, 400, sundayMorning)
	ctx := context.Background()

	first := e.create(e.input("youtube")) // starts at 11:00 PT, today
	spent, reserved := e.units("2026-12-06")
	if spent != e.ytUnits() || spent != 150 || reserved != 100 {
		t.Fatalf("after the first create: spent %d (fake saw %d units), reserved %d; want 150 (a kept stream, a broadcast, a bind) and 100 (go-live and end)",
			spent, e.ytUnits(), reserved)
	}
	if tg := target(t, first, youtube.ID); tg.QuotaReserved != 100 {
		t.Fatalf("the target holds %d units of the reserve, want 100", tg.QuotaReserved)
	}

	// 250 left, 100 of them for the 11:00 go-live and end: a second one
	// today needs 100 to set up (a kept stream) but is counted at 150, plus
	// 100 of its own reserve. 400-150-100 = 150 < 250: refused.
	calls := len(e.yt.Requests())
	in := e.input("youtube")
	in.ScheduledStart = in.ScheduledStart.Add(time.Hour)
	in.ScheduledEnd = in.ScheduledEnd.Add(time.Hour)
	_, err := e.svc.Create(ctx, tenant, "user-1", in)
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.CodeQuotaReserved || ae.Kind != apperr.RateLimited {
		t.Fatalf("a create eating into the reserve: %v, want a rate_limited quota_reserved problem", err)
	}
	reset := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC) // midnight Pacific Standard Time
	for _, want := range []string{"YouTube", "250 of 400 units left", "100 of them reserved", reset.Format(time.RFC3339), "needs 250"} {
		if !strings.Contains(ae.Detail, want) {
			t.Errorf("the refusal %q does not say %q", ae.Detail, want)
		}
	}
	if d := reset.Sub(sundayMorning) - ae.RetryAfter; d < 0 || d > time.Second {
		t.Errorf("RetryAfter %v, want until the reset %v", ae.RetryAfter, reset.Sub(sundayMorning))
	}
	if n := len(e.yt.Requests()); n != calls {
		t.Errorf("the refused create made %d YouTube calls", n-calls)
	}
	if s, r := e.units("2026-12-06"); s != 150 || r != 100 {
		t.Errorf("the refused create changed the ledger: spent %d reserved %d", s, r)
	}

	// Tomorrow's livestream is set up today (150 <= 150 free) and reserves
	// on tomorrow's day.
	in.ScheduledStart, in.ScheduledEnd = in.ScheduledStart.Add(24*time.Hour), in.ScheduledEnd.Add(24*time.Hour)
	if _, err := e.svc.Create(ctx, tenant, "user-1", in); err != nil {
		t.Fatalf("a livestream for tomorrow: %v", err)
	}
	spent, reserved = e.units("2026-12-06")
	if spent != e.ytUnits() || reserved != 100 {
		t.Fatalf("today after tomorrow's create: spent %d (fake %d) reserved %d", spent, e.ytUnits(), reserved)
	}
	if _, r := e.units("2026-12-07"); r != 100 {
		t.Fatalf("tomorrow's reserve is %d, want 100", r)
	}

	// The first one's go-live spends 50 and gives its 50 back; its end the
	// rest.
	e.yt.PushAll()
	e.at(first.ScheduledStart)
	e.run()
	if got := e.get(first.ID); got.Status != livestream.StatusLive {
		t.Fatalf("the first livestream is %s, want live", got.Status)
	}
	spent, reserved = e.units("2026-12-06")
	if spent != e.ytUnits() || reserved != 50 {
		t.Fatalf("after the go-live: spent %d (fake %d) reserved %d, want 50 reserved", spent, e.ytUnits(), reserved)
	}
	e.at(first.ScheduledEnd)
	e.run()
	if _, reserved = e.units("2026-12-06"); reserved != 0 {
		t.Fatalf("after the end %d units are still reserved", reserved)
	}
}

// Cancelling a scheduled livestream gives its reserve back; moving its
// start to another day moves the reserve.
func TestCancelAndMoveGiveTheReserveBack(t *testing.T) {
	t.Parallel()
	e := newQuotaEnv(t, 10000, sundayMorning)
	ctx := context.Background()
	a, b := e.create(e.input("youtube")), e.create(e.input("youtube"))
	if _, r := e.units("2026-12-06"); r != 200 {
		t.Fatalf("two livestreams reserve %d, want 200", r)
	}
	if err := e.svc.Cancel(ctx, tenant, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, r := e.units("2026-12-06"); r != 100 {
		t.Fatalf("after a cancel %d are reserved, want 100", r)
	}
	next := b.ScheduledStart.Add(48 * time.Hour)
	if _, err := e.svc.Update(ctx, tenant, b.ID, livestream.UpdateInput{ScheduledStart: &next, ScheduledEnd: new(next.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, r := e.units("2026-12-06"); r != 0 {
		t.Errorf("after moving the start %d are still reserved today", r)
	}
	if _, r := e.units("2026-12-08"); r != 100 {
		t.Errorf("the new start's day reserves %d, want 100", r)
	}
	if tg := target(t, e.get(b.ID), youtube.ID); !tg.QuotaReservedFor.Equal(next) || tg.QuotaReserved != 100 {
		t.Errorf("the target says it reserved %d for %v", tg.QuotaReserved, tg.QuotaReservedFor)
	}
}

// YouTube's quota resets at midnight Pacific Time: a call a minute before
// counts on the old day, one a minute after on the new one, whatever UTC
// says, in winter (PST, UTC-8) and summer (PDT, UTC-7).
func TestTheLedgerRollsOverAtMidnightPacific(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		midnight time.Time // 00:00 Pacific of new
		old, new string
	}{
		{"winter", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), "2026-12-06", "2026-12-07"},
		{"summer", time.Date(2026, 7, 5, 7, 0, 0, 0, time.UTC), "2026-07-04", "2026-07-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newQuotaEnv(t, 10000, tc.midnight.Add(-time.Minute))
			yt := e.cfg.Broadcasters[youtube.ID]
			ctx := context.Background()
			if _, err := yt.Whoami(ctx, e.token(tenant, youtube.ID)); err != nil {
				t.Fatal(err)
			}
			q, err := yt.(platform.QuotaMeter).Quota(ctx, e.clock.Now())
			if err != nil || q.Spent != 1 || !q.Reset.Equal(tc.midnight) {
				t.Fatalf("before midnight: %+v %v, want 1 spent and the reset at %v", q, err, tc.midnight)
			}
			e.at(tc.midnight.Add(time.Minute))
			if _, err := yt.Whoami(ctx, e.token(tenant, youtube.ID)); err != nil {
				t.Fatal(err)
			}
			if s, _ := e.units(tc.old); s != 1 {
				t.Errorf("the old day %s has %d spent, want 1", tc.old, s)
			}
			if s, _ := e.units(tc.new); s != 1 {
				t.Errorf("the new day %s has %d spent, want 1", tc.new, s)
			}
			q, _ = yt.(platform.QuotaMeter).Quota(ctx, e.clock.Now())
			if q.Spent != 1 || !q.Reset.Equal(tc.midnight.Add(24*time.Hour)) {
				t.Errorf("after midnight: %+v", q)
			}
		})
	}
}

// The preflight's quota check: pass with the units left, warn when the
// day is reserved beyond what is left, fail when the go-live cannot be
// paid for; a platform without a quota has no such check.
func TestThePreflightChecksTheQuota(t *testing.T) {
	t.Parallel()
	e := newQuotaEnv(t, 1000, sundayMorning)
	ctx := context.Background()
	e.connect(tenant, "facebook")
	ls := e.create(e.input("youtube", "facebook"))
	check := func() (livestream.Check, livestream.Target) {
		t.Helper()
		got, err := e.svc.Check(ctx, tenant, ls.ID)
		if err != nil {
			t.Fatal(err)
		}
		return checkOf(t, target(t, got, youtube.ID), livestream.CheckQuota), target(t, got, "facebook")
	}
	c, fb := check()
	if c.Status != livestream.CheckPass || !strings.Contains(c.Message, "of 1000 units left, 100 reserved") {
		t.Errorf("a quota with room: %+v", c)
	}
	for _, fc := range fb.Checks {
		if fc.Name == livestream.CheckQuota {
			t.Errorf("Facebook has a quota check: %+v", fc)
		}
	}
	day := platform.QuotaKey{Platform: youtube.ID, Project: quotaProject, Day: "2026-12-06"}
	ledger := e.fix.Store.QuotaLedger()
	// Others reserve what is left: warn.
	spent, _ := e.units(day.Day)
	if err := ledger.AddUnits(ctx, day, 0, 1000-spent, sundayMorning.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, _ := check(); c.Status != livestream.CheckWarn || !strings.Contains(c.Message, "reserved for the go-lives") {
		t.Errorf("an over-reserved day: %+v", c)
	}
	// Others spent it: fail, with the reset.
	spent, _ = e.units(day.Day)
	if err := ledger.AddUnits(ctx, day, 1000-spent-10, 0, sundayMorning.Add(72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if c, _ := check(); c.Status != livestream.CheckFail || !strings.Contains(c.Message, "2026-12-07T08:00:00Z") {
		t.Errorf("a spent quota: %+v", c)
	}
}

// countingLedger counts the ledger's writes.
type countingLedger struct {
	platform.QuotaLedger
	writes atomic.Int64
}

func (c *countingLedger) AddUnits(ctx context.Context, k platform.QuotaKey, spent, reserved int64, expires time.Time) error {
	c.writes.Add(1)
	return c.QuotaLedger.AddUnits(ctx, k, spent, reserved, expires)
}

// At a go-live's second every write to the day's one ledger entry counts:
// the go-live's call and the return of its reservation are one write, as
// are the end's; the totals are what two writes would make them.
func TestAGoLiveAndAnEndEachWriteTheLedgerOncePerCall(t *testing.T) {
	t.Parallel()
	e := newQuotaEnv(t, 10000, sundayMorning)
	ledger := &countingLedger{QuotaLedger: e.fix.Store.QuotaLedger()}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: e.stamps}
	e.cfg.Broadcasters[youtube.ID] = youtube.New(hc, e.yt.URL, youtube.WithClock(e.clock.Now),
		youtube.WithLedger(ledger, quotaProject, 10000))
	e.svc = livestream.New(e.cfg)
	ls := e.create(e.input("youtube"))
	e.yt.PushAll()
	for _, step := range []struct {
		name     string
		at       time.Time
		reserved int64
	}{{"go-live", ls.ScheduledStart, 50}, {"end", ls.ScheduledEnd, 0}} {
		writes, calls := ledger.writes.Load(), len(e.yt.Requests())
		e.at(step.at)
		e.run()
		made := int64(len(e.yt.Requests()) - calls)
		if made == 0 || ledger.writes.Load()-writes != made {
			t.Errorf("%s: %d YouTube calls, %d ledger writes; want one write each", step.name, made, ledger.writes.Load()-writes)
		}
		spent, reserved := e.units("2026-12-06")
		if spent != e.ytUnits() || reserved != step.reserved || target(t, e.get(ls.ID), youtube.ID).QuotaReserved != step.reserved {
			t.Errorf("%s: spent %d (fake %d), reserved %d (target %d), want %d", step.name, spent, e.ytUnits(), reserved,
				target(t, e.get(ls.ID), youtube.ID).QuotaReserved, step.reserved)
		}
	}
}
