package facebook

import "github.com/switchboard-dev/switchboard/internal/platform"

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "facebook"

// Registration is what Switchboard knows about Facebook.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Facebook", Kind: platform.KindLivestream,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantMeta,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastCreate, platform.CapBroadcastStatus,
				platform.CapTokenRevoke),
			Notes: "Meta issues no refresh tokens: the long-lived user token lasts about 60 days, then the user connects again."},
		OAuth:  facebookOAuth(),
		APIURL: platform.MetaGraphURL,
		Choice: "Page",
		// planned_start_time at most 7 days ahead (MaxScheduleLead's evidence).
		ScheduleAhead: MaxScheduleLead,
		New:           func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}

// facebookOAuth is Meta's login with the permissions Switchboard asks for;
// each but public_profile (always granted) is needed, and read back from
// GET /me/permissions after the exchange (GrantedScopes), since Meta's
// login dialog lets the user untick any: publish_video to go live on the
// profile, pages_show_list and pages_read_engagement to list the Pages and
// read their tokens, pages_manage_posts to go live on a Page
// (developers.facebook.com/docs/live-video-api).
func facebookOAuth() *platform.OAuth {
	needed := []string{"publish_video", "pages_manage_posts", "pages_read_engagement", "pages_show_list"}
	o := platform.MetaOAuth(append([]string{AlwaysGranted}, needed...)...)
	o.NeededScopes = needed
	return o
}
