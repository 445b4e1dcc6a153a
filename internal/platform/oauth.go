package platform

import (
	"strings"
)

// ClientAuth is how a platform's token endpoint takes the client's secret.
type ClientAuth int

const (
	ClientAuthBody  ClientAuth = iota // client_id and client_secret in the form body
	ClientAuthBasic                   // HTTP Basic (Zoom, Railway, Restream)
)

// Exchange names a platform's departure from the plain authorization-code
// exchange.
type Exchange int

const (
	ExchangeStandard          Exchange = iota
	ExchangeFacebookLongLived          // then trade the short-lived token for a ~60-day one (fb_exchange_token)
	ExchangeVercelIntegration          // integration code; the answer carries installation_id, team_id, user_id
)

// OAuth is what Switchboard knows about a platform's OAuth 2.0 service.
type OAuth struct {
	AuthURL   string
	TokenURL  string
	RevokeURL string // "" where the platform has no revocation endpoint
	// RevokeMethod is how revocation is asked: "form" (RFC 7009 POST body),
	// "query" (POST ?token=), or "graph-permissions" (DELETE /me/permissions).
	RevokeMethod string
	Scopes       []string
	PKCE         bool // the platform takes an S256 code challenge
	// RotatesRefresh: every refresh answers a new refresh token and kills
	// the old one, so the new one must be stored before anything else.
	RotatesRefresh bool
	Refreshable    bool // the platform issues refresh tokens at all
	ClientAuth     ClientAuth
	Exchange       Exchange
	// AuthParams are extra authorize parameters (Google's offline access).
	AuthParams map[string]string
	// BareDecline: a declined consent comes back to the callback with no
	// parameters at all (no error, no state), so a bare callback means
	// "declined" rather than a lost state.
	BareDecline bool
	// ScopeOnRefresh: a refresh_token grant must carry `scope` too
	// (Microsoft's identity platform).
	ScopeOnRefresh bool
	// ScopesInApp: the scopes are chosen in the app's settings at the
	// platform and the authorize URL carries none; Scopes then lists what
	// those settings must include.
	ScopesInApp bool
}

// Endpoints are a platform's configured endpoints and client credentials:
// the defaults, overridden by <PLATFORM>_* environment variables.
type Endpoints struct {
	OAuth
	ClientID     string
	ClientSecret string
	CallbackURL  string
	APIURL       string
}

// DefaultAPIURL is each platform's API base.
func DefaultAPIURL(id ID) string {
	switch id {
	case YouTube:
		return "https://www.googleapis.com/youtube/v3"
	case Facebook, Instagram:
		return "https://graph.facebook.com/v21.0"
	case Restream:
		return "https://api.restream.io"
	case Zoom:
		return "https://api.zoom.us/v2"
	case GoogleMeet:
		return "https://meet.googleapis.com/v2"
	case MicrosoftTeams:
		return "https://graph.microsoft.com/v1.0"
	case Jitsi:
		return "https://8x8.vc"
	case Vercel:
		return "https://api.vercel.com"
	case Railway:
		return "https://backboard.railway.com/graphql/v2"
	case Render:
		return "https://api.render.com/v1"
	}
	return ""
}

