package connection

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// ConnectSession is one hosted connect link: a short-lived page where one
// person connects a tenant's accounts. The link carries a 256-bit token;
// only its SHA-256 (Key) is stored, so the table never holds a usable
// link. The tenant and user come from the session, never from the page:
// whoever holds the link acts for the tenant that made it, for its
// platforms only, until it expires or is closed.
type ConnectSession struct {
	Key       string
	Tenant    string
	User      string        // the user whose token made the link; connections made through it name them
	Platforms []platform.ID // the platforms offered; empty: every platform
	ReturnTo  string        // where "Done" leads; "" for none
	CreatedAt time.Time
	ExpiresAt time.Time
	ClosedAt  time.Time // when "Done" was pressed; zero while open
}

// Offers reports whether the session offers the platform.
func (cs *ConnectSession) Offers(p platform.ID) bool {
	return len(cs.Platforms) == 0 || slices.Contains(cs.Platforms, p)
}

// Identity is the identity the session acts as.
func (cs *ConnectSession) Identity() Identity { return Identity{Tenant: cs.Tenant, User: cs.User} }

// UsedState is what a successful callback leaves behind under its
// state's hash, until the state would have expired, so that reloading the
// callback says the account is connected instead of "unknown state".
type UsedState struct {
	Key       string
	Tenant    string
	Platform  platform.ID
	ReturnTo  string
	ExpiresAt time.Time
}

// Session lifetimes.
const (
	DefaultSessionTTL = 15 * time.Minute
	MinSessionTTL     = time.Minute
	MaxSessionTTL     = time.Hour
)

// SessionKey is the stored form of a link token: its SHA-256, in hex.
func SessionKey(token string) string {
	sum := sha256.Sum256([]byte("connect-session\n" + token))
	return hex.EncodeToString(sum[:])
}

// CreateSessionInput is what an app asks for.
type CreateSessionInput struct {
	Platforms []string
	ReturnTo  string
	TTL       time.Duration // 0: DefaultSessionTTL
}

// CreatedSession is a new link's token (to put in its URL; never stored)
// and when it expires.
type CreatedSession struct {
	Token     string
	ExpiresAt time.Time
}

