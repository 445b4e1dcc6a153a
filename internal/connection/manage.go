package connection

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Get reads one connection.
func (s *Service) Get(ctx context.Context, tenant, platformID string) (_ *Connection, err error) {
	defer func() { err = apperr.WithOp("connection.Get", err) }()
	d, err := lookup(platformID)
	if err != nil {
		return nil, err
	}
	c, err := s.cfg.Repo.Get(ctx, tenant, d.ID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.Errorf(apperr.NotFound, apperr.CodeConnectionNotFound, "%s has never been connected", d.Name)
	}
	return c, err
}

// List pages through a tenant's connections.
func (s *Service) List(ctx context.Context, tenant, cursor string, limit int) (_ []*Connection, _ string, err error) {
	defer func() { err = apperr.WithOp("connection.List", err) }()
	return s.cfg.Repo.List(ctx, tenant, cursor, limit)
}

// KeyFields lists the credential fields a platform takes on
// POST /connections/{platform}, for documentation and errors.
func KeyFields(p platform.ID) []string {
	if r, ok := registry.Registration(string(p)); ok && r.Key != nil {
		return r.Key.Fields
	}
	return nil
}

// ConnectWithKey connects an API-key platform: the credentials are checked
// at the platform (Jitsi JaaS: the key must parse and sign), sealed and
// stored. Bad credentials are refused with the platform's reason and
// change nothing.
func (s *Service) ConnectWithKey(ctx context.Context, id Identity, platformID string, input map[string]string) (_ *Connection, err error) {
	defer func() { err = apperr.WithOp("connection.ConnectWithKey", err) }()
	d, err := lookup(platformID)
	if err != nil {
		return nil, err
	}
	reg, _ := registry.Registration(string(d.ID))
	if reg.Key == nil || !(d.Accepts(platform.AuthAPIKey) || d.Accepts(platform.AuthNone)) {
		e := apperr.Errorf(apperr.Conflict, apperr.CodeOauthRequired,
			"%s connects with OAuth: POST /connections/%s/oauth starts it", d.Name, d.ID)
		e.Fields = map[string]any{"oauthStart": "/connections/" + string(d.ID) + "/oauth"}
		return nil, e
	}
	fields := reg.Key.Fields
	allowed := map[string]bool{}
	for _, f := range fields {
		allowed[f] = true
	}
	for k, v := range input {
		if !allowed[k] {
			return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidCredentials, "%s takes the credential fields %s; %q is not one", d.Name, strings.Join(fields, ", "), trunc.String(k, 40))
		}
		if len(v) > 16<<10 {
			return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidCredentials, "credential field %s is too long", k)
		}
	}
	kc, err := reg.Key.Parse(input)
	if err != nil {
		return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidCredentials, "%s", err.Error())
	}
	creds := Credentials{APIKey: kc.APIKey, Secret: kc.Secret}
	for k, v := range map[string]string{ExtraTokenKind: kc.TokenKind, ExtraTeam: kc.Team} {
		if v == "" {
			continue
		}
		if creds.Extra == nil {
			creds.Extra = map[string]string{}
		}
		creds.Extra[k] = v
	}
	auth := AuthAPIKey
	if kc.None {
		auth = AuthNone
	}
	var acct platform.Account
	switch {
	case auth == AuthNone:
		acct = reg.Key.PublicAccount
	case creds.empty():
		return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidCredentials, "%s needs %s", d.Name, strings.Join(fields, ", "))
	default:
		verify, ok := s.cfg.Keys[d.ID]
		if !ok {
			return nil, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "%s key verification is not configured here", d.Name)
		}
		acct, err = verify(ctx, creds)
		if err != nil {
			return nil, keyRefused(d, err)
		}
	}
	return s.upsertConnected(ctx, id.Tenant, id.User, d, auth, creds, acct, nil, nil)
}

// keyRefused turns a failed verification into a 422 with the platform's
// reason, unless the platform could not be asked at all.
func keyRefused(d platform.Descriptor, err error) error {
	pe, ok := platform.AsError(err)
	if !ok {
		return apperr.Wrap(apperr.Unprocessable, apperr.CodeInvalidCredentials, d.Name+" refused the credentials: "+trunc.String(err.Error(), 200), err)
	}
	if pe.Retryable() {
		return platform.ToAppError(err)
	}
	e := apperr.Wrap(apperr.Unprocessable, apperr.CodeInvalidCredentials, d.Name+" refused the credentials: "+pe.Message, err)
	e.Fields = map[string]any{"platform": string(d.ID), "reason": string(pe.Reason)}
	return e
}

