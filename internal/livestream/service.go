package livestream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/series"
	"github.com/switchboard-dev/switchboard/internal/trunc"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Repo is the livestream storage the service needs. Every write is
// conditional (see Guard); a failed condition is an error for which
// IsConflict is true.
type Repo interface {
	// Create stores a new livestream (its sealed keys too); an existing id
	// is a conflict.
	Create(ctx context.Context, ls *Livestream) error
	// Get reads a livestream with a consistent read; another tenant's is
	// NotFound.
	Get(ctx context.Context, tenant, id string) (*Livestream, error)
	// List pages a tenant's livestreams, newest first, with one of the
	// stored statuses when statuses is not empty.
	List(ctx context.Context, tenant string, statuses []Status, cursor string, limit int) ([]*Livestream, string, error)
	// Save writes everything but the targets' sealed keys, when g holds,
	// and bumps ls.Version.
	Save(ctx context.Context, ls *Livestream, g Guard) error
	// SaveTarget writes t as the livestream's target i (and its sealed
	// stream key, when not nil) while owner holds the livestream's claim.
	SaveTarget(ctx context.Context, tenant, id string, i int, t *Target, sealedKey []byte, owner string) error
	// Delete removes a livestream while owner holds its claim.
	Delete(ctx context.Context, tenant, id, owner string) error
	// Due lists the livestreams due in the minute of at or before, through
	// the index of due work, soonest first.
	Due(ctx context.Context, at time.Time, cursor string, limit int) ([]DueRef, string, error)
}

// Guard is the condition of a Save: while Owner holds the claim, or, when
// Owner is empty, when the stored version is still Version and no claim is
// live at Now.
type Guard struct {
	Owner   string
	Version int64
	Now     time.Time
}

// DueRef names a livestream the scheduler should look at.
type DueRef struct {
	Tenant, ID string
}

// IsConflict reports whether err is a failed write condition.
func IsConflict(err error) bool {
	return errors.Is(err, apperr.ErrConditionFailed)
}

// Tokens hands out a tenant's credentials for a platform (the connection
// service).
type Tokens interface {
	Token(ctx context.Context, tenant string, p platform.ID) (connection.Credentials, error)
	// ReportUnauthorized marks the connection expired after the platform
	// refused a token Token just gave.
	ReportUnauthorized(ctx context.Context, tenant string, p platform.ID, message string) error
}

// Config is what a Service is built from.
type Config struct {
	Repo Repo
	// Ingests keeps one ingest per tenant and platform where the platform
	// can bind many broadcasts to one (platform.IngestKeeper); nil: every
	// broadcast gets its own.
	Ingests IngestRepo
	// Series keeps recurring livestreams; nil: none are offered.
	Series       SeriesRepo
	Tokens       Tokens
	Vault        vault.Sealer
	Broadcasters map[platform.ID]platform.Broadcaster
	Logger       *slog.Logger
	Now          func() time.Time

	Lease       time.Duration // how long a claim lasts (2 min: longer than any function's timeout)
	MaxAttempts int           // tries of one step of a target before giving up (5)
	RetryBase   time.Duration // the first retry's delay, doubled each time (1 min)
	RetryCap    time.Duration // the longest delay between retries (15 min)
	StartGrace  time.Duration // how far in the past a new scheduledStart may be (1 min)
	// Lead is how far past the next tick a scheduler run looks (30 s; see
	// Horizon): more than a tick is usually delivered late, so what is due
	// just after a tick is waited for by the run before.
	Lead time.Duration
	// SleepUntil waits until the clock (Now) reads t, or ctx is done; the
	// default sleeps on a timer (tests move their clock instead).
	SleepUntil func(ctx context.Context, t time.Time) error
}

// Service is the livestreams capability.
type Service struct {
	cfg    Config
	series *series.Engine[CreateInput] // nil when cfg.Series is
}

