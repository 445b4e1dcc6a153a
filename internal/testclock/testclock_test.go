package testclock_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/testclock"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t.Parallel()
	var c testclock.Clock
	if d := time.Since(c.Now()); d < -time.Second || d > time.Second {
		t.Fatalf("a new clock is %s off the real time", d)
	}
	c.Advance(time.Hour)
	if d := time.Until(c.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("advanced by an hour, the clock is %s ahead", d)
	}
	at := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
	c.Set(at)
	if d := c.Now().Sub(at); d < 0 || d > time.Second {
		t.Fatalf("set to %s, the clock reads %s", at, c.Now())
	}
	if err := c.Sleep(context.Background(), time.Minute); err != nil || c.Now().Sub(at) < time.Minute {
		t.Fatalf("sleep did not move the clock: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Minute); err == nil {
		t.Fatal("sleep on a done context succeeded")
	}
}
