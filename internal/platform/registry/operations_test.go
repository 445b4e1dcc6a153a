package registry_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// The capabilities GET /platforms advertises for the optional operations
// (ending or changing a broadcast, ending or deleting a meeting) are exactly the
// operation interfaces every client of the platform implements: a
// registration that declares one its client lacks, or misses one its
// client has, fails here.
func TestAdvertisedOperationsAreTheOnesTheClientsImplement(t *testing.T) {
	t.Parallel()
	clients := map[platform.ID][]any{
		youtube.ID:    {(*youtube.Client)(nil)},
		facebook.ID:   {(*facebook.Client)(nil)},
		instagram.ID:  {(*instagram.Client)(nil)},
		restream.ID:   {(*restream.Client)(nil)},
		zoom.ID:       {(*zoom.Client)(nil)},
		googlemeet.ID: {(*googlemeet.Client)(nil)},
		teams.ID:      {(*teams.Client)(nil)},
		// Both kinds of Jitsi client serve the one platform.
		jitsi.ID: {(*jitsi.PublicRooms)(nil), (*jitsi.JaaS)(nil)},
	}
	ops := []platform.Capability{platform.CapBroadcastEnd, platform.CapBroadcastUpdate, platform.CapMeetingEnd, platform.CapMeetingDelete}
	for _, r := range registry.Registrations() {
		if r.Kind != platform.KindLivestream && r.Kind != platform.KindMeeting {
			continue
		}
		cs, ok := clients[r.ID]
		if !ok {
			t.Errorf("%s: no client type listed here to check its capabilities against", r.ID)
			continue
		}
		for _, c := range cs {
			for _, op := range ops {
				if got, want := r.Supports(op), platform.Implements(c, op); got != want {
					t.Errorf("%s advertises %s = %v, but %T implements it = %v", r.ID, op, got, c, want)
				}
			}
		}
	}
}

// The livestream and meeting services find an optional operation by type
// assertion on these interfaces; a client that has the method with another
// signature would silently lose it, so the clients that have a call say so
// at compile time too.
var (
	_ platform.GoLiver        = (*youtube.Client)(nil)
	_ platform.Ender          = (*youtube.Client)(nil)
	_ platform.Canceller      = (*youtube.Client)(nil)
	_ platform.GoLiver        = (*facebook.Client)(nil)
	_ platform.Ender          = (*facebook.Client)(nil)
	_ platform.Canceller      = (*facebook.Client)(nil)
	_ platform.Updater        = (*youtube.Client)(nil)
	_ platform.Updater        = (*facebook.Client)(nil)
	_ platform.MeetingEnder   = (*zoom.Client)(nil)
	_ platform.MeetingDeleter = (*zoom.Client)(nil)
	_ platform.MeetingEnder   = (*googlemeet.Client)(nil)
	_ platform.MeetingDeleter = (*googlemeet.Client)(nil)
	_ platform.MeetingDeleter = (*teams.Client)(nil)
	// meeting.update is not in ops above: Jitsi's JaaS client changes a
	// meeting (its links are signed again) while its public rooms, only a
	// link, need no call, so the one platform has both answers.
	_ platform.MeetingUpdater = (*zoom.Client)(nil)
	_ platform.MeetingUpdater = (*googlemeet.Client)(nil)
	_ platform.MeetingUpdater = (*teams.Client)(nil)
	_ platform.MeetingUpdater = (*jitsi.JaaS)(nil)
)
