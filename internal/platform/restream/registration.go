package restream

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "restream"

// Registration is what Switchboard knows about Restream.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Restream", Kind: platform.KindLivestream,
			Auth:         []platform.AuthMethod{platform.AuthOAuth2},
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastCreate, platform.CapBroadcastStatus, platform.CapTokenRefresh, platform.CapTokenRevoke),
			Notes: "A Restream target streams to the account's default stream key, which reaches the channels enabled in Restream's " +
				"dashboard: channel choice is made in Restream, the API cannot make it. Restream has no start or end call: the " +
				"stream goes live when the encoder pushes and ends when it stops."},
		OAuth: &platform.OAuth{
			AuthURL: "https://api.restream.io/login", TokenURL: "https://api.restream.io/oauth/token",
			RevokeURL: "https://api.restream.io/oauth/revoke", RevokeMethod: "form",
			Refreshable: true, RotatesRefresh: true, ClientAuth: platform.ClientAuthBasic,
			// Evidence: developers.restream.io/authentication/authorize-dialog: "If the user denies the
			// dialog, they will be redirected back to the redirect_uri with no parameters."
			BareDecline: true,
		},
		APIURL: DefaultAPIURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
		// Evidence: PLATFORMS.md Restream "(corrected) Fan-out"; developers.restream.io/private-api/stream-key.
		LivestreamNote: "A Restream target streams to your Restream account's default stream key, which goes out to every channel " +
			"you have enabled in Restream's dashboard, and only to those: channel choice is made in Restream, not here " +
			"(Restream's API cannot choose them). Restream has no start, end or delete call: the stream goes live when the " +
			"encoder pushes to the ingest and ends when it stops; live, ended and cancelled here mean Switchboard has done its part.",
		// Evidence: developers.restream.io/events lists create, add destination, list, get, stream keys and
		// recordings, and no call that changes an event; Provision creates no event (see its comment).
		NoLivestreamUpdateNote: "Restream keeps what it had: Switchboard creates no Restream event (the stream goes out through your " +
			"account's default key), and Restream's API has no call that changes an event's title or time. Change them in " +
			"Restream's dashboard or at each channel if you want viewers to see the new details.",
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://api.restream.io"
