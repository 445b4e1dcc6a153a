package zoom

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "zoom"

// Registration is what Switchboard knows about Zoom.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Zoom", Kind: platform.KindMeeting,
			Auth: []platform.AuthMethod{platform.AuthOAuth2},
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapMeetingCreate,
				platform.CapTokenRefresh, platform.CapTokenRevoke)},
		OAuth: &platform.OAuth{
			AuthURL: "https://zoom.us/oauth/authorize", TokenURL: "https://zoom.us/oauth/token",
			RevokeURL: "https://zoom.us/oauth/revoke", RevokeMethod: "query",
			// One granular scope per endpoint the client calls: create, read, change, end (status) and
			// delete a meeting, read the user. Evidence: PLATFORMS.md Zoom "(corrected) Scopes"; Zoom's
			// granular scope list; devforum.zoom.us/t/108207 (user-managed apps use the names without
			// ":admin"); Zoom's 4711 answer to PATCH /meetings/{id} as quoted in public code: "does not
			// contain scopes:[meeting:update:meeting:admin, meeting:update:meeting]".
			Scopes: []string{"meeting:write:meeting", "meeting:read:meeting", "meeting:update:meeting", "meeting:update:status",
				"meeting:delete:meeting", "user:read:user"},
			// Set in the app's settings, not sent: several granular scopes in one authorize URL fail
			// with "invalid scope" (devforum.zoom.us/t/multiple-scopes-authorization/138714), and Zoom
			// grants what the app's settings list.
			ScopesInApp: true,
			PKCE:        true, Refreshable: true, RotatesRefresh: true, ClientAuth: platform.ClientAuthBasic,
		},
		APIURL: DefaultAPIURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}
