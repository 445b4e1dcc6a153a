package app

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
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
		{"account readers", sortedIDs(ps.accounts), []platform.ID{platform.YouTube, platform.Facebook, platform.Instagram,
			platform.Zoom, platform.GoogleMeet, platform.MicrosoftTeams, platform.Vercel, platform.Railway,
			platform.Restream, platform.Render}},
		{"key verifiers", sortedIDs(ps.keys), []platform.ID{platform.Vercel, platform.Railway, platform.Render, platform.Jitsi}},
		{"grant revokers", sortedIDs(ps.revokers), []platform.ID{platform.Facebook, platform.Instagram}},
		{"deployers", sortedIDs(d.deployers()), []platform.ID{platform.Vercel, platform.Railway, platform.Render}},
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