// CreateSession makes a connect link for the caller's tenant. Unknown
// platforms, a returnTo off the allowlist and a lifetime outside
// [MinSessionTTL, MaxSessionTTL] are refused and store nothing.
func (s *Service) CreateSession(ctx context.Context, id Identity, in CreateSessionInput) (_ CreatedSession, err error) {
	defer func() { err = apperr.WithOp("connection.CreateSession", err) }()
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultSessionTTL
	}
	if ttl < MinSessionTTL || ttl > MaxSessionTTL {
		return CreatedSession{}, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidConnectSession,
			"expiresInSeconds must be from %d to %d", int(MinSessionTTL.Seconds()), int(MaxSessionTTL.Seconds()))
	}
	var ps []platform.ID
	for _, p := range in.Platforms {
		d, ok := registry.Lookup(p)
		if !ok {
			return CreatedSession{}, platform.Unknown(apperr.Invalid, p)
		}
		if slices.Contains(ps, d.ID) {
			return CreatedSession{}, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidConnectSession, "%s is listed twice in platforms", d.Name)
		}
		ps = append(ps, d.ID)
	}
	if in.ReturnTo != "" {
		if err := CheckReturnTo(in.ReturnTo, s.cfg.ReturnAllowlist); err != nil {
			return CreatedSession{}, err
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return CreatedSession{}, apperr.Wrap(apperr.Internal, apperr.CodeRandomFailed, "", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	cs := &ConnectSession{Key: SessionKey(token), Tenant: id.Tenant, User: id.User, Platforms: ps,
		ReturnTo: in.ReturnTo, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.cfg.Repo.PutSession(ctx, cs); err != nil {
		return CreatedSession{}, err
	}
	return CreatedSession{Token: token, ExpiresAt: cs.ExpiresAt}, nil
}

// Why a link does not open.
var (
	ErrSessionUnknown = errors.New("connection: unknown connect session")
	ErrSessionExpired = errors.New("connection: expired connect session")
	ErrSessionClosed  = errors.New("connection: closed connect session")
)

// OpenSession finds the session of a link token. An unknown token is
// NotFound; an expired or closed session is Conflict with its own code:
// each page says plainly that the app must make a new link.
func (s *Service) OpenSession(ctx context.Context, token string) (_ *ConnectSession, err error) {
	defer func() { err = apperr.WithOp("connection.OpenSession", err) }()
	if token == "" || len(token) > 128 {
		return nil, apperr.Wrap(apperr.NotFound, apperr.CodeConnectSessionNotFound, "this connect link is not valid; ask the app for a new one", ErrSessionUnknown)
	}
	cs, err := s.cfg.Repo.GetSession(ctx, SessionKey(token))
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, apperr.Wrap(apperr.NotFound, apperr.CodeConnectSessionNotFound, "this connect link is not valid; ask the app for a new one", ErrSessionUnknown)
	case err != nil:
		return nil, err
	case !cs.ClosedAt.IsZero():
		return cs, apperr.Wrap(apperr.Conflict, apperr.CodeConnectSessionClosed, "this connect link was already used and closed; ask the app for a new one", ErrSessionClosed)
	case !cs.ExpiresAt.After(s.now()):
		return cs, apperr.Wrap(apperr.Conflict, apperr.CodeConnectSessionExpired, "this connect link has expired; ask the app for a new one", ErrSessionExpired)
	}
	return cs, nil
}

// CloseSession ends a session ("Done"): its link opens nothing more.
func (s *Service) CloseSession(ctx context.Context, cs *ConnectSession) error {
	err := s.cfg.Repo.CloseSession(ctx, cs.Key, s.now())
	if IsConflict(err) {
		return apperr.Wrap(apperr.Conflict, apperr.CodeConnectSessionClosed, "this connect link was already closed", ErrSessionClosed)
	}
	return err
}

// StartOAuthForSession begins an authorization from the connect page: as
// StartOAuth for the session's tenant and user, coming back to the page
// (back, built by the caller from the link) instead of an allowlisted
// returnTo.
func (s *Service) StartOAuthForSession(ctx context.Context, cs *ConnectSession, platformID, back string) (StartResult, error) {
	return s.startOAuth(ctx, cs.Identity(), platformID, back, false)
}

// Choices is what a connection can choose among (its platform's Choice)
// and what is chosen now. Railway's come from the connection (the
// workspaces of its grant); a Chooser client's are asked of the platform.
type Choices struct {
	Noun    string // "Page", "workspace", "owner", "team"
	Options []platform.Workspace
	Chosen  string
}

// ChoicesOf lists a connected connection's choices; a platform without
// choices is a NotFound.
func (s *Service) ChoicesOf(ctx context.Context, tenant, platformID string) (_ Choices, err error) {
	defer func() { err = apperr.WithOp("connection.ChoicesOf", err) }()
	d, c, creds, err := s.current(ctx, tenant, platform.ID(platformID))
	if err != nil {
		return Choices{}, err
	}
	return s.choicesOf(ctx, d, c, creds)
}

// choicesOf is a connection's choices, as current read and opened it.
func (s *Service) choicesOf(ctx context.Context, d platform.Descriptor, c *Connection, creds Credentials) (_ Choices, err error) {
	reg, _ := registry.Registration(string(d.ID))
	out := Choices{Noun: reg.Choice, Chosen: creds.Extra[ExtraTeam]}
	if len(c.Workspaces) > 0 {
		out.Options = c.Workspaces
		return out, nil
	}
	ch, ok := s.cfg.Choosers[d.ID]
	if reg.Choice == "" || !ok {
		return Choices{}, apperr.Errorf(apperr.NotFound, apperr.CodeChoicesNotSupported, "%s has nothing to choose", d.Name)
	}
	if out.Options, err = ch.Choices(ctx, creds.Bearer()); err != nil {
		return Choices{}, platform.ToAppError(platform.Redact(err, creds.Bearer()))
	}
	return out, nil
}

// Choose makes one of a connection's choices its default: where a
// deployment that names no workspaceId goes (Railway, Render), and where a
// livestream target that names no destination is published (Facebook).
// An id the platform does not list is refused and changes nothing.
func (s *Service) Choose(ctx context.Context, tenant, platformID, id string) (_ *Connection, err error) {
	defer func() { err = apperr.WithOp("connection.Choose", err) }()
	d, c, creds, err := s.current(ctx, tenant, platform.ID(platformID))
	if err != nil {
		return nil, err
	}
	ch, err := s.choicesOf(ctx, d, c, creds)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(ch.Options, func(w platform.Workspace) bool { return w.ID == id }) {
		names := make([]string, len(ch.Options))
		for i, w := range ch.Options {
			names[i] = w.ID
		}
		return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidChoice, "%q is not a %s this account can use; choose one of %s",
			trunc.String(id, 64), ch.Noun, strings.Join(names, ", "))
	}
	for attempt := range 3 {
		if attempt > 0 { // a refresh stored new tokens meanwhile: read them
			if d, c, creds, err = s.current(ctx, tenant, platform.ID(platformID)); err != nil {
				return nil, err
			}
		}
		if creds.Extra == nil {
			creds.Extra = map[string]string{}
		}
		creds.Extra[ExtraTeam] = id
		if c.Sealed, err = s.seal(ctx, tenant, d.ID, creds); err != nil {
			return nil, err
		}
		c.DefaultWorkspace, c.UpdatedAt = id, s.now()
		err = s.cfg.Repo.Save(ctx, c, "")
		if IsConflict(err) {
			continue // a refresh stored new tokens meanwhile: choose again over them
		}
		return c, err
	}
	return nil, apperr.E(apperr.Unavailable, apperr.CodeBusy, "the connection is changing elsewhere; try again")
}

// OAuthReady reports whether the platform can be connected by OAuth here.
func (s *Service) OAuthReady(p platform.ID) bool {
	d, ok := registry.Lookup(string(p))
	e, configured := s.cfg.Endpoints[p]
	return ok && d.Accepts(platform.AuthOAuth2) && configured && e.OAuthConfigured()
}

// AuthorizeOrigin is the origin (scheme://host[:port]) of the platform's
// authorization endpoint, "" when it has none here: the connect page's
// Content-Security-Policy lets its forms lead there (form-action).
func (s *Service) AuthorizeOrigin(p platform.ID) string {
	if !s.OAuthReady(p) {
		return ""
	}
	u, err := url.Parse(s.cfg.Endpoints[p].AuthURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
