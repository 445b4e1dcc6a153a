package connection

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/trunc"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// OAuthState is the server side of one authorization in flight. Key is the
// SHA-256 of the state the browser carries, so the table never holds a
// usable state.
type OAuthState struct {
	Key            string
	Tenant         string
	User           string
	Platform       platform.ID
	SealedVerifier []byte // the PKCE verifier, sealed; nil where the platform takes no PKCE
	ReturnTo       string
	// SealedReturnTo is where to go back to when that is a connect page's
	// link, sealed: its token opens the page, so the table never holds it
	// readable (ReturnTo is then empty).
	SealedReturnTo []byte
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// Why a state was refused.
var (
	ErrStateUnknown  = errors.New("connection: unknown or already used OAuth state")
	ErrStateExpired  = errors.New("connection: expired OAuth state")
	ErrStateMismatch = errors.New("connection: OAuth state for another platform")
	// ErrNotConnected is the cause of Token's refusal when the tenant has no
	// connection to the platform or disconnected it.
	ErrNotConnected = errors.New("connection: not connected")
	// ErrNoCredentials is the cause of Token's refusal when the connection
	// holds no credentials.
	ErrNoCredentials = errors.New("connection: no credentials")
)

func stateKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

func verifierContext(tenant string, p platform.ID, key string) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposePKCEVerifier, key)
}

func connectLinkContext(tenant string, p platform.ID, key string) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposeConnectLink, key)
}

// StartResult is where to send the user.
type StartResult struct {
	AuthorizeURL string
	ExpiresAt    time.Time
}

// oauthConfig is the x/oauth2 configuration for a platform.
func oauthConfig(e platform.Endpoints) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if e.ClientAuth == platform.ClientAuthBasic {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     e.ClientID,
		ClientSecret: e.ClientSecret,
		RedirectURL:  e.CallbackURL,
		Scopes:       e.Scopes,
		Endpoint:     oauth2.Endpoint{AuthURL: e.AuthURL, TokenURL: e.TokenURL, AuthStyle: style},
	}
}

// oauthEndpoints gives a platform's OAuth endpoints, or why it cannot be
// connected by OAuth here.
func (s *Service) oauthEndpoints(d platform.Descriptor) (platform.Endpoints, error) {
	if !d.Accepts(platform.AuthOAuth2) {
		return platform.Endpoints{}, apperr.Errorf(apperr.Conflict, apperr.CodeOauthNotSupported,
			"%s does not connect with OAuth; send its credentials to POST /connections/%s", d.Name, d.ID)
	}
	e, ok := s.cfg.Endpoints[d.ID]
	if !ok || !e.OAuthConfigured() {
		return platform.Endpoints{}, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured,
			"%s is not configured on this deployment: set %s_CLIENT_ID, %s_CLIENT_SECRET and %s_CALLBACK_URL",
			d.Name, d.ID.EnvPrefix(), d.ID.EnvPrefix(), d.ID.EnvPrefix())
	}
	return e, nil
}

// StartOAuth begins an authorization: a random state, a PKCE verifier where
// the platform takes one, both kept server side for StateTTL.
func (s *Service) StartOAuth(ctx context.Context, id Identity, platformID, returnTo string) (StartResult, error) {
	return s.startOAuth(ctx, id, platformID, returnTo, true)
}

