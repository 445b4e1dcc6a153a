package youtube

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

func TestLifeCycleStatusesMapToBroadcastStates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]platform.BroadcastState{
		"created": platform.BroadcastPending, "ready": platform.BroadcastReady,
		"testStarting": platform.BroadcastReady, "testing": platform.BroadcastReady,
		"liveStarting": platform.BroadcastLive, "live": platform.BroadcastLive,
		"complete": platform.BroadcastEnded, "revoked": platform.BroadcastFailed,
		"lifeCycleStatusUnspecified": platform.BroadcastPending,
	} {
		if got := stateOf(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
