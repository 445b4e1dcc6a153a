package platform

// ClientAuth is how a platform's token endpoint takes the client's secret.
type ClientAuth int

const (
	ClientAuthBody  ClientAuth = iota // client_id and client_secret in the form body
	ClientAuthBasic                   // HTTP Basic
)

// Exchange names a platform's departure from the plain authorization-code
// exchange.
type Exchange int

const (
	ExchangeStandard    Exchange = iota
	ExchangeLongLived            // then trade the short-lived token for a ~60-day one (Meta's fb_exchange_token)
	ExchangeIntegration          // integration code; the answer carries installation_id, team_id, user_id (Vercel)
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
	// Issuer is the authorization server's issuer identifier (RFC 8414).
	// Where a callback carries RFC 9207's iss, it must equal it, or the
	// authorization response is refused (a mix-up defence); "" where the
	// issuer is not known, and then iss is not compared.
	Issuer string
	// NeededScopes are the scopes the product cannot work without. The
	// scopes the provider granted (the token answer's scope, RFC 6749 5.1)
	// must include each, or the connection is stored in error with reason
	// missing_scopes naming those left out. Nil: nothing is checked (a
	// provider that does not let the user grant less than asked, or whose
	// answer names scopes differently from the request).
	NeededScopes []string
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

// OAuthConfigured reports whether the platform can be connected by OAuth
// here: it has an OAuth service and a client id and callback URL.
func (e Endpoints) OAuthConfigured() bool {
	return e.AuthURL != "" && e.TokenURL != "" && e.ClientID != "" && e.CallbackURL != ""
}

// GoogleOAuth is Google's OAuth service with the given scopes: the
// platforms of GrantGoogle share it.
func GoogleOAuth(scopes ...string) *OAuth {
	return &OAuth{
		AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
		RevokeURL: "https://oauth2.googleapis.com/revoke", RevokeMethod: "form",
		Scopes: scopes, PKCE: true, Refreshable: true,
		// offline access for a refresh token; consent again so a reconnect
		// gets one too (Google only sends it on consent).
		AuthParams: map[string]string{"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
		// Evidence: developers.google.com/identity/openid-connect/reference (discovery document:
		// issuer "https://accounts.google.com", authorization_response_iss_parameter_supported).
		Issuer: "https://accounts.google.com",
	}
}

// MetaOAuth is Meta's OAuth service with the given scopes: the platforms
// of GrantMeta share it.
func MetaOAuth(scopes ...string) *OAuth {
	return &OAuth{
		AuthURL: "https://www.facebook.com/v21.0/dialog/oauth", TokenURL: "https://graph.facebook.com/v21.0/oauth/access_token",
		RevokeURL: "https://graph.facebook.com/v21.0/me/permissions", RevokeMethod: "graph-permissions",
		Scopes: scopes, Exchange: ExchangeLongLived,
	}
}

// MetaGraphURL is the Graph API base the platforms of GrantMeta call.
const MetaGraphURL = "https://graph.facebook.com/v21.0"
