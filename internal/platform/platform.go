// Package platform describes the platforms Switchboard connects to: what
// each is for, how a user authenticates with it and what Switchboard can do
// there. It knows nothing of storage or HTTP handlers.
package platform

// ID names a platform in URLs, keys and environment variables.
type ID string

const (
	YouTube        ID = "youtube"
	Facebook       ID = "facebook"
	Instagram      ID = "instagram"
	Restream       ID = "restream"
	Zoom           ID = "zoom"
	GoogleMeet     ID = "google-meet"
	MicrosoftTeams ID = "microsoft-teams"
	Jitsi          ID = "jitsi"
	Vercel         ID = "vercel"
	Railway        ID = "railway"
	Render         ID = "render"
)

// Kind is what a platform is used for.
type Kind string

const (
	KindLivestream Kind = "livestream"
	KindMeeting    Kind = "meeting"
	KindDeploy     Kind = "deploy"
)

// AuthMethod is a way to connect an account.
type AuthMethod string

const (
	AuthOAuth2 AuthMethod = "oauth2"  // OAuth 2.0 authorization code, with PKCE where the platform takes it
	AuthAPIKey AuthMethod = "api_key" // a key or token the user pastes
	AuthNone   AuthMethod = "none"    // nothing to connect (public meet.jit.si rooms)
)

// Capability is one thing Switchboard can do at a platform.
type Capability string

const (
	CapBroadcastCreate Capability = "broadcast.create" // create a broadcast and its ingest through the API
	CapBroadcastManual Capability = "broadcast.manual" // stream to an ingest the user copies in; no API creates it
	CapBroadcastStatus Capability = "broadcast.status"
	CapBroadcastEnd    Capability = "broadcast.end"
	CapMeetingCreate   Capability = "meeting.create"
	CapMeetingEnd      Capability = "meeting.end"
	CapMeetingDelete   Capability = "meeting.delete"
	CapDeployFiles     Capability = "deploy.files" // upload generated files
	CapDeployRepo      Capability = "deploy.repo"  // build from a Git repository
	CapDeployImage     Capability = "deploy.image" // run a registry image
	CapDeployDatabase  Capability = "deploy.database"
	CapDeployRollback  Capability = "deploy.rollback"
	CapDeployCancel    Capability = "deploy.cancel"
	CapDeployLogs      Capability = "deploy.logs"
	CapTokenRevoke     Capability = "token.revoke"
	CapTokenRefresh    Capability = "token.refresh"
)

// Descriptor is what Switchboard knows about a platform.
type Descriptor struct {
	ID           ID
	Name         string
	Kind         Kind
	Auth         []AuthMethod // in order of preference
	Capabilities []Capability
	// Notes says plainly what the platform's public API cannot do, for
	// callers to show their users.
	Notes string
}

// Supports reports whether the platform has the capability.
func (d Descriptor) Supports(c Capability) bool {
	for _, have := range d.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// Accepts reports whether the platform takes the auth method.
func (d Descriptor) Accepts(m AuthMethod) bool {
	for _, have := range d.Auth {
		if have == m {
			return true
		}
	}
	return false
}

// EnvPrefix is the platform's prefix for its environment variables:
// the id in upper snake case (GOOGLE_MEET for google-meet).
func (id ID) EnvPrefix() string {
	b := []byte(id)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// All lists the eleven platforms in a stable order.
func All() []Descriptor {
	return []Descriptor{
		{ID: YouTube, Name: "YouTube", Kind: KindLivestream, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapBroadcastCreate, CapBroadcastStatus, CapBroadcastEnd, CapTokenRefresh, CapTokenRevoke}},
		{ID: Facebook, Name: "Facebook", Kind: KindLivestream, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapBroadcastCreate, CapBroadcastStatus, CapBroadcastEnd, CapTokenRevoke},
			Notes:        "Meta issues no refresh tokens: the long-lived user token lasts about 60 days, then the user connects again."},
		{ID: Instagram, Name: "Instagram", Kind: KindLivestream, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapBroadcastManual, CapBroadcastStatus},
			Notes:        "Instagram has no public API that creates or starts a live broadcast: copy the stream URL and key from Instagram's Live Producer into the target; Switchboard streams there and reads whether it is live."},
		{ID: Restream, Name: "Restream", Kind: KindLivestream, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapBroadcastCreate, CapBroadcastStatus, CapTokenRefresh, CapTokenRevoke},
			Notes: "A Restream target streams to the account's default stream key, which reaches the channels enabled in Restream's " +
				"dashboard: channel choice is made in Restream, the API cannot make it. Restream has no start or end call: the " +
				"stream goes live when the encoder pushes and ends when it stops."},
		{ID: Zoom, Name: "Zoom", Kind: KindMeeting, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapMeetingCreate, CapMeetingEnd, CapMeetingDelete, CapTokenRefresh, CapTokenRevoke}},
		{ID: GoogleMeet, Name: "Google Meet", Kind: KindMeeting, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapMeetingCreate, CapMeetingEnd, CapMeetingDelete, CapTokenRefresh, CapTokenRevoke}},
		{ID: MicrosoftTeams, Name: "Microsoft Teams", Kind: KindMeeting, Auth: []AuthMethod{AuthOAuth2},
			Capabilities: []Capability{CapMeetingCreate, CapMeetingDelete, CapTokenRefresh},
			Notes:        "Microsoft Graph has no call that ends a meeting, and no endpoint that revokes one token; work or school accounts only."},
		{ID: Jitsi, Name: "Jitsi", Kind: KindMeeting, Auth: []AuthMethod{AuthNone, AuthAPIKey},
			Capabilities: []Capability{CapMeetingCreate},
			Notes:        "meet.jit.si rooms need no account and cannot be ended or deleted; 8x8 JaaS rooms carry a signed moderator link."},
		{ID: Vercel, Name: "Vercel", Kind: KindDeploy, Auth: []AuthMethod{AuthOAuth2, AuthAPIKey},
			Capabilities: []Capability{CapDeployFiles, CapDeployRepo, CapDeployLogs, CapDeployCancel, CapDeployRollback},
			Notes:        "Git repositories deploy from GitHub or Bitbucket through the user's Git connection in Vercel (a branch is required; GitLab needs a project id a URL does not carry). A project name Switchboard did not create in the user's Vercel account is refused, never taken over."},
		{ID: Railway, Name: "Railway", Kind: KindDeploy, Auth: []AuthMethod{AuthOAuth2, AuthAPIKey},
			Capabilities: []Capability{CapDeployRepo, CapDeployImage, CapDeployDatabase, CapDeployLogs, CapDeployCancel, CapDeployRollback, CapTokenRefresh},
			Notes:        "Railway documents no file upload: the CLI's upload endpoint is undocumented, so repository and image sources are the supported path."},
		{ID: Render, Name: "Render", Kind: KindDeploy, Auth: []AuthMethod{AuthAPIKey},
			Capabilities: []Capability{CapDeployRepo, CapDeployImage, CapDeployDatabase, CapDeployLogs, CapDeployCancel, CapDeployRollback},
			Notes:        "Render takes no file upload: code comes from a Git repository or a registry image. No third-party OAuth: connect with an API key."},
	}
}

// Lookup finds a platform by id.
func Lookup(id string) (Descriptor, bool) {
	for _, d := range All() {
		if string(d.ID) == id {
			return d, true
		}
	}
	return Descriptor{}, false
}
