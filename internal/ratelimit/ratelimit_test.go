package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(mins ...float64) []time.Time {
	out := make([]time.Time, len(mins))
	for i, m := range mins {
		out[i] = t0.Add(time.Duration(m * float64(time.Minute)))
	}
	return out
}

func TestDecideCountsOnlyTheSlidingHour(t *testing.T) {
	t.Parallel()
	w := ratelimit.Window{Limit: 3, Period: time.Hour}
	cases := []struct {
		name       string
		times      []time.Time
		now        time.Time
		allowed    bool
		remaining  int
		retryAfter time.Duration
		resetAt    time.Time
	}{
		{"empty window accepts", nil, t0, true, 2, 0, t0.Add(time.Hour)},
		{"two in the hour accept a third", at(0, 10), t0.Add(20 * time.Minute), true, 0, 0, t0.Add(time.Hour)},
		{"three in the hour refuse until the oldest leaves", at(0, 10, 20), t0.Add(30 * time.Minute), false, 0, 30 * time.Minute, t0.Add(time.Hour)},
		{"the oldest leaves exactly an hour later", at(0, 10, 20), t0.Add(time.Hour), true, 0, 0, t0.Add(70 * time.Minute)},
		{"a nanosecond before, it still counts", at(0, 10, 20), t0.Add(time.Hour - 1), false, 0, 1, t0.Add(time.Hour)},
		{"expired instants a TTL has not removed are ignored", at(-300, -120, -61, 0), t0.Add(time.Minute), true, 1, 0, t0.Add(time.Hour)},
		{"order of the stored instants does not matter", at(20, 0, 10), t0.Add(30 * time.Minute), false, 0, 30 * time.Minute, t0.Add(time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := w.Decide(ratelimit.State{Times: c.times, Version: 4}, c.now)
			if d.Allowed != c.allowed || d.Remaining != c.remaining || d.RetryAfter != c.retryAfter || !d.ResetAt.Equal(c.resetAt) {
				t.Fatalf("Decide = allowed %v remaining %d retryAfter %v resetAt %v; want %v %d %v %v",
					d.Allowed, d.Remaining, d.RetryAfter, d.ResetAt, c.allowed, c.remaining, c.retryAfter, c.resetAt)
			}
			if d.Allowed {
				if n := len(d.Times); n == 0 || !d.Times[n-1].Equal(c.now) || !d.At.Equal(c.now) {
					t.Fatalf("the acceptance is not recorded at now: %v", d.Times)
				}
				for _, tm := range d.Times {
					if !tm.After(c.now.Add(-time.Hour)) {
						t.Fatalf("an expired instant is kept: %v", d.Times)
					}
				}
			}
		})
	}
}

func TestCheckReportsWithoutAccepting(t *testing.T) {
	t.Parallel()
	w := ratelimit.Window{Limit: 2, Period: time.Hour}
	now := t0.Add(5 * time.Minute)
	if d := w.Check(ratelimit.State{}, now); !d.Allowed || d.Remaining != 2 || !d.ResetAt.Equal(now) || d.Times != nil {
		t.Fatalf("empty: %+v", d)
	}
	d := w.Check(ratelimit.State{Times: at(0, 1)}, now)
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 55*time.Minute || !d.ResetAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("full: %+v", d)
	}
}

func TestAClockBehindTheNewestInstantKeepsTheWindowOrdered(t *testing.T) {
	t.Parallel()
	w := ratelimit.Window{Limit: 5, Period: time.Hour}
	d := w.Decide(ratelimit.State{Times: at(10)}, t0.Add(9*time.Minute))
	if !d.Allowed || !d.At.Equal(t0.Add(10*time.Minute)) || len(d.Times) != 2 {
		t.Fatalf("%+v", d)
	}
}

// memoryWindow is a versioned window in memory with the store's commit
// rule: a commit from a stale version is contended.
type memoryWindow struct {
	mu    sync.Mutex
	st    ratelimit.State
	loads int
}

func (m *memoryWindow) load(context.Context) (ratelimit.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	return ratelimit.State{Times: append([]time.Time(nil), m.st.Times...), Version: m.st.Version}, nil
}

func (m *memoryWindow) commit(_ context.Context, from ratelimit.State, d ratelimit.Decision) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if from.Version != m.st.Version {
		return ratelimit.ErrContended
	}
	m.st = ratelimit.State{Times: d.Times, Version: from.Version + 1}
	return nil
}

func TestTakeAcceptsExactlyTheLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	m := &memoryWindow{}
	taker := ratelimit.Taker{Window: ratelimit.Window{Limit: 10, Period: time.Hour}, Now: func() time.Time { return t0 }}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for range 50 {
		wg.Go(func() {
			first, _ := m.load(context.Background())
			d, err := taker.Take(context.Background(), first, m.load, m.commit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("Take: %v", err)
			case d.Allowed:
				accepted++
			default:
				refused++
			}
		})
	}
	wg.Wait()
	if accepted != 10 || refused != 40 || len(m.st.Times) != 10 {
		t.Fatalf("accepted %d, refused %d, window %d", accepted, refused, len(m.st.Times))
	}
}

func TestTakeGivesUpAsUnavailableWhenContentionOutlastsItsAttempts(t *testing.T) {
	t.Parallel()
	taker := ratelimit.Taker{Window: ratelimit.Window{Limit: 10, Period: time.Hour}, Now: func() time.Time { return t0 }, Attempts: 3}
	commits := 0
	load := func(context.Context) (ratelimit.State, error) { return ratelimit.State{}, nil }
	commit := func(context.Context, ratelimit.State, ratelimit.Decision) error {
		commits++
		return ratelimit.ErrContended
	}
	_, err := taker.Take(context.Background(), ratelimit.State{}, load, commit)
	if !apperr.Is(err, apperr.Unavailable) || commits != 3 {
		t.Fatalf("err %v after %d commits", err, commits)
	}
}

func TestTakePassesOtherCommitFailuresThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	taker := ratelimit.Taker{Window: ratelimit.Window{Limit: 1, Period: time.Hour}, Now: func() time.Time { return t0 }}
	_, err := taker.Take(context.Background(), ratelimit.State{},
		func(context.Context) (ratelimit.State, error) { return ratelimit.State{}, nil },
		func(context.Context, ratelimit.State, ratelimit.Decision) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}
