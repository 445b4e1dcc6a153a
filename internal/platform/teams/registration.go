package teams

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "microsoft-teams"

// Registration is what Switchboard knows about Microsoft Teams.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Microsoft Teams", Kind: platform.KindMeeting,
			Auth:         []platform.AuthMethod{platform.AuthOAuth2},
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapMeetingCreate, platform.CapTokenRefresh),
			Notes:        "Microsoft Graph has no call that ends a meeting, and no endpoint that revokes one token; work or school accounts only."},
		OAuth: &platform.OAuth{
			AuthURL:  "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
			TokenURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
			Scopes:   []string{"OnlineMeetings.ReadWrite", "offline_access", "User.Read"}, PKCE: true,
			Refreshable: true, RotatesRefresh: true,
			// Evidence: PLATFORMS.md Microsoft Teams ("send scope on refresh as well"); learn.microsoft.com/
			// entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token: scope is required.
			ScopeOnRefresh: true,
		},
		APIURL: DefaultAPIURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}
