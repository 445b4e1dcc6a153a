package youtube_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

// memLedger is a QuotaLedger in memory (the DynamoDB one is tested in the
// livestream package, over DynamoDB Local).
type memLedger struct {
	mu       sync.Mutex
	spent    map[platform.QuotaKey]int64
	reserved map[platform.QuotaKey]int64
}

func newMemLedger() *memLedger {
	return &memLedger{spent: map[platform.QuotaKey]int64{}, reserved: map[platform.QuotaKey]int64{}}
}

func (l *memLedger) AddUnits(_ context.Context, k platform.QuotaKey, spent, reserved int64, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spent[k] += spent
	l.reserved[k] += reserved
	return nil
}

func (l *memLedger) Units(_ context.Context, k platform.QuotaKey) (int64, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spent[k], l.reserved[k], nil
}

// Each call is counted at YouTube's cost, each attempt of it: a read that
// YouTube answered with a backend error and that the client tried again
// costs twice; a refused write costs its full price.
func TestEveryAttemptIsCountedAtItsCost(t *testing.T) {
	t.Parallel()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	ledger := newMemLedger()
	now := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC) // 10:00 Pacific
	c := youtube.New(&http.Client{Timeout: 5 * time.Second}, fake.URL, youtube.WithClock(func() time.Time { return now }),
		youtube.WithLedger(ledger, "client-1", 0))
	ctx := context.Background()
	day := platform.QuotaKey{Platform: youtube.ID, Project: "client-1", Day: "2026-12-06"}

	if _, err := c.Whoami(ctx, token); err != nil {
		t.Fatal(err)
	}
	if ledger.spent[day] != 1 {
		t.Fatalf("channels.list counted %d, want 1", ledger.spent[day])
	}
	sp := spec()
	b, err := c.Provision(ctx, token, sp)
	if err != nil {
		t.Fatal(err)
	}
	if got := ledger.spent[day]; got != 1+150 {
		t.Fatalf("after a broadcast, a stream and a bind: %d, want 151", got)
	}
	fake.FailNext(youtubefake.OpBroadcastList, http.StatusServiceUnavailable, "backendError", 1)
	if _, err := c.State(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if got := ledger.spent[day]; got != 151+2 {
		t.Errorf("a read tried twice: %d, want 153", got)
	}
	fake.FailNext(youtubefake.OpBroadcastTransition, http.StatusForbidden, "invalidTransition", 1)
	if err := c.GoLive(ctx, token, b); err == nil {
		t.Fatal("the go-live was not refused")
	}
	if got := ledger.spent[day]; got != 153+50 {
		t.Errorf("a refused transition: %d, want 203", got)
	}
	q, err := c.Quota(ctx, now)
	if err != nil || q.Limit != youtube.DefaultDailyQuota || q.Spent != 203 || q.Left() != 10000-203 {
		t.Errorf("quota %+v %v", q, err)
	}
	if err := c.Reserve(ctx, sp.ScheduledStart, 100); err != nil || ledger.reserved[day] != 100 {
		t.Errorf("reserve: %v, %d reserved", err, ledger.reserved[day])
	}
}

// A client built without a ledger counts nothing and says so.
func TestWithoutALedgerNothingIsMetered(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	if _, err := c.Quota(context.Background(), time.Now()); !errors.Is(err, platform.ErrNotMetered) {
		t.Errorf("Quota without a ledger: %v, want ErrNotMetered", err)
	}
}

// YOUTUBE_DAILY_QUOTA takes whole units above zero.
func TestTheDailyQuotaSetting(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]int64{"": 10000, "1000000": 1000000} {
		if got, err := youtube.DailyQuota(v); err != nil || got != want {
			t.Errorf("%q: %d %v", v, got, err)
		}
	}
	for _, v := range []string{"0", "-5", "ten", "1.5"} {
		if _, err := youtube.DailyQuota(v); err == nil {
			t.Errorf("%q was taken", v)
		}
	}
}
