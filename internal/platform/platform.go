// Package platform describes the platforms Switchboard connects to: what
// each is for, how a user authenticates with it and what Switchboard can do
// there. It knows nothing of storage or HTTP handlers.
package platform

// ID names a platform in URLs, keys and environment variables.
type ID string

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
	CapBroadcastUpdate Capability = "broadcast.update" // change a scheduled broadcast's title, description and times
	CapMeetingCreate   Capability = "meeting.create"
	CapMeetingEnd      Capability = "meeting.end"
	CapMeetingDelete   Capability = "meeting.delete"
	CapMeetingUpdate   Capability = "meeting.update" // change a meeting's title and times where it was made
	CapDeployFiles     Capability = "deploy.files"   // upload generated files
	CapDeployRepo      Capability = "deploy.repo"    // build from a Git repository
	CapDeployImage     Capability = "deploy.image"   // run a registry image
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
	// GrantGroup is the vendor grant a platform's OAuth connection joins
	// when platforms of one vendor use one OAuth client ("" for none): the
	// vendor keeps one grant per user and client for the whole group, and
	// its revoke ends the grant for every platform of the group.
	GrantGroup GrantGroup
}

// GrantGroup names a vendor whose platforms can share one OAuth grant.
type GrantGroup string

const (
	// GrantGoogle: YouTube and Google Meet. Google's revoke "Revokes all of
	// the scopes that the user granted to the app" (PLATFORMS.md, YouTube;
	// developers.google.com/identity/oauth2/web/reference/js-reference).
	GrantGoogle GrantGroup = "google"
	// GrantMeta: Facebook and Instagram through one Meta app. DELETE
	// /me/permissions removes the whole app grant (PLATFORMS.md, Facebook;
	// developers.facebook.com/docs/graph-api/reference/user/permissions/).
	GrantMeta GrantGroup = "meta"
)

// Vendor is the name of the vendor that keeps the grant, for messages.
func (g GrantGroup) Vendor() string {
	switch g {
	case GrantGoogle:
		return "Google"
	case GrantMeta:
		return "Meta"
	}
	return string(g)
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
