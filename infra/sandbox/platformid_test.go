package sandbox

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

// Each fake's PlatformID is a registered platform's, once: a typo would
// leave that platform's API URL unset and the sandbox calling the vendor.
func TestEachFakeNamesOneRegisteredPlatform(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, id := range []string{youtubefake.PlatformID, facebookfake.PlatformID, instagramfake.PlatformID,
		zoomfake.PlatformID, googlemeetfake.PlatformID, teamsfake.PlatformID, vercelfake.PlatformID,
		railwayfake.PlatformID, restreamfake.PlatformID, renderfake.PlatformID} {
		if _, ok := registry.Lookup(id); !ok {
			t.Errorf("fake PlatformID %q is no registered platform", id)
		}
		if seen[id] {
			t.Errorf("two fakes stand in for %q", id)
		}
		seen[id] = true
	}
}
