package instagram

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "instagram"

// Registration is what Switchboard knows about Instagram.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Instagram", Kind: platform.KindLivestream,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantMeta,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastManual, platform.CapBroadcastStatus),
			Notes:        "Instagram has no public API that creates or starts a live broadcast: copy the stream URL and key from Instagram's Live Producer into the target; Switchboard streams there and reads whether it is live."},
		OAuth:  platform.MetaOAuth("instagram_basic", "pages_read_engagement", "pages_show_list"),
		APIURL: platform.MetaGraphURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
		LivestreamNote: "Instagram has no public API to create, start or end a live broadcast: Switchboard keeps the stream URL and key " +
			"copied from Instagram Live Producer and makes no call to start or end it. Instagram goes live when the broadcast is " +
			"started in Live Producer with the encoder pushing; live and ended here mean Switchboard has done its part.",
		// Evidence: PLATFORMS.md Instagram ("No public API creates or starts a live broadcast"; live_media is read-only).
		NoLivestreamUpdateNote: "Instagram keeps what it had: it has no public API for live broadcasts, so Switchboard cannot change " +
			"the title or time there. Change them in Instagram's Live Producer.",
	}
}