// startOAuth is StartOAuth; checkReturn false takes returnTo as it is (the
// connect page's own URL, which no allowlist names).
func (s *Service) startOAuth(ctx context.Context, id Identity, platformID, returnTo string, checkReturn bool) (_ StartResult, err error) {
	defer func() { err = apperr.WithOp("connection.StartOAuth", err) }()
	d, err := lookup(platformID)
	if err != nil {
		return StartResult{}, err
	}
	e, err := s.oauthEndpoints(d)
	if err != nil {
		return StartResult{}, err
	}
	if returnTo != "" && checkReturn {
		if err := CheckReturnTo(returnTo, s.cfg.ReturnAllowlist); err != nil {
			return StartResult{}, err
		}
	}
	raw := make([]byte, 32) // 256 bits
	if _, err := rand.Read(raw); err != nil {
		return StartResult{}, apperr.Wrap(apperr.Internal, apperr.CodeRandomFailed, "", err)
	}
	state := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	st := &OAuthState{
		Key: stateKey(state), Tenant: id.Tenant, User: id.User, Platform: d.ID,
		ReturnTo: returnTo, CreatedAt: now, ExpiresAt: now.Add(s.cfg.StateTTL),
	}
	cfg := oauthConfig(e)
	if e.ScopesInApp {
		cfg.Scopes = nil // the app's settings at the platform choose them
	}
	opts := make([]oauth2.AuthCodeOption, 0, len(e.AuthParams)+1)
	for k, v := range e.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if returnTo != "" && !checkReturn {
		sealed, err := s.cfg.Vault.Seal(ctx, []byte(returnTo), connectLinkContext(id.Tenant, d.ID, st.Key))
		if err != nil {
			return StartResult{}, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the authorization could not be prepared; try again", err)
		}
		st.ReturnTo, st.SealedReturnTo = "", sealed
	}
	if e.PKCE {
		verifier := oauth2.GenerateVerifier()
		sealed, err := s.cfg.Vault.Seal(ctx, []byte(verifier), verifierContext(id.Tenant, d.ID, st.Key))
		if err != nil {
			return StartResult{}, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the authorization could not be prepared; try again", err)
		}
		st.SealedVerifier = sealed
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	if err := s.cfg.Repo.PutState(ctx, st); err != nil {
		return StartResult{}, err
	}
	return StartResult{AuthorizeURL: cfg.AuthCodeURL(state, opts...), ExpiresAt: st.ExpiresAt}, nil
}

// CallbackResult is the outcome of a callback. ReturnTo is where to send
// the browser ("" when the state did not say: answer JSON then).
type CallbackResult struct {
	Platform   platform.ID
	ReturnTo   string
	Connected  *Connection // on success; also on missing_scopes (stored in error) and on a reload
	ErrorCode  string      // on failure: a stable code for the returnTo query
	ErrorCause error       // on failure: the error, for a JSON answer and the log
	// MissingScopes are the needed scopes the provider did not grant
	// (ErrorCode missing_scopes): the connection is stored in error.
	MissingScopes []string
	// Reloaded: the state was used already by a callback that connected
	// the account; Connected is the connection as it is now.
	Reloaded bool
}

// Callback finishes an authorization. An unusable state (missing, unknown,
// replayed, expired, for another platform) is an error and changes
// nothing. Everything after a good state is an outcome for the browser.
//
// A callback with no parameters at all from a platform that answers a
// declined consent that way (Restream) is the outcome "access_denied":
// it carries no state, so there is no returnTo to go back to, and the
// answer says plainly that the user declined.
func (s *Service) Callback(ctx context.Context, platformID string, q url.Values) (_ CallbackResult, err error) {
	defer func() { err = apperr.WithOp("connection.Callback", err) }()
	d, err := lookup(platformID)
	if err != nil {
		return CallbackResult{}, err
	}
	if len(q) == 0 && s.cfg.Endpoints[d.ID].BareDecline {
		s.cfg.Logger.Info("oauth callback failed", "platform", string(d.ID), "code", "access_denied")
		return CallbackResult{Platform: d.ID, ErrorCode: "access_denied", ErrorCause: apperr.Errorf(apperr.Unprocessable, apperr.CodeAccessDenied,
			"%s came back without an answer, which is how it reports a declined authorization: nothing was connected. "+
				"Start the connection again to connect the account.", d.Name)}, nil
	}
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		return CallbackResult{}, apperr.E(apperr.Invalid, apperr.CodeInvalidState, "the callback carries no usable state; start the connection again")
	}
	st, err := s.cfg.Repo.TakeState(ctx, stateKey(state), d.ID, s.now())
	switch {
	case errors.Is(err, ErrStateExpired):
		return CallbackResult{}, apperr.Wrap(apperr.Invalid, apperr.CodeStateExpired, "this authorization took too long and expired; start the connection again", err)
	case errors.Is(err, ErrStateMismatch):
		return CallbackResult{}, apperr.Wrap(apperr.Invalid, apperr.CodeStateMismatch, "this authorization was started for another platform", err)
	case errors.Is(err, ErrStateUnknown):
		if res, ok, rerr := s.reloaded(ctx, d, stateKey(state)); rerr != nil || ok {
			return res, rerr
		}
		return CallbackResult{}, apperr.Wrap(apperr.Invalid, apperr.CodeInvalidState, "this authorization is unknown or was already used; start the connection again", err)
	case err != nil:
		return CallbackResult{}, err
	}
	res := CallbackResult{Platform: d.ID, ReturnTo: st.ReturnTo}
	if len(st.SealedReturnTo) > 0 {
		link, err := s.cfg.Vault.Open(ctx, st.SealedReturnTo, connectLinkContext(st.Tenant, d.ID, st.Key))
		if err != nil {
			return CallbackResult{}, apperr.Wrap(apperr.Unavailable, apperr.CodeOpenFailed, "the authorization could not be finished; try again from the app", err)
		}
		res.ReturnTo = string(link)
	}
	fail := func(code apperr.Code, cause error) (CallbackResult, error) {
		res.ErrorCode, res.ErrorCause = string(code), cause
		s.cfg.Logger.Info("oauth callback failed", "platform", string(d.ID), "tenant", st.Tenant, "code", string(code), "error", cause.Error())
		return res, nil
	}
	if err := checkIssuer(d, s.cfg.Endpoints[d.ID], q); err != nil {
		return fail(apperr.CodeIssuerMismatch, err)
	}
	if e := q.Get("error"); e != "" {
		// The platform's own OAuth error code (RFC 6749 §4.1.2.1) passes
		// through, cleaned, so the caller sees what the platform said.
		code := apperr.Code(safeCode(e))
		return fail(code, apperr.Errorf(apperr.Unprocessable, code, "%s answered %s: %s", d.Name, code, trunc.String(q.Get("error_description"), 200)))
	}
	code := q.Get("code")
	if code == "" {
		return fail(apperr.CodeMissingCode, apperr.E(apperr.Invalid, apperr.CodeMissingCode, "the callback carries neither a code nor an error"))
	}
	e, err := s.oauthEndpoints(d)
	if err != nil {
		return fail(apperr.CodePlatformNotConfigured, err)
	}
	var opts []oauth2.AuthCodeOption
	if len(st.SealedVerifier) > 0 {
		v, err := s.cfg.Vault.Open(ctx, st.SealedVerifier, verifierContext(st.Tenant, d.ID, st.Key))
		if err != nil {
			return fail(apperr.CodeInternalError, apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", err))
		}
		opts = append(opts, oauth2.VerifierOption(string(v)))
		wipeBytes(v)
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTP)
	tok, err := oauthConfig(e).Exchange(hctx, code, opts...)
	if err != nil {
		return fail(apperr.CodeExchangeFailed, exchangeFailed(d, tokenError(d, "exchange the authorization code", err)))
	}
	creds, err := s.credentialsFromToken(ctx, d, e, tok)
	if err != nil {
		return fail(apperr.CodeExchangeFailed, exchangeFailed(d, err))
	}
	acct, err := s.whoami(ctx, d, creds)
	if err != nil {
		return fail(apperr.CodeAccountUnreadable, platform.ToAppError(err))
	}
	granted := scopesOf(tok, e)
	if gr, ok := s.cfg.Grants[d.ID]; ok && len(e.NeededScopes) > 0 {
		if granted, err = gr.GrantedScopes(ctx, creds.Bearer()); err != nil {
			return fail(apperr.CodeAccountUnreadable, platform.ToAppError(platform.Redact(err, creds.Bearer())))
		}
	}
	missing := missingScopes(e.NeededScopes, granted)
	conn, err := s.upsertConnected(ctx, st.Tenant, st.User, d, AuthOAuth2, creds, acct, granted, missing)
	if err != nil {
		return fail(apperr.CodeInternalError, err)
	}
	res.Connected = conn
	if len(missing) > 0 {
		res.MissingScopes = missing
		e := apperr.E(apperr.Unprocessable, apperr.CodeMissingScopes, conn.LastError.Message)
		e.Fields = map[string]any{"platform": string(d.ID), "missingScopes": missing}
		return fail(apperr.CodeMissingScopes, e)
	}
	used := UsedState{Key: st.Key, Tenant: st.Tenant, Platform: d.ID, ReturnTo: st.ReturnTo, ExpiresAt: s.now().Add(s.cfg.StateTTL)}
	if err := s.cfg.Repo.MarkStateUsed(ctx, used); err != nil {
		// Only a reload's answer depends on it: the connect itself stands.
		s.cfg.Logger.Warn("recording a used OAuth state failed", "platform", string(d.ID), "error", err.Error())
	}
	return res, nil
}

// reloaded answers a callback whose state a successful callback used
// already (a reload, or the browser's back and forward): the account's
// connection as it is now, and where the first callback went.
func (s *Service) reloaded(ctx context.Context, d platform.Descriptor, key string) (CallbackResult, bool, error) {
	u, ok, err := s.cfg.Repo.UsedState(ctx, key, s.now())
	if err != nil || !ok || u.Platform != d.ID {
		return CallbackResult{}, false, err
	}
	c, err := s.cfg.Repo.View(ctx, u.Tenant, d.ID)
	if apperr.Is(err, apperr.NotFound) {
		return CallbackResult{}, false, nil
	}
	if err != nil {
		return CallbackResult{}, false, err
	}
	res := CallbackResult{Platform: d.ID, ReturnTo: u.ReturnTo, Connected: c, Reloaded: true}
	if c.Status != StatusConnected {
		res.ErrorCode = string(apperr.CodeNotConnected)
		res.ErrorCause = apperr.Errorf(apperr.Conflict, apperr.CodeNotConnected,
			"this authorization connected %s earlier, but the connection is %s now; connect it again", d.Name, c.Status)
	}
	return res, true, nil
}

// checkIssuer refuses an authorization response whose iss (RFC 9207
// 2.4) is not the platform's issuer, where both are known: a response
// from another authorization server (a mix-up attack) is not used.
func checkIssuer(d platform.Descriptor, e platform.Endpoints, q url.Values) error {
	iss, sent := q["iss"]
	if !sent || e.Issuer == "" {
		return nil
	}
	if len(iss) == 1 && iss[0] == e.Issuer {
		return nil
	}
	return apperr.Errorf(apperr.Unprocessable, apperr.CodeIssuerMismatch,
		"the authorization response came from the issuer %q, not from %s's (%s): it was refused and nothing was connected; start the connection again",
		trunc.String(strings.Join(iss, ","), 200), d.Name, e.Issuer)
}

// missingScopes are the needed scopes not among those granted.
func missingScopes(needed, granted []string) []string {
	var out []string
	for _, n := range needed {
		if !slices.Contains(granted, n) {
			out = append(out, n)
		}
	}
	return out
}

// exchangeFailed is the answer to a code the platform would not exchange
// for tokens. It is not an expired connection (there is none yet): a
// refused or already used code is 422, a platform that could not answer
// keeps its 503 or 502; each says to start again.
func exchangeFailed(d platform.Descriptor, err error) error {
	kind := apperr.KindOf(err)
	var retry time.Duration
	var fields map[string]any
	if ae, ok := apperr.As(err); ok {
		retry, fields = ae.RetryAfter, ae.Fields
	}
	switch kind {
	case apperr.Unavailable, apperr.Upstream, apperr.Internal:
	default:
		kind = apperr.Unprocessable
	}
	why := "it refused the request"
	if pe, ok := platform.AsError(err); ok && pe.Message != "" {
		why = pe.Message
	}
	e := apperr.Wrap(kind, apperr.CodeExchangeFailed, fmt.Sprintf("%s did not exchange the authorization code for tokens (%s); start the connection again", d.Name, why), err)
	e.RetryAfter, e.Fields = retry, fields
	return e
}

// expiryOf is when a token expires by the service's clock: the answer's
// expires_in counted from now, or the library's Expiry when there is none.
func (s *Service) expiryOf(tok *oauth2.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return s.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok.Expiry
}

// credentialsFromToken turns a token answer into credentials, with each
// platform's peculiarities.
func (s *Service) credentialsFromToken(ctx context.Context, d platform.Descriptor, e platform.Endpoints, tok *oauth2.Token) (Credentials, error) {
	creds := Credentials{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType, Expiry: s.expiryOf(tok)}
	switch e.Exchange {
	case platform.ExchangeLongLived:
		if s.cfg.LongLived == nil {
			return creds, apperr.E(apperr.Internal, apperr.CodeLongLivedUnavailable, "")
		}
		long, ttl, err := s.cfg.LongLived(ctx, e, tok.AccessToken)
		if err != nil {
			return creds, platform.ToAppError(err)
		}
		creds.AccessToken, creds.RefreshToken = long, ""
		creds.Expiry = time.Time{}
		if ttl > 0 {
			creds.Expiry = s.now().Add(ttl)
		}
	case platform.ExchangeIntegration:
		creds.Extra = map[string]string{}
		for _, k := range []string{"installation_id", "team_id", "user_id"} {
			if v, ok := tok.Extra(k).(string); ok && v != "" {
				creds.Extra[k] = v
			}
		}
	}
	return creds, nil
}

// scopesOf are the scopes granted: the token answer's scope, or, where it
// has none, those asked for (RFC 6749 5.1: scope is OPTIONAL "if identical
// to the scope requested by the client"). A scope member that is present
// but empty granted nothing.
func scopesOf(tok *oauth2.Token, e platform.Endpoints) []string {
	if s, ok := tok.Extra("scope").(string); ok {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	return e.Scopes
}

// whoami names the account behind credentials.
func (s *Service) whoami(ctx context.Context, d platform.Descriptor, creds Credentials) (platform.Account, error) {
	if v, ok := s.cfg.Keys[d.ID]; ok && creds.AccessToken == "" {
		return v(ctx, creds)
	}
	r, ok := s.cfg.Accounts[d.ID]
	if !ok {
		return platform.Account{}, &platform.Error{Platform: d.ID, Op: "read the account", Reason: platform.ReasonUnsupported, Message: "no account reader is configured"}
	}
	return r.Whoami(ctx, creds.Bearer())
}

// upsertConnected stores credentials as a connected connection, creating
// or replacing what was there (a reconnect keeps the history). With auth
// none nothing is sealed or kept.
//
// missing are needed scopes the provider did not grant: the connection is
// then stored in error (missing_scopes, naming them), with its
// credentials, so that the app sees why and the user can reconnect.
func (s *Service) upsertConnected(ctx context.Context, tenant, user string, d platform.Descriptor, auth AuthType, creds Credentials, acct platform.Account, scopes, missing []string) (*Connection, error) {
	if len(acct.Extra) > 0 {
		if creds.Extra == nil {
			creds.Extra = map[string]string{}
		}
		for k, v := range acct.Extra {
			creds.Extra[k] = v
		}
	}
	defaultWorkspace := ""
	if len(acct.Workspaces) > 0 {
		// The only workspace, or the first the platform lists; a
		// deployment may name another of them (workspaceId).
		defaultWorkspace = acct.Workspaces[0].ID
		if creds.Extra == nil {
			creds.Extra = map[string]string{}
		}
		creds.Extra[ExtraTeam] = defaultWorkspace
	}
	var sealed []byte // none for public Jitsi rooms, which need no credentials
	if auth != AuthNone {
		var err error
		if sealed, err = s.seal(ctx, tenant, d.ID, creds); err != nil {
			return nil, err
		}
	}
	for attempt := 0; attempt < 3; attempt++ {
		now := s.now()
		c, err := s.cfg.Repo.Get(ctx, tenant, d.ID)
		if apperr.Is(err, apperr.NotFound) {
			c, err = &Connection{Tenant: tenant, Platform: d.ID}, nil
		}
		if err != nil {
			return nil, err
		}
		if c.ConnectedAt.IsZero() || c.Status == StatusDisconnected {
			c.ConnectedAt = now
		}
		c.setStatus(StatusConnected, "connected", now)
		c.AuthType, c.AccountID, c.AccountName, c.Scopes, c.ConnectedBy = auth, acct.ID, acct.Name, scopes, user
		c.UpdatedAt, c.LastVerifiedAt, c.LastError = now, now, nil
		if len(missing) > 0 {
			c.setStatus(StatusError, string(apperr.CodeMissingScopes), now)
			c.recordError(string(apperr.CodeMissingScopes), fmt.Sprintf("%s was connected without permissions Switchboard needs: %s. Connect it again and allow them.",
				d.Name, strings.Join(missing, ", ")), now)
		}
		c.ExpiresAt = creds.Expiry
		c.Workspaces, c.DefaultWorkspace = acct.Workspaces, defaultWorkspace
		c.Sealed = sealed
		c.NextCheckAt = s.nextCheck(d, c, now)
		if err := s.cfg.Repo.Save(ctx, c, ""); err != nil {
			if IsConflict(err) {
				continue // another write won; read again and retry
			}
			return nil, err
		}
		return c, nil
	}
	return nil, apperr.E(apperr.Unavailable, apperr.CodeBusy, "the connection is changing elsewhere; try again")
}

// nextCheck is when the refresher should look at a connection again.
func (s *Service) nextCheck(d platform.Descriptor, c *Connection, now time.Time) time.Time {
	if c.Status == StatusDisconnected || c.Status == StatusExpired || c.AuthType == AuthNone || c.lacksScopes() {
		return time.Time{}
	}
	if c.Status == StatusError {
		return now.Add(time.Hour)
	}
	e := s.cfg.Endpoints[d.ID]
	verify := c.LastVerifiedAt.Add(s.cfg.VerifyEvery)
	if c.AuthType == AuthOAuth2 && e.Refreshable && !c.ExpiresAt.IsZero() {
		return c.ExpiresAt.Add(-s.cfg.DueWindow)
	}
	if at := nextNoticeAt(c.ExpiresAt, now); !at.IsZero() && at.Before(verify) {
		verify = at // the expiry notices are written when due (expiry.go)
	}
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(verify) {
		return c.ExpiresAt
	}
	return verify
}

// safeCode keeps an error code from a query string short and plain.
func safeCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		}
		if b.Len() >= 64 {
			break
		}
	}
	if b.Len() == 0 {
		return string(apperr.CodeAuthorizationFailed)
	}
	return b.String()
}

// tokenError classifies a token endpoint failure.
func tokenError(d platform.Descriptor, op string, err error) error {
	pe := &platform.Error{Platform: d.ID, Op: op, Reason: platform.ReasonTransient, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			pe.Status = re.Response.StatusCode
			pe.RetryAfter = platform.ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		}
		pe.Code = re.ErrorCode
		pe.Message = trunc.String(strings.TrimSpace(re.ErrorCode+" "+re.ErrorDescription), 200)
		switch {
		case re.ErrorCode == "invalid_grant":
			pe.Reason = platform.ReasonInvalidGrant
		case pe.Status == 429:
			pe.Reason = platform.ReasonRateLimited
		case pe.Status >= 500 || pe.Status == 0:
			pe.Reason = platform.ReasonTransient
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
			pe.Reason = platform.ReasonPermission
		default:
			pe.Reason = platform.ReasonInvalid
		}
		if pe.Message == "" {
			pe.Message = "the token endpoint refused the request"
		}
	} else {
		pe.Message = "could not reach the token endpoint"
	}
	return platform.ToAppError(pe)
}