// New builds a Service, filling defaults.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Lease, 2*time.Minute)
	def(&cfg.RetryBase, time.Minute)
	def(&cfg.RetryCap, 15*time.Minute)
	def(&cfg.StartGrace, time.Minute)
	def(&cfg.Lead, 30*time.Second)
	if cfg.SleepUntil == nil {
		now := cfg.Now
		cfg.SleepUntil = func(ctx context.Context, t time.Time) error {
			// A timer may fire a hair before the wall clock reads t: sleep
			// again until it does, so nothing is ever done early.
			for d := t.Sub(now()); d > 0; d = t.Sub(now()) {
				if err := platform.Sleep(ctx, d); err != nil {
					return err
				}
			}
			return ctx.Err()
		}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	s := &Service{cfg: cfg}
	if cfg.Series != nil {
		s.series = s.seriesEngine()
	}
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// newOwner names one claim: unique per claim, so two runs in one process
// never share one.
func newOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// KeyContext binds a target's stream key to its tenant, platform and
// livestream.
func KeyContext(tenant, id string, p platform.ID) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposeStreamKey, id+"/"+string(p))
}

func (s *Service) seal(ctx context.Context, ls *Livestream, p platform.ID, key string) ([]byte, error) {
	sealed, err := s.cfg.Vault.Seal(ctx, []byte(key), KeyContext(ls.Tenant, ls.ID, p))
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the stream key could not be encrypted; try again", err)
	}
	return sealed, nil
}

// openKey opens a target's stream key; "" when none is stored.
func (s *Service) openKey(ctx context.Context, ls *Livestream, p platform.ID) (string, error) {
	sealed := ls.SealedKeys[p]
	if len(sealed) == 0 {
		return "", nil
	}
	raw, err := s.cfg.Vault.Open(ctx, sealed, KeyContext(ls.Tenant, ls.ID, p))
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", err)
	}
	return string(raw), nil
}

// Get reads a livestream of the tenant.
func (s *Service) Get(ctx context.Context, tenant, id string) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.Get", err) }()
	if !validID(id) {
		return nil, notFound(id)
	}
	ls, err := s.cfg.Repo.Get(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound(id)
	}
	return ls, err
}

func notFound(id string) error {
	return apperr.Errorf(apperr.NotFound, apperr.CodeLivestreamNotFound, "there is no livestream %q", trunc.String(id, 64))
}

// List pages the tenant's livestreams, newest first, with the public
// status when status is not empty. A page may hold fewer than limit items
// (the filter runs after the page is read) and still have a next one.
func (s *Service) List(ctx context.Context, tenant string, status Status, cursor string, limit int) (_ []*Livestream, _ string, err error) {
	defer func() { err = apperr.WithOp("livestream.List", err) }()
	var stored []Status
	if status != "" {
		if !isPublic(status) {
			return nil, "", apperr.Errorf(apperr.Invalid, apperr.CodeInvalidQuery, "status must be one of scheduled, live, ended, cancelled or failed")
		}
		stored = storedStatuses(status)
	}
	list, next, err := s.cfg.Repo.List(ctx, tenant, stored, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	if status == "" {
		return list, next, nil
	}
	out := list[:0]
	for _, ls := range list {
		if ls.PublicStatus() == status {
			out = append(out, ls)
		}
	}
	return out, next, nil
}

func isPublic(st Status) bool {
	for _, p := range PublicStatuses {
		if p == st {
			return true
		}
	}
	return false
}

// Ingest gives each target's ingest URL and stream key: the only way keys
// leave Switchboard. A target without an ingest yet has empty ones.
func (s *Service) Ingest(ctx context.Context, tenant, id string) (_ []Ingest, err error) {
	defer func() { err = apperr.WithOp("livestream.Ingest", err) }()
	ls, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	out := make([]Ingest, 0, len(ls.Targets))
	for _, t := range ls.Targets {
		in := Ingest{Platform: t.Platform, Stable: t.StableKey, StableNote: t.KeyNote}
		if t.IngestURL != "" {
			key, err := s.openKey(ctx, ls, t.Platform)
			if err != nil {
				return nil, err
			}
			if key != "" {
				in.IngestURL, in.StreamKey = t.IngestURL, key
			}
		}
		out = append(out, in)
	}
	return out, nil
}
