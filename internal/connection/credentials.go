package connection

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// IsConflict reports whether err is a failed write condition (another
// writer got there first).
func IsConflict(err error) bool {
	return errors.Is(err, apperr.ErrConditionFailed)
}

// Token gives usable credentials for a tenant's connection, refreshing the
// access token first when it expires within RefreshMargin. At most one
// refresh per connection runs at a time across all instances: the others
// wait for it and read its result. A warm call costs one consistent read
// and no KMS call (the vault caches the data key).
func (s *Service) Token(ctx context.Context, tenant string, platformID platform.ID) (_ Credentials, err error) {
	defer func() { err = apperr.WithOp("connection.Token", err) }()
	d, c, creds, err := s.current(ctx, tenant, platformID)
	if err != nil {
		return Credentials{}, err
	}
	if !s.needsRefresh(d, creds, s.cfg.RefreshMargin) {
		return creds, nil
	}
	return s.refresh(ctx, d, c, creds, false)
}

// openUsable opens the credentials of a connection that may be used now.
func (s *Service) openUsable(ctx context.Context, d platform.Descriptor, c *Connection) (Credentials, error) {
	if err := usable(d, c); err != nil {
		return Credentials{}, err
	}
	return s.open(ctx, c)
}

func usable(d platform.Descriptor, c *Connection) error {
	switch c.Status {
	case StatusConnected:
		return nil
	case StatusExpired:
		return apperr.Errorf(apperr.Conflict, apperr.CodeConnectionExpired, "the %s connection has expired; reconnect it", d.Name)
	case StatusDisconnected:
		return apperr.Wrap(apperr.Conflict, apperr.CodeNotConnected, d.Name+" is disconnected; connect it first", ErrNotConnected)
	default:
		msg := "the " + d.Name + " connection is in error"
		if c.LastError != nil {
			msg += ": " + c.LastError.Message
		}
		return apperr.E(apperr.Conflict, apperr.CodeConnectionError, msg)
	}
}

// needsRefresh: an OAuth token with a refresh token that expires within
// margin.
func (s *Service) needsRefresh(d platform.Descriptor, creds Credentials, margin time.Duration) bool {
	if creds.RefreshToken == "" || creds.Expiry.IsZero() {
		return false
	}
	return !creds.Expiry.After(s.now().Add(margin))
}

// refresh renews the access token under the connection's lease. force
// refreshes even a token that is not near expiry (POST .../refresh).
func (s *Service) refresh(ctx context.Context, d platform.Descriptor, c *Connection, creds Credentials, force bool) (Credentials, error) {
	owner := s.instance + "-" + randomSuffix()
	now := s.now()
	err := s.cfg.Repo.TakeLease(ctx, c, owner, now.Add(s.cfg.LeaseTTL), now)
	if IsConflict(err) {
		// Another instance is refreshing (or just did): wait for its result.
		return s.awaitRefresh(ctx, d, c.Tenant, creds, force)
	}
	if err != nil {
		return Credentials{}, err
	}
	e := s.cfg.Endpoints[d.ID]
	// Finish well inside the lease so no other instance can take it while
	// this one still holds an unstored rotated refresh token.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.LeaseTTL/2)
	defer cancel()
	hc := s.cfg.HTTP
	if e.ScopeOnRefresh {
		hc = withRefreshScope(hc, strings.Join(e.Scopes, " "))
	}
	hctx := context.WithValue(rctx, oauth2.HTTPClient, hc)
	old := &oauth2.Token{AccessToken: creds.AccessToken, RefreshToken: creds.RefreshToken, TokenType: creds.TokenType, Expiry: time.Unix(1, 0)}
	tok, rerr := oauthConfig(e).TokenSource(hctx, old).Token()
	now = s.now()
	if rerr != nil {
		return s.refreshFailed(ctx, d, c, creds, owner, tokenError(d, "refresh the access token", rerr))
	}
	next := creds
	next.AccessToken, next.TokenType, next.Expiry = tok.AccessToken, tok.TokenType, s.expiryOf(tok)
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken // rotated: must be stored before anything uses the new access token
	}
	sealed, err := s.seal(ctx, c.Tenant, d.ID, next)
	if err != nil {
		s.releaseLease(c, owner)
		return Credentials{}, err
	}
	c.Sealed, c.ExpiresAt, c.LastRefreshedAt, c.UpdatedAt, c.LastError = sealed, next.Expiry, now, now, nil
	c.setStatus(StatusConnected, "refreshed", now)
	c.NextCheckAt = s.nextCheck(d, c, now)
	if err := s.cfg.Repo.Save(ctx, c, owner); err != nil {
		// The lease was lost, which the timeout above rules out unless the
		// store itself failed. Say so loudly: a rotated token may be lost.
		s.cfg.Logger.Error("storing refreshed credentials failed", "platform", string(d.ID), "tenant", c.Tenant, "error", err.Error())
		return Credentials{}, err
	}
	return next, nil
}

