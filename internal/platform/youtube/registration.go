package youtube

import (
	"strconv"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "youtube"

// Registration is what Switchboard knows about YouTube.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "YouTube", Kind: platform.KindLivestream,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantGoogle,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastCreate, platform.CapBroadcastStatus,
				platform.CapTokenRefresh, platform.CapTokenRevoke)},
		OAuth:  youtubeOAuth(),
		APIURL: DefaultAPIURL,
		New:    newClient,
		Settings: []platform.Setting{{Name: SettingDailyQuota, Default: strconv.Itoa(DefaultDailyQuota),
			Meaning: "the Google Cloud project's daily YouTube Data API quota in units (10,000 unless Google granted more); " +
				"creates that would eat into the day's go-lives are refused",
			Check: func(v string) error { _, err := DailyQuota(v); return err }}},
		LivestreamNote: "YouTube goes live only while the encoder pushes to the ingest: start the encoder before the scheduled start. " +
			"Until it pushes, going live fails and is tried again for about 15 minutes.",
		AudienceSettings: true,
	}
}

// newClient builds the client over deps, counting its calls in deps.Ledger
// when one is kept.
func newClient(d platform.ClientDeps) any {
	var opts []Option
	if d.Ledger != nil {
		daily, _ := DailyQuota(d.Settings[SettingDailyQuota]) // checked at cold start
		opts = append(opts, WithLedger(d.Ledger, d.Endpoints.ClientID, daily))
	}
	return New(d.HTTP, d.Endpoints.APIURL, opts...)
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://www.googleapis.com/youtube/v3"

// youtubeOAuth is Google's OAuth service asking for YouTube. Google's
// granular consent lets a user untick a non-sign-in scope, and the token
// answer's scope lists what was granted; so the one scope every YouTube
// call needs is checked. Evidence: developers.google.com/identity/protocols/
// oauth2/resources/granular-permissions ("the application must check what
// scopes are granted by the users and can't assume users grant all
// requested scopes").
func youtubeOAuth() *platform.OAuth {
	o := platform.GoogleOAuth("https://www.googleapis.com/auth/youtube")
	o.NeededScopes = []string{"https://www.googleapis.com/auth/youtube"}
	return o
}
