package event

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/sortid"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// EndpointStatus is a webhook endpoint's state.
type EndpointStatus string

const (
	EndpointActive   EndpointStatus = "active"
	EndpointDisabled EndpointStatus = "disabled" // failed for DisableAfter; delete it and register it again
)

// Endpoint is a tenant's webhook endpoint. Its signing secrets are vault
// envelopes (purpose webhook_secret); the plaintext is shown once, when it
// is made.
type Endpoint struct {
	Tenant         string
	ID             string
	URL            string
	Types          []Type // the types it receives; empty: every type
	Description    string
	Status         EndpointStatus
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// FailingSince is when its deliveries started failing, zero while
	// they succeed; DisableAfter of failing disables it.
	FailingSince time.Time

	SealedSecret   []byte
	SealedPrevious []byte    // the secret before the last rotation
	PreviousUntil  time.Time // until when deliveries are signed with SealedPrevious too

	Version int64
}

// Wants reports whether the endpoint receives events of type t.
func (e *Endpoint) Wants(t Type) bool {
	return e.Status == EndpointActive && (len(e.Types) == 0 || slices.Contains(e.Types, t))
}

// SecretContext binds an endpoint's sealed secret to its tenant and id.
// KMS's key policy asks every context for a platform; webhooks belong to
// none, so it is "webhooks".
func SecretContext(tenant, endpointID string) vault.EncryptionContext {
	return vault.Context(tenant, "webhooks", vault.PurposeWebhookSecret, endpointID)
}

// Rules of endpoints.
const (
	MaxEndpoints     = 20                 // per tenant: every event is one write with a delivery per endpoint
	DefaultOverlap   = 24 * time.Hour     // a rotated-out secret keeps signing this long
	MaxOverlap       = 7 * 24 * time.Hour // and at most this long
	DisableAfter     = 72 * time.Hour     // an endpoint failing this long is disabled
	FeedRetention    = 30 * 24 * time.Hour
	secretBytes      = 32 // the spec asks for 24 to 64 random bytes
	maxDescription   = 256
	secretPrefix     = "whsec_"
	endpointIDPrefix = "wh_"
)

// Service is the webhook endpoints and the feed, as the HTTP routes use
// them.
type Service struct {
	repo  Repo
	vault vault.Sealer
	guard Guard
	now   func() time.Time
	log   *slog.Logger
}

// ServiceConfig is what a Service is built from.
type ServiceConfig struct {
	Repo   Repo
	Vault  vault.Sealer
	Guard  Guard
	Now    func() time.Time // time.Now when nil
	Logger *slog.Logger
}

// NewService builds a Service.
func NewService(c ServiceConfig) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{repo: c.Repo, vault: c.Vault, guard: c.Guard, now: c.Now, log: c.Logger}
}

// CreateInput is a new endpoint as asked.
type CreateInput struct {
	URL         string
	Types       []string
	Description string
}

// Created is a new endpoint and its signing secret, shown this once.
type Created struct {
	Endpoint *Endpoint
	Secret   string
}

// Create registers an endpoint: an https URL (loopback only when the guard
// allows it) that resolves to no private, loopback, link-local or metadata
// address, and event types it wants (all when none).
func (s *Service) Create(ctx context.Context, tenant string, in CreateInput) (Created, error) {
	// The checks that need no lookup first: the URL's resolves its host.
	types, err := ParseTypes(in.Types)
	if err != nil {
		return Created{}, err
	}
	if len(in.Description) > maxDescription {
		return Created{}, apperr.E(apperr.Invalid, apperr.CodeInvalidDescription, "description must be at most 256 characters")
	}
	if _, err := s.guard.CheckURL(ctx, in.URL); err != nil {
		return Created{}, err
	}
	existing, err := s.repo.Endpoints(ctx, tenant)
	if err != nil {
		return Created{}, err
	}
	if len(existing) >= MaxEndpoints {
		return Created{}, apperr.E(apperr.Conflict, apperr.CodeTooManyWebhooks, "a tenant has at most 20 webhook endpoints; delete one first")
	}
	now := s.now().UTC()
	ep := &Endpoint{Tenant: tenant, ID: sortid.New(endpointIDPrefix, now), URL: in.URL, Types: types, Description: in.Description,
		Status: EndpointActive, CreatedAt: now, UpdatedAt: now}
	secret, sealed, err := s.newSecret(ctx, ep)
	if err != nil {
		return Created{}, err
	}
	ep.SealedSecret = sealed
	if err := s.repo.CreateEndpoint(ctx, ep); err != nil {
		return Created{}, err
	}
	return Created{Endpoint: ep, Secret: secret}, nil
}

