package googlemeet

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "google-meet"

// Registration is what Switchboard knows about Google Meet.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Google Meet", Kind: platform.KindMeeting,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantGoogle,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapMeetingCreate,
				platform.CapTokenRefresh, platform.CapTokenRevoke)},
		OAuth:  meetOAuth(),
		APIURL: "https://meet.googleapis.com/v2",
		Settings: []platform.Setting{
			{Name: "GOOGLE_MEET_CALENDAR_API_URL", Default: "(Google's)", Meaning: "Google Meet's Calendar API base"},
			{Name: "GOOGLE_MEET_USERINFO_URL", Default: "(Google's)", Meaning: "Google Meet's userinfo endpoint"},
		},
		New: newClient,
	}
}

// newClient is the Meet client over deps, with the Calendar and userinfo
// URLs configured (Google's where empty).
func newClient(d platform.ClientDeps) any {
	var opts []Option
	if u := d.Settings["GOOGLE_MEET_USERINFO_URL"]; u != "" {
		opts = append(opts, WithUserinfoURL(u))
	}
	return New(d.HTTP, d.Endpoints.APIURL, d.Settings["GOOGLE_MEET_CALENDAR_API_URL"], opts...)
}

// meetOAuth is Google's OAuth service asking for Meet and Calendar. The two
// non-sign-in scopes can be unticked on Google's granular consent screen
// and the token answer's scope says which were granted, so both are
// checked; the sign-in scopes (openid, email, profile) are answered under
// other names (userinfo.email) and are not. Evidence: developers.google.com/
// identity/protocols/oauth2/resources/granular-permissions.
func meetOAuth() *platform.OAuth {
	needed := []string{"https://www.googleapis.com/auth/meetings.space.created", "https://www.googleapis.com/auth/calendar.events"}
	o := platform.GoogleOAuth(append([]string{"openid", "email", "profile"}, needed...)...)
	o.NeededScopes = needed
	return o
}