// Refresh refreshes a connection's token now, or re-verifies its key or
// non-refreshable token, and records the outcome in its status.
func (s *Service) Refresh(ctx context.Context, tenant, platformID string) (_ *Connection, err error) {
	defer func() { err = apperr.WithOp("connection.Refresh", err) }()
	c, err := s.Get(ctx, tenant, platformID)
	if err != nil {
		return nil, err
	}
	d, _ := registry.Lookup(string(c.Platform))
	if c.Status == StatusDisconnected {
		return nil, apperr.Wrap(apperr.Conflict, apperr.CodeNotConnected, d.Name+" is disconnected; connect it again", ErrNotConnected)
	}
	read := c.Version
	if _, err := s.check(ctx, d, c, checkForced); err != nil && !apperr.Is(err, apperr.Upstream) &&
		!apperr.Is(err, apperr.Unavailable) && !apperr.Is(err, apperr.Conflict) && !apperr.Is(err, apperr.Unprocessable) {
		return nil, err
	}
	if c.Version != read {
		// This call saved c, conditionally on the version it read: c is
		// what is stored, so reading it again would be a wasted round trip.
		return c, nil
	}
	return s.cfg.Repo.Get(ctx, tenant, d.ID)
}

// checkMode says how eagerly check refreshes a refreshable token.
type checkMode int

const (
	// checkDue: the index of due work listed the connection, which already
	// means its token expires within DueWindow (NextCheckAt is its expiry
	// less DueWindow), so it is refreshed without a second expiry test;
	// an expired connection is left alone.
	checkDue checkMode = iota
	// checkForced: POST .../refresh, even a token far from expiry and even
	// an expired connection.
	checkForced
)

// check refreshes a refreshable OAuth connection or verifies any other,
// recording what it finds. It reports whether it asked the platform
// (false: nothing to do).
func (s *Service) check(ctx context.Context, d platform.Descriptor, c *Connection, mode checkMode) (bool, error) {
	if c.lacksScopes() {
		// A refresh or a check cannot grant what the user left out: only
		// connecting again can, so the error stands.
		return false, apperr.E(apperr.Conflict, apperr.CodeMissingScopes, c.LastError.Message)
	}
	switch c.AuthType {
	case AuthNone:
		return false, nil
	case AuthOAuth2:
		creds, err := s.open(ctx, c)
		if err != nil {
			return false, err
		}
		if creds.RefreshToken != "" && s.cfg.Endpoints[d.ID].Refreshable {
			if c.Status == StatusExpired && mode != checkForced {
				return false, nil
			}
			got, err := s.refresh(ctx, d, c, creds, mode == checkForced)
			if err == nil && !renewed(creds, got) {
				// refresh hands back the old, still valid token when the
				// platform failed transiently; for a check that is a failure.
				err = apperr.Errorf(apperr.Unavailable, apperr.CodeRefreshFailed, "the %s token was not refreshed; the next run tries again", d.Name)
			}
			return true, err
		}
		return true, s.verify(ctx, d, c, creds)
	default:
		creds, err := s.open(ctx, c)
		if err != nil {
			return false, err
		}
		return true, s.verify(ctx, d, c, creds)
	}
}

// renewed reports whether got is a newer token than old.
func renewed(old, got Credentials) bool {
	return got.AccessToken != old.AccessToken || got.Expiry.After(old.Expiry)
}