// newSecret makes a signing secret in the spec's whsec_<base64> form and
// seals it for ep.
func (s *Service) newSecret(ctx context.Context, ep *Endpoint) (string, []byte, error) {
	raw := make([]byte, secretBytes)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (since Go 1.24 it crashes instead)
	secret := secretPrefix + base64.StdEncoding.EncodeToString(raw)
	sealed, err := s.vault.Seal(ctx, []byte(secret), SecretContext(ep.Tenant, ep.ID))
	if err != nil {
		return "", nil, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the signing secret could not be sealed; try again", err)
	}
	return secret, sealed, nil
}

// ParseTypes checks event type names; an unknown one is a 400 naming it.
func ParseTypes(names []string) ([]Type, error) {
	out := make([]Type, 0, len(names))
	for _, n := range names {
		t := Type(n)
		if !Known(t) {
			return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidEventType, "%q is not an event type (see the webhooks section of openapi.json)", n)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Get reads one endpoint (404 when another tenant's or missing).
func (s *Service) Get(ctx context.Context, tenant, id string) (*Endpoint, error) {
	return s.repo.Endpoint(ctx, tenant, id)
}

// List reads the tenant's endpoints, oldest first.
func (s *Service) List(ctx context.Context, tenant string) ([]*Endpoint, error) {
	return s.repo.Endpoints(ctx, tenant)
}

// Delete removes an endpoint; its pending deliveries end as failed at
// their next try.
func (s *Service) Delete(ctx context.Context, tenant, id string) error {
	if _, err := s.repo.Endpoint(ctx, tenant, id); err != nil {
		return err
	}
	return s.repo.DeleteEndpoint(ctx, tenant, id)
}

// Rotated is a new signing secret, shown this once, and until when the
// previous one still signs too.
type Rotated struct {
	Endpoint      *Endpoint
	Secret        string
	PreviousUntil time.Time
}

// RotateSecret makes a new signing secret. For overlap (DefaultOverlap
// when zero, at most MaxOverlap) each delivery is signed with both the
// new and the old secret, so a receiver can switch at any time in it.
func (s *Service) RotateSecret(ctx context.Context, tenant, id string, overlap time.Duration) (Rotated, error) {
	if overlap == 0 {
		overlap = DefaultOverlap
	}
	if overlap < 0 || overlap > MaxOverlap {
		return Rotated{}, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "overlapSeconds must be between 1 and 604800 (7 days)")
	}
	ep, err := s.repo.Endpoint(ctx, tenant, id)
	if err != nil {
		return Rotated{}, err
	}
	secret, sealed, err := s.newSecret(ctx, ep)
	if err != nil {
		return Rotated{}, err
	}
	now := s.now().UTC()
	ep.SealedPrevious, ep.PreviousUntil = ep.SealedSecret, now.Add(overlap)
	ep.SealedSecret, ep.UpdatedAt = sealed, now
	if err := s.repo.SaveEndpoint(ctx, ep); err != nil {
		if errors.Is(err, apperr.ErrConditionFailed) {
			return Rotated{}, apperr.E(apperr.Conflict, apperr.CodeBusy, "the endpoint changed meanwhile; try again")
		}
		return Rotated{}, err
	}
	return Rotated{Endpoint: ep, Secret: secret, PreviousUntil: ep.PreviousUntil}, nil
}

// Deliveries pages through an endpoint's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, tenant, id, cursor string, limit int) ([]*Delivery, string, error) {
	if _, err := s.repo.Endpoint(ctx, tenant, id); err != nil {
		return nil, "", err
	}
	return s.repo.Deliveries(ctx, tenant, id, cursor, limit)
}

// Feed pages through the tenant's events in the order they happened,
// after the cursor (from the start when empty), of the given types (all
// when none). The cursor it gives is never empty: come back with it later
// for what happened since.
func (s *Service) Feed(ctx context.Context, tenant string, types []string, after string, limit int) ([]Event, string, error) {
	ts, err := ParseTypes(types)
	if err != nil {
		return nil, "", err
	}
	return s.repo.Feed(ctx, tenant, ts, after, limit, s.now())
}
