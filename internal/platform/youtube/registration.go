package youtube

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "youtube"

// Registration is what Switchboard knows about YouTube.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "YouTube", Kind: platform.KindLivestream,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantGoogle,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastCreate, platform.CapBroadcastStatus,
				platform.CapTokenRefresh, platform.CapTokenRevoke)},
		OAuth:  platform.GoogleOAuth("https://www.googleapis.com/auth/youtube"),
		APIURL: DefaultAPIURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
		LivestreamNote: "YouTube goes live only while the encoder pushes to the ingest: start the encoder before the scheduled start. " +
			"Until it pushes, going live fails and is tried again for about 15 minutes.",
		AudienceSettings: true,
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://www.googleapis.com/youtube/v3"
