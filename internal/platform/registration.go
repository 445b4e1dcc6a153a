package platform

import (
	"net/http"
	"strings"
	"time"
)

// Registration is everything Switchboard knows about one platform. Each
// platform package (internal/platform/<id>) exports its own; the one list
// of them is internal/platform/registry, which everything else iterates,
// so adding a platform is its package plus one line there.
type Registration struct {
	Descriptor
	// OAuth is the vendor's OAuth 2.0 service; nil where the platform has
	// none (Render, Jitsi).
	OAuth *OAuth
	// APIURL is the platform's default API base (<PLATFORM>_API_URL
	// overrides it).
	APIURL string
	// LivestreamNote says plainly what a livestream target on this platform
	// does not do through the public API, for callers to tell their users;
	// "" when nothing needs saying.
	LivestreamNote string
	// NoDeleteNote says why a meeting on this platform is cancelled without
	// a call; "" for the generic sentence.
	NoDeleteNote string
	// Key is how the platform connects with a pasted key; nil where it
	// connects only by OAuth.
	Key *KeyAuth
	// AudienceSettings: targets take madeForKids and autoStop (YouTube's
	// audience declaration and auto-stop).
	AudienceSettings bool
	// ScheduleAhead is how far ahead the platform lets a broadcast be
	// scheduled (Facebook: 7 days); 0 where it sets no such bound. A
	// recurring livestream's occurrences are created within it.
	ScheduleAhead time.Duration
	// New builds the platform's client over deps; the app picks what it
	// needs from it by interface (an account reader, a Broadcaster, a
	// Meeter, a Deployer, ...).
	New func(deps ClientDeps) any
}

// ClientDeps is what a platform's client is built from.
type ClientDeps struct {
	HTTP      *http.Client
	Endpoints Endpoints
	Options   ClientOptions
}

// ClientOptions are the few settings from configuration some clients take;
// each client reads its own and ignores the rest.
type ClientOptions struct {
	MeetCalendarAPIURL string // GOOGLE_MEET_CALENDAR_API_URL; Google's when empty
	MeetUserinfoURL    string // GOOGLE_MEET_USERINFO_URL; Google's when empty
	JitsiPublicURL     string // JITSI_PUBLIC_URL; the jitsi package's default when empty

	VercelUploadConcurrency   int           // VERCEL_UPLOAD_CONCURRENCY
	RailwayUndocumentedUpload bool          // RAILWAY_UNDOCUMENTED_UPLOAD
	RailwayPollInterval       time.Duration // RAILWAY_POLL_INTERVAL_MS
}

// DefaultOAuth is the registration's OAuth service; ok is false for a
// platform without OAuth.
func (r Registration) DefaultOAuth() (OAuth, bool) {
	if r.OAuth == nil {
		return OAuth{}, false
	}
	o := *r.OAuth
	o.Scopes = append([]string(nil), o.Scopes...)
	return o, true
}

// LoadEndpoints reads a platform's endpoints: the defaults, overridden by
// <PLATFORM>_CLIENT_ID, _CLIENT_SECRET, _CALLBACK_URL, _AUTH_URL,
// _TOKEN_URL, _REVOKE_URL, _API_URL and _SCOPES (space separated).
func (r Registration) LoadEndpoints(getenv func(string) string) Endpoints {
	o, _ := r.DefaultOAuth()
	p := r.ID.EnvPrefix() + "_"
	set := func(dst *string, name string) {
		if v := strings.TrimSpace(getenv(p + name)); v != "" {
			*dst = v
		}
	}
	e := Endpoints{OAuth: o, APIURL: r.APIURL}
	set(&e.AuthURL, "AUTH_URL")
	set(&e.TokenURL, "TOKEN_URL")
	set(&e.RevokeURL, "REVOKE_URL")
	set(&e.APIURL, "API_URL")
	set(&e.ClientID, "CLIENT_ID")
	set(&e.ClientSecret, "CLIENT_SECRET")
	set(&e.CallbackURL, "CALLBACK_URL")
	if s := strings.TrimSpace(getenv(p + "SCOPES")); s != "" {
		e.Scopes = strings.Fields(s)
	}
	e.APIURL = strings.TrimRight(e.APIURL, "/")
	return e
}

// KeyAuth is how a platform connects with a key or token the user pastes
// (POST /connections/{platform}).
type KeyAuth struct {
	// Fields are the credential fields the platform takes, for
	// documentation and errors.
	Fields []string
	// Parse turns the fields given (only names of Fields, already length
	// checked) into what the connection keeps; its error says plainly what
	// is wrong with them.
	Parse func(input map[string]string) (KeyCredentials, error)
	// PublicAccount is the account a connection without credentials stands
	// for, where the platform can be used without one (AuthNone).
	PublicAccount Account
}

// KeyCredentials are a key connection's credentials as its platform parsed
// them.
type KeyCredentials struct {
	APIKey string
	// AppID, KeyID and PrivateKey are a signing key (8x8 JaaS).
	AppID, KeyID, PrivateKey string
	// TokenKind is the kind of an API token where the platform tells kinds
	// apart by how they are sent (TokenOfKind); "" for the default.
	TokenKind string
	// Team is the account scope calls act in by default ("" for the
	// user's own).
	Team string
	// None: nothing was given and nothing is needed (KeyAuth.PublicAccount).
	None bool
}
