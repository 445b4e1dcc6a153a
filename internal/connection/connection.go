// Package connection keeps a tenant's accounts at other platforms usable:
// it connects them (OAuth 2.0 with PKCE, or API keys), hands out fresh
// tokens (refreshing at most once at a time across every instance), keeps
// each connection's status true to what the platform would say, and
// disconnects them. Credentials are sealed by the vault before they are
// stored and opened only when a call needs them.
//
// Statuses:
//
//	connected     credentials work (as far as the last call or check knows)
//	expired       the platform no longer accepts them (invalid_grant, a 401
//	              after a fresh token, a revoked key): the user must reconnect
//	error         a permanent failure that is not about the credentials
//	              (e.g. invalid_client, a missing permission); checked again
//	              hourly, and a later success brings the connection back
//	disconnected  the user disconnected it; no credentials are kept
//
// A transient failure (5xx, 429, timeouts) never changes the status: it is
// recorded as lastError and retried.
package connection

import (
	"encoding/json"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Status is a connection's state.
type Status string

const (
	StatusConnected    Status = "connected"
	StatusExpired      Status = "expired"
	StatusError        Status = "error"
	StatusDisconnected Status = "disconnected"
)

// AuthType is how a connection was made.
type AuthType string

const (
	AuthOAuth2 AuthType = "oauth2"
	AuthAPIKey AuthType = "api_key"
	AuthNone   AuthType = "none"
)

// LastError is the most recent failure, kept until a success clears it.
type LastError struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Transition records one status change.
type Transition struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// maxHistory bounds the transitions kept on a connection.
const maxHistory = 20

// Connection is one tenant's account at one platform. Sealed holds the
// credentials as a vault envelope; nothing else here is secret.
type Connection struct {
	Tenant          string
	Platform        platform.ID
	Status          Status
	AuthType        AuthType
	AccountID       string
	AccountName     string
	Scopes          []string
	ConnectedBy     string // the user who connected it
	ConnectedAt     time.Time
	UpdatedAt       time.Time
	StatusChangedAt time.Time
	ExpiresAt       time.Time // when the access token expires; zero when it does not
	LastRefreshedAt time.Time
	LastVerifiedAt  time.Time
	LastError       *LastError
	History         []Transition
	// Workspaces are the scopes the credentials may act in where the
	// platform has several (Railway), as the platform listed them when the
	// connection was made; DefaultWorkspace is the one a deployment that
	// names none goes to: the only one, or the first listed.
	Workspaces       []platform.Workspace
	DefaultWorkspace string
	// NextCheckAt is when the token refresher should look at it next: a
	// refresh before expiry, or a daily re-verification. Zero: never.
	NextCheckAt time.Time
	// ExpiryNotice is NoticeWeek or NoticeDay once a token that cannot be
	// refreshed (Facebook's long-lived token) expires within that, as the
	// token refresher last saw it; "" otherwise (expiry.go).
	ExpiryNotice string

	Sealed []byte // the vault envelope of Credentials; nil when none are kept

	Version    int64 // optimistic concurrency
	LeaseOwner string
	LeaseUntil time.Time
}

// setStatus changes the status, recording the transition when it is one.
func (c *Connection) setStatus(s Status, reason string, now time.Time) {
	if c.Status == s {
		return
	}
	c.Status = s
	c.StatusChangedAt = now
	c.History = append(c.History, Transition{Status: s, At: now, Reason: reason})
	if len(c.History) > maxHistory {
		c.History = c.History[len(c.History)-maxHistory:]
	}
}

// lacksScopes: the connection is in error because the provider granted
// less than the product needs; only connecting again mends it.
func (c *Connection) lacksScopes() bool {
	return c.Status == StatusError && c.LastError != nil && c.LastError.Code == string(apperr.CodeMissingScopes)
}

func (c *Connection) recordError(code, message string, now time.Time) {
	c.LastError = &LastError{Code: code, Message: message, At: now}
}

// Credentials are what Sealed holds. They exist in plaintext only in memory,
// for the call that needs them.
type Credentials struct {
	AccessToken  string    `json:"accessToken,omitempty"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	TokenType    string    `json:"tokenType,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	APIKey       string    `json:"apiKey,omitempty"` // API keys and personal/team tokens
	// Secret is a credential of several fields, by its platform's field
	// names (platform.KeyCredentials.Secret).
	Secret map[string]string `json:"secret,omitempty"`
	Extra  map[string]string `json:"extra,omitempty"` // installation_id, team_id, page ids
}

// UnmarshalJSON reads credentials sealed before Secret existed too: their
// signing keys were the top-level fields appId, keyId and privateKey, read
// now into Secret under the same names.
func (c *Credentials) UnmarshalJSON(b []byte) error {
	type current Credentials // without this method
	var in struct {
		current
		AppID      string `json:"appId"`
		KeyID      string `json:"keyId"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*c = Credentials(in.current)
	for name, v := range map[string]string{"appId": in.AppID, "keyId": in.KeyID, "privateKey": in.PrivateKey} {
		if v == "" {
			continue
		}
		if c.Secret == nil {
			c.Secret = map[string]string{}
		}
		c.Secret[name] = v
	}
	return nil
}

// Bearer is the token to send: the access token, or the API key, marked
// with its kind where the platform must be told (Extra token_kind, see
// platform.TokenOfKind: Railway's workspace and project tokens).
func (c Credentials) Bearer() string {
	if c.AccessToken != "" {
		return c.AccessToken
	}
	return platform.TokenOfKind(c.Extra[ExtraTokenKind], c.APIKey)
}

// Keys of Credentials.Extra that the connection itself sets.
const (
	// ExtraTokenKind is the kind of an API token where a platform has
	// several (Railway: workspace, project; none for an account token).
	ExtraTokenKind = "token_kind"
	// ExtraTeam is the account scope calls act in by default (Vercel's
	// team, Railway's default workspace).
	ExtraTeam = "team_id"
)

func (c Credentials) empty() bool {
	return c.AccessToken == "" && c.RefreshToken == "" && c.APIKey == "" && len(c.Secret) == 0
}

func (c Credentials) marshal() ([]byte, error) { return json.Marshal(c) }
