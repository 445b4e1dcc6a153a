package platform_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
)

func TestSleepWaitsOrEndsWithItsContext(t *testing.T) {
	t.Parallel()
	if err := platform.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep on a live context = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := platform.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("Sleep on a cancelled context waited %v", waited)
	}
}

func TestMissingStepIsAnInvalidRequestNamingWhatIsMissing(t *testing.T) {
	t.Parallel()
	err := platform.MissingStep(render.ID, "start the deploy", "the service")
	pe, ok := platform.AsError(err)
	if !ok || pe.Platform != render.ID || pe.Op != "start the deploy" || pe.Reason != platform.ReasonInvalid {
		t.Fatalf("MissingStep = %#v, want a render %q error with reason invalid", err, "start the deploy")
	}
	if want := "the service is not known yet: an earlier step has not run"; pe.Message != want {
		t.Errorf("message %q, want %q", pe.Message, want)
	}
}