// DefaultOAuth is each OAuth platform's service, from the vendors' documents
// (see shared/specs/PLATFORMS.md). ok is false for platforms without OAuth.
func DefaultOAuth(id ID) (OAuth, bool) {
	google := func(scopes ...string) OAuth {
		return OAuth{
			AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			RevokeURL: "https://oauth2.googleapis.com/revoke", RevokeMethod: "form",
			Scopes: scopes, PKCE: true, Refreshable: true,
			// offline access for a refresh token; consent again so a reconnect
			// gets one too (Google only sends it on consent).
			AuthParams: map[string]string{"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
		}
	}
	meta := func(scopes ...string) OAuth {
		return OAuth{
			AuthURL: "https://www.facebook.com/v21.0/dialog/oauth", TokenURL: "https://graph.facebook.com/v21.0/oauth/access_token",
			RevokeURL: "https://graph.facebook.com/v21.0/me/permissions", RevokeMethod: "graph-permissions",
			Scopes: scopes, Exchange: ExchangeFacebookLongLived,
		}
	}
	switch id {
	case YouTube:
		return google("https://www.googleapis.com/auth/youtube"), true
	case GoogleMeet:
		return google("openid", "email", "profile",
			"https://www.googleapis.com/auth/meetings.space.created", "https://www.googleapis.com/auth/calendar.events"), true
	case Facebook:
		return meta("public_profile", "publish_video", "pages_manage_posts", "pages_read_engagement", "pages_show_list"), true
	case Instagram:
		return meta("instagram_basic", "pages_read_engagement", "pages_show_list"), true
	case Restream:
		return OAuth{
			AuthURL: "https://api.restream.io/login", TokenURL: "https://api.restream.io/oauth/token",
			RevokeURL: "https://api.restream.io/oauth/revoke", RevokeMethod: "form",
			Refreshable: true, RotatesRefresh: true, ClientAuth: ClientAuthBasic,
			// Evidence: developers.restream.io/authentication/authorize-dialog: "If the user denies the
			// dialog, they will be redirected back to the redirect_uri with no parameters."
			BareDecline: true,
		}, true
	case Zoom:
		return OAuth{
			AuthURL: "https://zoom.us/oauth/authorize", TokenURL: "https://zoom.us/oauth/token",
			RevokeURL: "https://zoom.us/oauth/revoke", RevokeMethod: "query",
			// One granular scope per endpoint the client calls: create, read, end (status) and delete a
			// meeting, read the user. Evidence: PLATFORMS.md Zoom "(corrected) Scopes"; Zoom's granular
			// scope list; devforum.zoom.us/t/108207 (user-managed apps use the names without ":admin").
			Scopes: []string{"meeting:write:meeting", "meeting:read:meeting", "meeting:update:status", "meeting:delete:meeting", "user:read:user"},
			// Set in the app's settings, not sent: several granular scopes in one authorize URL fail
			// with "invalid scope" (devforum.zoom.us/t/multiple-scopes-authorization/138714), and Zoom
			// grants what the app's settings list.
			ScopesInApp: true,
			PKCE:        true, Refreshable: true, RotatesRefresh: true, ClientAuth: ClientAuthBasic,
		}, true
	case MicrosoftTeams:
		return OAuth{
			AuthURL:  "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
			TokenURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
			Scopes:   []string{"OnlineMeetings.ReadWrite", "offline_access", "User.Read"}, PKCE: true,
			Refreshable: true, RotatesRefresh: true,
			// Evidence: PLATFORMS.md Microsoft Teams ("send scope on refresh as well"); learn.microsoft.com/
			// entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token: scope is required.
			ScopeOnRefresh: true,
		}, true
	case Vercel:
		return OAuth{
			AuthURL:  "https://vercel.com/integrations/switchboard/new",
			TokenURL: "https://api.vercel.com/v2/oauth/access_token",
			Exchange: ExchangeVercelIntegration,
		}, true
	case Railway:
		return OAuth{
			AuthURL: "https://backboard.railway.com/oauth/auth", TokenURL: "https://backboard.railway.com/oauth/token",
			Scopes: []string{"openid", "email", "profile", "offline_access", "workspace:member", "project:member"},
			PKCE:   true, Refreshable: true, RotatesRefresh: true, ClientAuth: ClientAuthBasic,
			AuthParams: map[string]string{"prompt": "consent"},
		}, true
	}
	return OAuth{}, false
}

// LoadEndpoints reads a platform's endpoints: the defaults, overridden by
// <PLATFORM>_CLIENT_ID, _CLIENT_SECRET, _CALLBACK_URL, _AUTH_URL,
// _TOKEN_URL, _REVOKE_URL, _API_URL and _SCOPES (space separated).
func LoadEndpoints(id ID, getenv func(string) string) Endpoints {
	o, _ := DefaultOAuth(id)
	p := id.EnvPrefix() + "_"
	set := func(dst *string, name string) {
		if v := strings.TrimSpace(getenv(p + name)); v != "" {
			*dst = v
		}
	}
	e := Endpoints{OAuth: o, APIURL: DefaultAPIURL(id)}
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

// OAuthConfigured reports whether the platform can be connected by OAuth
// here: it has an OAuth service and a client id and callback URL.
func (e Endpoints) OAuthConfigured() bool {
	return e.AuthURL != "" && e.TokenURL != "" && e.ClientID != "" && e.CallbackURL != ""
}
