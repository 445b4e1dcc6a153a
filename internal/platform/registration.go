package platform

import (
	"fmt"
	"net/http"
	"strconv"
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
	// NoLivestreamUpdateNote says why a change to a scheduled livestream
	// does not reach this livestream platform (its client is no Updater);
	// "" for the generic sentence.
	NoLivestreamUpdateNote string
	// NoDeleteNote says why a meeting on this platform is cancelled without
	// a call; "" for the generic sentence.
	NoDeleteNote string
	// NoMeetingUpdateNote says why a changed meeting needs no call on this
	// platform when its client has no UpdateMeeting: the meeting there
	// holds nothing a change touches (a public Jitsi room is only a link).
	// "" where a client without UpdateMeeting simply cannot change one.
	NoMeetingUpdateNote string
	// Key is how the platform connects with a pasted key; nil where it
	// connects only by OAuth.
	Key *KeyAuth
	// Choice names what a choice among an account's places is called on
	// the connect page ("Page", "workspace", "owner"), where the platform
	// has several (its client is a Chooser, or the account lists
	// Workspaces); "" where there is nothing to choose.
	Choice string
	// AudienceSettings: targets take madeForKids and autoStop (YouTube's
	// audience declaration and auto-stop).
	AudienceSettings bool
	// Settings are the platform's own configuration variables besides its
	// endpoints; app.LoadConfig reads and checks them at cold start and
	// `make dev` lists them.
	Settings []Setting
	// ScheduleAhead is how far ahead the platform lets a broadcast be
	// scheduled (Facebook: 7 days); 0 where it sets no such bound. A
	// recurring livestream's occurrences are created within it.
	ScheduleAhead time.Duration
	// New builds the platform's client over deps; the app picks what it
	// needs from it by interface (an account reader, a Broadcaster, a
	// Meeter, a Deployer, ...).
	New func(deps ClientDeps) any
}

// Setting is one configuration variable of a platform's client.
type Setting struct {
	Name    string // the environment variable, <PLATFORM>_...
	Default string // what "(unset)" means, for the listing
	Meaning string
	// Check refuses a value the client cannot use, saying why; nil takes
	// any value. An unset variable ("") is never checked.
	Check func(value string) error
}

// ClientDeps is what a platform's client is built from.
type ClientDeps struct {
	HTTP      *http.Client
	Endpoints Endpoints
	// Settings are the values of the platform's Settings by name, trimmed
	// and already checked ("" when unset).
	Settings map[string]string
	// Ledger counts a metered platform's API units (QuotaMeter); nil: none
	// is kept.
	Ledger QuotaLedger
}

// DefaultOAuth is the registration's OAuth service; ok is false for a
// platform without OAuth.
func (r Registration) DefaultOAuth() (OAuth, bool) {
	if r.OAuth == nil {
		return OAuth{}, false
	}
	o := *r.OAuth
	o.Scopes = append([]string(nil), o.Scopes...)
	o.NeededScopes = append([]string(nil), o.NeededScopes...)
	return o, true
}

// LoadEndpoints reads a platform's endpoints: the defaults, overridden by
// <PLATFORM>_CLIENT_ID, _CLIENT_SECRET, _CALLBACK_URL, _AUTH_URL,
// _TOKEN_URL, _REVOKE_URL, _ISSUER, _API_URL and _SCOPES (space separated).
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
	set(&e.Issuer, "ISSUER")
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
	// Help tells a person on the connect page where to find the key and
	// which permissions it needs; Labels name each of Fields there (the
	// field's name where absent).
	Help   string
	Labels map[string]string
}

// KeyCredentials are a key connection's credentials as its platform parsed
// them.
type KeyCredentials struct {
	APIKey string
	// Secret holds the fields of a credential that is more than one key,
	// by the platform's own field names, kept sealed as given (8x8 JaaS's
	// app id, key id and private key); nil for a single key.
	Secret map[string]string
	// TokenKind is the kind of an API token where the platform tells kinds
	// apart by how they are sent (TokenOfKind); "" for the default.
	TokenKind string
	// Team is the account scope calls act in by default ("" for the
	// user's own).
	Team string
	// None: nothing was given and nothing is needed (KeyAuth.PublicAccount).
	None bool
}

// Millis reads a setting given in whole milliseconds above zero; def when
// unset.
func Millis(value string, def time.Duration) (time.Duration, error) {
	if value == "" {
		return def, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n <= 0 {
		return def, fmt.Errorf("%q is not a whole number of milliseconds above zero", value)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Bool reads a true/false setting (strconv.ParseBool's spellings); false
// when unset.
func Bool(value string) (bool, error) {
	if value == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("%q is neither true nor false", value)
	}
	return b, nil
}