// refreshFailed records a failed refresh. invalid_grant makes the
// connection expired, but only after a re-read shows no other instance
// rotated the token meanwhile; transient failures leave the status alone.
func (s *Service) refreshFailed(ctx context.Context, d platform.Descriptor, c *Connection, creds Credentials, owner string, cause error) (Credentials, error) {
	now := s.now()
	reason := platform.ReasonOf(cause)
	ae, _ := apperr.As(cause)
	msg := cause.Error()
	if ae != nil {
		msg = ae.Detail
	}
	switch reason {
	case platform.ReasonInvalidGrant:
		fresh, err := s.cfg.Repo.Get(ctx, c.Tenant, d.ID)
		if err == nil && fresh.Version != c.Version {
			s.releaseLease(c, owner)
			if fresh.Status == StatusConnected {
				return s.open(ctx, fresh)
			}
			return Credentials{}, usable(d, fresh)
		}
		c.setStatus(StatusExpired, "invalid_grant", now)
		c.recordError("invalid_grant", d.Name+" no longer accepts the refresh token; reconnect the account", now)
	case platform.ReasonPermission, platform.ReasonInvalid:
		c.setStatus(StatusError, string(reason), now)
		c.recordError("refresh_refused", msg, now)
	default:
		c.recordError("refresh_failed", msg, now)
	}
	c.UpdatedAt = now
	c.NextCheckAt = s.nextCheck(d, c, now)
	if err := s.cfg.Repo.Save(ctx, c, owner); err != nil {
		s.releaseLease(c, owner)
		return Credentials{}, err
	}
	if reason == platform.ReasonTransient || reason == platform.ReasonRateLimited {
		// The old token may still be good for a little while.
		if creds.Expiry.After(now) {
			return creds, nil
		}
	}
	return Credentials{}, cause
}

func (s *Service) releaseLease(c *Connection, owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Repo.ReleaseLease(ctx, c.Tenant, c.Platform, owner); err != nil && !IsConflict(err) {
		s.cfg.Logger.Warn("releasing a refresh lease failed", "platform", string(c.Platform), "error", err.Error())
	}
}

// awaitRefresh waits for another instance's refresh and returns its result.
func (s *Service) awaitRefresh(ctx context.Context, d platform.Descriptor, tenant string, before Credentials, force bool) (Credentials, error) {
	c, err := s.awaitLease(ctx, d, tenant)
	if err != nil {
		return Credentials{}, err
	}
	creds, err := s.openUsable(ctx, d, c)
	if err != nil {
		return Credentials{}, err
	}
	if !s.needsRefresh(d, creds, s.cfg.RefreshMargin) || (force && creds.AccessToken != before.AccessToken) {
		return creds, nil
	}
	// The other refresh failed or the lease lapsed: try ourselves.
	return s.refresh(ctx, d, c, creds, force)
}

// awaitLease waits, for at most LeaseWait, until no live lease is held on
// the connection (a refresh or a disconnect elsewhere has finished or
// lapsed) and returns the connection as it then is.
func (s *Service) awaitLease(ctx context.Context, d platform.Descriptor, tenant string) (*Connection, error) {
	deadline := time.Now().Add(s.cfg.LeaseWait) // a real wait, whatever the service's clock
	delay := 25 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil, apperr.Wrap(apperr.Unavailable, apperr.CodeRefreshTimeout, "the token refresh did not finish in time", ctx.Err())
		case <-time.After(delay):
		}
		if delay < 400*time.Millisecond {
			delay *= 2
		}
		c, err := s.cfg.Repo.Get(ctx, tenant, d.ID)
		if err != nil {
			return nil, err
		}
		if c.LeaseOwner == "" || !c.LeaseUntil.After(s.now()) {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, apperr.E(apperr.Unavailable, apperr.CodeRefreshInProgress, "another refresh of this connection is still running; try again shortly")
		}
	}
}

