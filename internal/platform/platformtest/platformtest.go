// Package platformtest holds what the platform clients' tests check alike.
package platformtest

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Reason is the reason of err, which must be a *platform.Error of the
// platform want; the test fails otherwise.
func Reason(t testing.TB, err error, want platform.ID) platform.Reason {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	pe, ok := platform.AsError(err)
	if !ok {
		t.Fatalf("not a platform error: %v", err)
	}
	if pe.Platform != want {
		t.Errorf("platform %q, want %q", pe.Platform, want)
	}
	return pe.Reason
}
