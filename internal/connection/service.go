package connection

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Repo is the connection storage the service needs.
type Repo interface {
	Get(ctx context.Context, tenant string, p platform.ID) (*Connection, error)
	// View is Get without the credentials (Sealed is empty), for an answer,
	// which never shows them.
	View(ctx context.Context, tenant string, p platform.ID) (*Connection, error)
	// List pages through a tenant's connections without their credentials
	// (Sealed is empty): no list shows them.
	List(ctx context.Context, tenant, cursor string, limit int) ([]*Connection, string, error)
	// Save writes c when the stored version is still c.Version (0: no item
	// yet) and, when leaseOwner is not empty, that owner still holds the
	// refresh lease; it releases the lease and bumps c.Version. A failed
	// condition is an error for which IsConflict is true.
	Save(ctx context.Context, c *Connection, leaseOwner string) error
	// TakeLease marks c as being refreshed by owner until until, when the
	// stored version is c.Version and no lease is live at now.
	TakeLease(ctx context.Context, c *Connection, owner string, until, now time.Time) error
	ReleaseLease(ctx context.Context, tenant string, p platform.ID, owner string) error
	// Due lists connections whose NextCheckAt is at or before before, in
	// that order, through the index of due work.
	Due(ctx context.Context, before time.Time, cursor string, limit int) ([]DueRef, string, error)
	PutState(ctx context.Context, st *OAuthState) error
	// TakeState deletes and returns the state stored under key, only when
	// it is for platform p and has not expired at now. Otherwise it changes
	// nothing and says why (StateUnknown, StateExpired, StateMismatch).
	TakeState(ctx context.Context, key string, p platform.ID, now time.Time) (*OAuthState, error)
	// MarkStateUsed and UsedState keep what a successful callback did
	// under its state's key until the state would have expired.
	MarkStateUsed(ctx context.Context, u UsedState) error
	UsedState(ctx context.Context, key string, now time.Time) (UsedState, bool, error)
	// PutSession stores a new connect session; GetSession reads one (the
	// store's NotFound when there is none); CloseSession marks it closed
	// once (a failed condition when it was closed already).
	PutSession(ctx context.Context, cs *ConnectSession) error
	GetSession(ctx context.Context, key string) (*ConnectSession, error)
	CloseSession(ctx context.Context, key string, at time.Time) error
}

// DueRef names a connection that is due for a check.
type DueRef struct {
	Tenant   string
	Platform platform.ID
	DueAt    time.Time
}

// AccountReader reads the account behind an access token (whoami).
type AccountReader interface {
	Whoami(ctx context.Context, token string) (platform.Account, error)
}

// KeyVerifier checks API-key credentials at the platform (or, for Jitsi
// JaaS, that the key parses and signs) and names the account.
type KeyVerifier func(ctx context.Context, creds Credentials) (platform.Account, error)

// LongLivedExchanger trades Meta's short-lived user token for a long-lived
// one.
type LongLivedExchanger func(ctx context.Context, e platform.Endpoints, shortToken string) (token string, expiresIn time.Duration, err error)

// Config is what a Service is built from.
type Config struct {
	Repo      Repo
	Vault     vault.Sealer
	Endpoints map[platform.ID]platform.Endpoints // every platform's endpoints and client credentials
	Accounts  map[platform.ID]AccountReader      // whoami for OAuth connections
	Keys      map[platform.ID]KeyVerifier        // verification of key credentials
	LongLived LongLivedExchanger                 // Facebook and Instagram
	// Revokers revoke through the platform's client, in part or whole
	// (Facebook and Instagram); other platforms revoke at their RevokeURL.
	Revokers map[platform.ID]GrantRevoker
	// Choosers list what a connection can choose among (platform.Chooser:
	// a Facebook Page, a Render owner), for the connect page.
	Choosers map[platform.ID]platform.Chooser
	// Grants read the scopes a user granted where the token answer does not
	// say (platform.GrantReader: Meta's /me/permissions), for the
	// NeededScopes check after the exchange.
	Grants map[platform.ID]platform.GrantReader
	// ReturnAllowlist holds the origins (scheme://host[:port][/path]) that
	// returnTo may point at; "*." before a host allows its subdomains.
	ReturnAllowlist []string
	HTTP            *http.Client // for token endpoints; a client with timeouts
	Logger          *slog.Logger
	Now             func() time.Time

	RefreshMargin time.Duration // Token refreshes when the token expires within it (2 min)
	DueWindow     time.Duration // the refresher refreshes what expires within it (15 min)
	VerifyEvery   time.Duration // keys and non-refreshable tokens are re-verified this often (24 h)
	LeaseTTL      time.Duration // how long a refresh lease lasts (60 s)
	LeaseWait     time.Duration // how long Token waits for another instance's refresh (10 s)
	StateTTL      time.Duration // how long an OAuth state lives (10 min)
}

// Service is the connections capability.
type Service struct {
	cfg      Config
	instance string // names this process's refresh leases
}

// New builds a Service, filling defaults.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.RefreshMargin, 2*time.Minute)
	def(&cfg.DueWindow, 15*time.Minute)
	def(&cfg.VerifyEvery, 24*time.Hour)
	def(&cfg.LeaseTTL, time.Minute)
	def(&cfg.LeaseWait, 10*time.Second)
	def(&cfg.StateTTL, 10*time.Minute)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Service{cfg: cfg, instance: hex.EncodeToString(b)}
}

// Identity is the caller.
type Identity struct {
	Tenant string
	User   string
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

func lookup(id string) (platform.Descriptor, error) {
	d, ok := registry.Lookup(id)
	if !ok {
		return platform.Descriptor{}, platform.Unknown(apperr.NotFound, id)
	}
	return d, nil
}

// credsContext binds a connection's credentials to its tenant and platform.
func credsContext(tenant string, p platform.ID) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposeTokenSet, "connection")
}

func (s *Service) seal(ctx context.Context, tenant string, p platform.ID, creds Credentials) ([]byte, error) {
	raw, err := creds.marshal()
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, apperr.CodeSealFailed, "", err)
	}
	defer wipeBytes(raw)
	sealed, err := s.cfg.Vault.Seal(ctx, raw, credsContext(tenant, p))
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the credentials could not be encrypted; try again", err)
	}
	return sealed, nil
}

func (s *Service) open(ctx context.Context, c *Connection) (Credentials, error) {
	var creds Credentials
	if len(c.Sealed) == 0 {
		return creds, apperr.Wrap(apperr.Conflict, apperr.CodeNoCredentials, fmt.Sprintf("the %s connection holds no credentials; connect it again", c.Platform), ErrNoCredentials)
	}
	raw, err := s.cfg.Vault.Open(ctx, c.Sealed, credsContext(c.Tenant, c.Platform))
	if err != nil {
		return creds, apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", err)
	}
	defer wipeBytes(raw)
	if err := jsonUnmarshal(raw, &creds); err != nil {
		return creds, apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", err)
	}
	return creds, nil
}

func wipeBytes(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
