// Package ratelimit decides sliding-window limits: at most Limit
// acceptances in any Period (e.g. 10 deployments in any hour), exactly,
// however many deciders run at once.
//
// The rule is pure (Window.Decide over a State); storage is the caller's.
// A State is the instants accepted so far with a version. Exactness under
// concurrency comes from committing a decision conditionally on the
// version it was made from: Take loads, decides and commits, and when the
// commit finds the version moved (ErrContended) it decides again from a
// fresh load. Each attempt costs one read and at most one write, and a
// refusal costs only the read.
//
// Stored instants older than the period are dropped by every decision
// itself: a store's TTL may delete the state late, or never, and nothing
// here relies on it having done so.
package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// Window is a limit: at most Limit acceptances in any Period.
type Window struct {
	Limit  int
	Period time.Duration
}

// State is what a decision reads: the accepted instants (any order, may
// include expired ones) and the version they were stored at (0: nothing
// stored yet).
type State struct {
	Times   []time.Time
	Version int64
}

// Decision is the outcome of a decision, or the limit's state now.
type Decision struct {
	Allowed   bool
	Limit     int
	Remaining int       // acceptances still possible now (after this one, when allowed)
	ResetAt   time.Time // when the oldest counted acceptance leaves the window; now when none counts
	// RetryAfter is, when refused, how long until a slot frees.
	RetryAfter time.Duration
	// Times is the window to store when allowed: the live instants and
	// this acceptance, oldest first.
	Times []time.Time
	// At is the instant of this acceptance when allowed.
	At time.Time
}

// ResetIn is the time from now until ResetAt, never negative.
func (d Decision) ResetIn(now time.Time) time.Duration {
	return max(0, d.ResetAt.Sub(now))
}

// live is the instants still inside the window at now, oldest first. An
// instant t counts while now < t+Period.
func (w Window) live(times []time.Time, now time.Time) []time.Time {
	from := now.Add(-w.Period)
	out := make([]time.Time, 0, len(times)+1)
	for _, t := range times {
		if t.After(from) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// Check is the limit's state at now, without accepting anything: Allowed
// says whether one more acceptance would be.
func (w Window) Check(st State, now time.Time) Decision {
	live := w.live(st.Times, now)
	d := Decision{Limit: w.Limit, Remaining: max(0, w.Limit-len(live)), ResetAt: now}
	d.Allowed = d.Remaining > 0
	if len(live) > 0 {
		d.ResetAt = live[0].Add(w.Period)
	}
	if !d.Allowed {
		d.RetryAfter = w.retryAfter(live, now)
	}
	return d
}

// Decide accepts one more at now when the window has room. The instant
// recorded is now, or the newest recorded one when a decider's clock runs
// behind it, so the stored window stays ordered.
func (w Window) Decide(st State, now time.Time) Decision {
	live := w.live(st.Times, now)
	if len(live) >= w.Limit {
		d := Decision{Limit: w.Limit, ResetAt: now, RetryAfter: w.retryAfter(live, now)}
		if len(live) > 0 {
			d.ResetAt = live[0].Add(w.Period)
		}
		return d
	}
	at := now
	if n := len(live); n > 0 && live[n-1].After(at) {
		at = live[n-1]
	}
	times := append(live, at)
	return Decision{Allowed: true, Limit: w.Limit, Remaining: w.Limit - len(times),
		ResetAt: times[0].Add(w.Period), Times: times, At: at}
}

// retryAfter is how long until the oldest counted acceptance leaves the
// window (a whole period when the limit admits none at all).
func (w Window) retryAfter(live []time.Time, now time.Time) time.Duration {
	if len(live) == 0 || w.Limit <= 0 {
		return w.Period
	}
	return max(time.Nanosecond, live[0].Add(w.Period).Sub(now))
}

// ErrContended is what a commit returns (wrapped) when the state moved
// since it was loaded: another decider committed first.
var ErrContended = errors.New("ratelimit: the window changed since it was read")

// Taker runs decisions against a stored window.
type Taker struct {
	Window Window
	Now    func() time.Time
	// Attempts bounds how often a contended decision is made again (25
	// when zero). Every round of contention lets at least one decider
	// through, so this is more than a limit's worth of concurrent rivals.
	Attempts int
}

// Take decides from first (a state just loaded) and commits an acceptance
// with commit; when the commit is contended it loads again and decides
// again, at most Attempts times. A refusal is a Decision with Allowed
// false and no error. When contention outlasts the attempts the answer is
// Unavailable: nothing was accepted, and trying again soon can succeed.
func (t Taker) Take(ctx context.Context, first State, load func(context.Context) (State, error),
	commit func(context.Context, State, Decision) error) (Decision, error) {
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 25
	}
	st := first
	for attempt := 1; ; attempt++ {
		d := t.Window.Decide(st, t.Now())
		if !d.Allowed {
			return d, nil
		}
		err := commit(ctx, st, d)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, ErrContended) {
			return Decision{}, err
		}
		if attempt >= attempts {
			e := apperr.Wrap(apperr.Unavailable, apperr.CodeRateLimitBusy, "too many requests are being decided at once; try again shortly", err)
			e.RetryAfter = time.Second
			return Decision{}, e
		}
		// A little jitter so that rivals do not collide again in step.
		wait := time.Duration(rand.Int64N(int64(min(50*time.Millisecond, time.Millisecond<<min(attempt, 6))) + 1)) //nolint:gosec // jitter
		select {
		case <-ctx.Done():
			return Decision{}, ctx.Err()
		case <-time.After(wait):
		}
		if st, err = load(ctx); err != nil {
			return Decision{}, err
		}
	}
}