// ReportUnauthorized is for platform clients: a 401 with a token that was
// just refreshed means the platform has withdrawn access, so the
// connection is expired.
func (s *Service) ReportUnauthorized(ctx context.Context, tenant string, platformID platform.ID, message string) (err error) {
	defer func() { err = apperr.WithOp("connection.ReportUnauthorized", err) }()
	d, err := lookup(string(platformID))
	if err != nil {
		return err
	}
	for range 3 {
		c, err := s.cfg.Repo.Get(ctx, tenant, d.ID)
		if err != nil {
			return err
		}
		if c.Status != StatusConnected {
			return nil
		}
		now := s.now()
		c.setStatus(StatusExpired, "unauthorized", now)
		c.recordError("unauthorized", trunc.String(message, 300), now)
		c.UpdatedAt = now
		c.NextCheckAt = time.Time{}
		if err := s.cfg.Repo.Save(ctx, c, ""); !IsConflict(err) {
			return err
		}
	}
	return apperr.E(apperr.Unavailable, apperr.CodeBusy, "the connection is changing elsewhere; try again")
}

// withRefreshScope is hc with `scope` added to every refresh_token grant
// that lacks one. golang.org/x/oauth2 (v0.37.0, oauth2.go tokenRefresher)
// sends only grant_type and refresh_token on refresh and takes no option
// for more (golang/oauth2 PR #540 proposed one), while Microsoft's
// identity platform documents scope as required on that request.
func withRefreshScope(hc *http.Client, scope string) *http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out := *hc
	out.Transport = refreshScope{next: next, scope: scope}
	return &out
}

type refreshScope struct {
	next  http.RoundTripper
	scope string
}

func (t refreshScope) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.Body == nil || t.scope == "" {
		return t.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" && !form.Has("scope") {
		form.Set("scope", t.scope)
		body = []byte(form.Encode())
	}
	// A RoundTripper must not change the request it is given: send a copy.
	out := r.Clone(r.Context())
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.next.RoundTrip(out)
}

// Renew gives credentials to try again with after the platform refused
// the token refused: an OAuth token that can be refreshed is refreshed
// now (under the lease, as Token does), unless another caller has
// replaced it meanwhile, whose newer credentials come back instead.
// Credentials that cannot be refreshed come back as they are.
func (s *Service) Renew(ctx context.Context, tenant string, platformID platform.ID, refused string) (_ Credentials, err error) {
	defer func() { err = apperr.WithOp("connection.Renew", err) }()
	d, c, creds, err := s.current(ctx, tenant, platformID)
	if err != nil {
		return Credentials{}, err
	}
	if creds.Bearer() != refused || creds.RefreshToken == "" || !s.cfg.Endpoints[d.ID].Refreshable {
		return creds, nil
	}
	return s.refresh(ctx, d, c, creds, true)
}

// ConfirmRefusal decides what a refusal the platform repeated with fresh
// credentials means, by asking the platform who the credentials belong
// to. When it answers, the refusal was about what the call acted on (a
// Railway workspace outside the grant answers "Not Authorized" just as a
// dead token does: PLATFORMS.md Railway, "Not Authorized is ambiguous"):
// accepted is true and the connection is left as it is. When it refuses
// the credentials too, the connection is marked expired (as
// ReportUnauthorized does). Any other failure of the check is the error,
// and changes nothing.
func (s *Service) ConfirmRefusal(ctx context.Context, tenant string, platformID platform.ID, message string) (accepted bool, err error) {
	defer func() { err = apperr.WithOp("connection.ConfirmRefusal", err) }()
	d, _, creds, err := s.current(ctx, tenant, platformID)
	if err != nil {
		return false, err
	}
	_, werr := s.whoami(ctx, d, creds)
	if werr == nil {
		return true, nil
	}
	switch platform.ReasonOf(werr) {
	case platform.ReasonExpiredToken, platform.ReasonInvalidGrant:
		return false, s.ReportUnauthorized(ctx, tenant, d.ID, message)
	}
	return false, werr
}

// current reads a usable connection and opens its credentials; one that
// does not exist is not_connected, which the user can act on.
func (s *Service) current(ctx context.Context, tenant string, platformID platform.ID) (platform.Descriptor, *Connection, Credentials, error) {
	d, err := lookup(string(platformID))
	if err != nil {
		return d, nil, Credentials{}, err
	}
	c, err := s.cfg.Repo.Get(ctx, tenant, d.ID)
	if apperr.Is(err, apperr.NotFound) {
		return d, nil, Credentials{}, apperr.Wrap(apperr.Conflict, apperr.CodeNotConnected, d.Name+" is not connected; connect it first", ErrNotConnected)
	}
	if err != nil {
		return d, nil, Credentials{}, err
	}
	creds, err := s.openUsable(ctx, d, c)
	return d, c, creds, err
}
