// Package testclock is a controllable clock for tests: it starts at the
// real time (fakes and emulators on loopback check times against it) and
// moves only when told, so time-dependent rules run without waiting.
package testclock

import (
	"context"
	"sync"
	"time"
)

// Clock is safe for concurrent use; the zero value reads the real time.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the clock's time: the real time plus whatever it was moved by.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock on by d (back, when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Set makes Now t, moving on from there at the real pace.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.off = time.Until(t)
	c.mu.Unlock()
}

// Sleep moves the clock on by d instead of waiting, so polls and backoffs
// take no real time; it fails only when ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// SleepUntil moves the clock on to t instead of waiting for it, and leaves
// it where it is when it is there already (it never moves back), so that
// concurrent sleepers each wake at or after their time; it fails only when
// ctx is done.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if d := time.Until(t) - c.off; d > 0 {
		c.off += d
	}
	c.mu.Unlock()
	return nil
}