// verify asks the platform whether the credentials still work.
func (s *Service) verify(ctx context.Context, d platform.Descriptor, c *Connection, creds Credentials) error {
	_, verr := s.whoami(ctx, d, creds)
	now := s.now()
	if verr == nil && !creds.Expiry.IsZero() && !creds.Expiry.After(now) {
		verr = &platform.Error{Platform: d.ID, Op: "verify", Reason: platform.ReasonExpiredToken, Message: "the token's lifetime is over"}
	}
	reason := platform.ReasonOf(verr)
	switch {
	case verr == nil:
		c.setStatus(StatusConnected, "verified", now)
		c.LastError = nil
		c.LastVerifiedAt = now
	case reason == platform.ReasonExpiredToken || reason == platform.ReasonInvalidGrant:
		c.setStatus(StatusExpired, string(reason), now)
		c.recordError(string(reason), d.Name+" no longer accepts the credentials; reconnect the account", now)
	case reason == platform.ReasonPermission || reason == platform.ReasonNotEligible:
		c.setStatus(StatusError, string(reason), now)
		c.recordError(string(reason), messageOf(verr), now)
	default:
		c.recordError("verify_failed", messageOf(verr), now)
	}
	c.UpdatedAt = now
	if c.Status == StatusConnected {
		c.ExpiryNotice = expiryNotice(c.ExpiresAt, now)
	}
	c.NextCheckAt = s.nextCheck(d, c, now)
	if c.Status == StatusConnected && verr != nil {
		c.NextCheckAt = now.Add(10 * time.Minute) // transient: look again soon
	}
	if err := s.cfg.Repo.Save(ctx, c, ""); err != nil {
		return err
	}
	if verr != nil {
		return platform.ToAppError(verr)
	}
	return nil
}

func messageOf(err error) string {
	if pe, ok := platform.AsError(err); ok && pe.Message != "" {
		return trunc.String(pe.Message, 300)
	}
	return trunc.String(err.Error(), 300)
}

// Disconnect revokes at the platform what the connection alone holds (see
// revokeOwned), deletes the credentials and marks the connection
// disconnected, and says what it revoked. A failed revoke is recorded and
// does not block the disconnect. It holds the connection's refresh lease
// while it revokes and writes, so a refresh in flight finishes (and stores
// its rotated token) first and the token revoked is the one current when
// the disconnect wins; no refresh starts after it.
func (s *Service) Disconnect(ctx context.Context, tenant, platformID string) (_ Revocation, err error) {
	defer func() { err = apperr.WithOp("connection.Disconnect", err) }()
	c, err := s.Get(ctx, tenant, platformID)
	if err != nil {
		return Revocation{}, err
	}
	d, _ := registry.Lookup(string(c.Platform))
	already := Revocation{Platform: d.ID, Revoked: RevokedNone, Reason: d.Name + " was disconnected already"}
	var (
		rev       Revocation
		revokeErr error
		tried     bool
		revoked   []byte // the sealed credentials revoked so far
	)
	for range 3 {
		if c.Status == StatusDisconnected {
			return already, nil
		}
		owner, err := s.holdLease(ctx, d, c)
		if err != nil {
			return Revocation{}, err
		}
		if c.Status == StatusDisconnected { // disconnected while we waited
			return already, nil
		}
		if !tried || !bytes.Equal(c.Sealed, revoked) { // new credentials since the last try: revoke those
			tried, revoked = true, c.Sealed
			rev, revokeErr = s.revokeCurrent(ctx, d, c)
		}
		now := s.now()
		c.setStatus(StatusDisconnected, "disconnected", now)
		c.Sealed, c.ExpiresAt, c.NextCheckAt, c.UpdatedAt = nil, time.Time{}, time.Time{}, now
		c.LastError = nil
		if revokeErr != nil {
			c.recordError("revoke_failed", "the platform could not be told to revoke access: "+messageOf(revokeErr), now)
			s.cfg.Logger.Warn("revoke failed", "platform", string(d.ID), "tenant", tenant, "error", revokeErr.Error())
		}
		err = s.cfg.Repo.Save(ctx, c, owner)
		if !IsConflict(err) {
			return rev, err
		}
		// Another write (a verification, a reconnect) got in: read it and
		// go again, revoking what it stored.
		if c, err = s.cfg.Repo.Get(ctx, tenant, d.ID); err != nil {
			return Revocation{}, err
		}
	}
	return Revocation{}, apperr.E(apperr.Unavailable, apperr.CodeBusy, "the connection is changing elsewhere; try again")
}

