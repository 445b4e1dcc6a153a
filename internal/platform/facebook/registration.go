package facebook

import "github.com/switchboard-dev/switchboard/internal/platform"

// Registration is what Switchboard knows about Facebook.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: platform.Facebook, Name: "Facebook", Kind: platform.KindLivestream,
			Auth: []platform.AuthMethod{platform.AuthOAuth2}, GrantGroup: platform.GrantMeta,
			Capabilities: platform.WithOperations((*Client)(nil), platform.CapBroadcastCreate, platform.CapBroadcastStatus,
				platform.CapTokenRevoke),
			Notes: "Meta issues no refresh tokens: the long-lived user token lasts about 60 days, then the user connects again."},
		OAuth:  platform.MetaOAuth("public_profile", "publish_video", "pages_manage_posts", "pages_read_engagement", "pages_show_list"),
		APIURL: platform.MetaGraphURL,
		// planned_start_time at most 7 days ahead (MaxScheduleLead's evidence).
		ScheduleAhead: MaxScheduleLead,
		New:           func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}
