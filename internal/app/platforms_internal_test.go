package app

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// sortedIDs are a map's platforms, sorted.
func sortedIDs[V any](m map[platform.ID]V) []platform.ID {
	return slices.Sorted(maps.Keys(m))
}

// The maps derived by interface over the registry are the ones the app
// held by hand before: every platform but Jitsi reads accounts, the key
// platforms verify keys, Meta revokes grants, and the deploy platforms
// deploy.
func TestPlatformClientsPickEachPartByInterface(t *testing.T) {
	t.Parallel()
	d := &Deps{HTTP: http.DefaultClient}
	ps := d.platformClients(nil)
	d.built.clients = &ps
	tests := []struct {
		name      string
		got, want []platform.ID
	}{
		{"account readers", sortedIDs(ps.accounts), []platform.ID{youtube.ID, facebook.ID, instagram.ID,
			zoom.ID, googlemeet.ID, teams.ID, vercel.ID, railway.ID,
			restream.ID, render.ID}},
		{"key verifiers", sortedIDs(ps.keys), []platform.ID{vercel.ID, railway.ID, render.ID, jitsi.ID}},
		{"grant revokers", sortedIDs(ps.revokers), []platform.ID{facebook.ID, instagram.ID}},
		{"deployers", sortedIDs(d.deployers()), []platform.ID{vercel.ID, railway.ID, render.ID}},
	}
	for _, tt := range tests {
		if want := slices.Sorted(slices.Values(tt.want)); !slices.Equal(tt.got, want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, want)
		}
	}
	if ps.longLived == nil {
		t.Error("no long-lived token exchange (Meta's)")
	}
	if ps.jaas == nil {
		t.Error("no JaaS builder (Jitsi's)")
	}
}