// revokeCurrent revokes what c's current credentials alone hold and says
// what it did; a failure is in the Revocation and the error.
func (s *Service) revokeCurrent(ctx context.Context, d platform.Descriptor, c *Connection) (Revocation, error) {
	rev := Revocation{Platform: d.ID, Revoked: RevokedNone, Reason: "Switchboard held no credentials for " + d.Name}
	if len(c.Sealed) == 0 {
		return rev, nil
	}
	creds, err := s.open(ctx, c)
	if err == nil {
		rev, err = s.revokeOwned(ctx, d, c, creds)
	}
	if err != nil {
		rev = failedRevocation(rev, err)
	}
	return rev, err
}

// holdLease takes c's refresh lease for a disconnect, first waiting out a
// refresh that holds it, and leaves c as stored when the lease was taken.
func (s *Service) holdLease(ctx context.Context, d platform.Descriptor, c *Connection) (string, error) {
	owner := s.instance + "-" + randomSuffix()
	for range 3 {
		now := s.now()
		err := s.cfg.Repo.TakeLease(ctx, c, owner, now.Add(s.cfg.LeaseTTL), now)
		if !IsConflict(err) {
			return owner, err
		}
		fresh, err := s.awaitLease(ctx, d, c.Tenant) // a refresh in flight: let it store its token
		if err != nil {
			return "", err
		}
		*c = *fresh
		if c.Status == StatusDisconnected {
			return "", nil
		}
	}
	return "", apperr.E(apperr.Unavailable, apperr.CodeBusy, "the connection is changing elsewhere; try again")
}

// revoke asks the platform to revoke the credentials, where it has a way.
func (s *Service) revoke(ctx context.Context, d platform.Descriptor, creds Credentials) error {
	e := s.cfg.Endpoints[d.ID]
	if e.RevokeURL == "" || (creds.AccessToken == "" && creds.RefreshToken == "") {
		return nil // no endpoint (Teams, Railway, Vercel tokens, API keys): deleting is all there is
	}
	token, hint := creds.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = creds.AccessToken, "access_token"
	}
	caller := &platform.Caller{Platform: d.ID, HTTP: s.cfg.HTTP, MaxTries: 2}
	req := platform.Request{Op: "revoke access", Idempotent: true}
	switch e.RevokeMethod {
	case "graph-permissions":
		req.Method, req.Path, req.Token = "DELETE", e.RevokeURL, creds.AccessToken
	case "query":
		// Zoom revokes with the access token, refreshed first when it has
		// expired. Evidence: PLATFORMS.md Zoom "(corrected) Revoke";
		// `POST https://zoom.us/oauth/revoke?token={ACCESS_TOKEN}` with Basic client auth.
		access, err := s.liveAccessToken(ctx, d, e, creds)
		if err != nil {
			return err
		}
		req.Method, req.Path, req.Query = "POST", e.RevokeURL, url.Values{"token": {access}}
		req.Header = basicAuth(e)
	default:
		req.Method, req.Path = "POST", e.RevokeURL
		req.Form = url.Values{"token": {token}, "token_type_hint": {hint}}
		if e.ClientAuth == platform.ClientAuthBasic {
			req.Header = basicAuth(e)
		} else if e.ClientID != "" {
			req.Form.Set("client_id", e.ClientID)
			if e.ClientSecret != "" {
				req.Form.Set("client_secret", e.ClientSecret)
			}
		}
	}
	_, err := caller.Do(ctx, req)
	return err
}

// liveAccessToken is creds' access token, or, when it has expired and a
// refresh token is there, a fresh one. The refreshed tokens are not stored:
// the connection is being disconnected and its credentials deleted, and
// revoking the access token ends the whole grant.
func (s *Service) liveAccessToken(ctx context.Context, d platform.Descriptor, e platform.Endpoints, creds Credentials) (string, error) {
	if creds.RefreshToken == "" || creds.AccessToken != "" && (creds.Expiry.IsZero() || creds.Expiry.After(s.now())) {
		return creds.AccessToken, nil
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, s.cfg.HTTP)
	old := &oauth2.Token{RefreshToken: creds.RefreshToken, Expiry: time.Unix(1, 0)}
	tok, err := oauthConfig(e).TokenSource(hctx, old).Token()
	if err != nil {
		return "", tokenError(d, "refresh the access token before revoking it", err)
	}
	return tok.AccessToken, nil
}

func basicAuth(e platform.Endpoints) map[string][]string {
	return map[string][]string{"Authorization": {"Basic " + basicCredentials(e.ClientID, e.ClientSecret)}}
}
