package platform_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

func TestRegistryHoldsTheElevenPlatformsOfTheArchitecture(t *testing.T) {
	t.Parallel()
	want := map[platform.ID]platform.Kind{
		"youtube": "livestream", "facebook": "livestream", "instagram": "livestream", "restream": "livestream",
		"zoom": "meeting", "google-meet": "meeting", "microsoft-teams": "meeting", "jitsi": "meeting",
		"vercel": "deploy", "railway": "deploy", "render": "deploy",
	}
	all := registry.All()
	if len(all) != len(want) {
		t.Fatalf("%d platforms, want %d", len(all), len(want))
	}
	for _, d := range all {
		if want[d.ID] != d.Kind {
			t.Errorf("%s: kind %q, want %q", d.ID, d.Kind, want[d.ID])
		}
		if d.Name == "" || len(d.Auth) == 0 || len(d.Capabilities) == 0 {
			t.Errorf("%s: incomplete descriptor %+v", d.ID, d)
		}
		got, ok := registry.Lookup(string(d.ID))
		if !ok || got.ID != d.ID {
			t.Errorf("Lookup(%s) failed", d.ID)
		}
	}
	if _, ok := registry.Lookup("myspace"); ok {
		t.Error("Lookup found a platform that does not exist")
	}
}

func TestCapabilitiesSayWhatPublicAPIsCannotDo(t *testing.T) {
	t.Parallel()
	ig, _ := registry.Lookup("instagram")
	if ig.Supports(platform.CapBroadcastCreate) || !ig.Supports(platform.CapBroadcastManual) || ig.Notes == "" {
		t.Errorf("instagram must not claim to create broadcasts: %+v", ig)
	}
	render, _ := registry.Lookup("render")
	if render.Supports(platform.CapDeployFiles) || render.Accepts(platform.AuthOAuth2) {
		t.Errorf("render takes neither files nor OAuth: %+v", render)
	}
}

func TestSiblingsShareTheVendorsGrant(t *testing.T) {
	t.Parallel()
	for id, want := range map[platform.ID][]platform.ID{
		"youtube": {"google-meet"}, "google-meet": {"youtube"},
		"facebook": {"instagram"}, "instagram": {"facebook"},
		"zoom": nil, "restream": nil, "nowhere": nil,
	} {
		var got []platform.ID
		for _, d := range registry.Siblings(id) {
			got = append(got, d.ID)
		}
		if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
			t.Errorf("Siblings(%s) = %v, want %v", id, got, want)
		}
	}
	if platform.GrantGoogle.Vendor() != "Google" || platform.GrantMeta.Vendor() != "Meta" {
		t.Error("a grant group names its vendor")
	}
}

func TestEnvPrefixIsUpperSnakeCase(t *testing.T) {
	t.Parallel()
	for id, want := range map[platform.ID]string{"google-meet": "GOOGLE_MEET", "microsoft-teams": "MICROSOFT_TEAMS", "youtube": "YOUTUBE"} {
		if got := id.EnvPrefix(); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}
