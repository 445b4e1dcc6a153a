package livestream

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// KeptIngest is an ingest a platform keeps for a tenant's connection
// (YouTube's reusable stream), bound to each new broadcast so the encoder's
// URL and key never change. Its stream key is kept sealed.
type KeptIngest struct {
	Tenant    string
	Platform  platform.ID
	ID        string // the platform's id of it
	IngestURL string
	Extra     map[string]string
	SealedKey []byte // sealed with IngestKeyContext
	CreatedAt time.Time
}

// IngestRepo keeps one ingest per tenant and platform.
type IngestRepo interface {
	// GetIngest reads the tenant's kept ingest at p; NotFound when none.
	GetIngest(ctx context.Context, tenant string, p platform.ID) (*KeptIngest, error)
	// CreateIngest stores in; a conflict when the tenant has one at the
	// platform already.
	CreateIngest(ctx context.Context, in *KeptIngest) error
	// DeleteIngest forgets the tenant's kept ingest at p when its id is
	// still id; otherwise (gone, or replaced) it does nothing.
	DeleteIngest(ctx context.Context, tenant string, p platform.ID, id string) error
}

// IngestKeyContext binds a kept ingest's stream key to its tenant and
// platform.
func IngestKeyContext(tenant string, p platform.ID) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposeStreamKey, "ingest/"+string(p))
}

// keeper is bc as a keeper of ingests, when its platform keeps one and
// this service stores them.
func (s *Service) keeper(bc platform.Broadcaster) (platform.IngestKeeper, bool) {
	k, ok := bc.(platform.IngestKeeper)
	return k, ok && s.cfg.Ingests != nil
}

// keptIngest is the tenant's kept ingest at the target's platform, kept
// now when there is none; nil (no error) where the platform or this
// service keeps none. Two requests keeping one at once both create one at
// the platform; the one stored first wins and the other's is deleted.
func (s *Service) keptIngest(ctx context.Context, tenant string, bc platform.Broadcaster, p platform.ID, token, title string) (*platform.KeptIngest, error) {
	keeper, ok := s.keeper(bc)
	if !ok {
		return nil, nil
	}
	for range 2 {
		stored, err := s.cfg.Ingests.GetIngest(ctx, tenant, p)
		if err == nil {
			return s.openIngest(ctx, stored)
		}
		if !apperr.Is(err, apperr.NotFound) {
			return nil, err
		}
		made, err := keeper.KeepIngest(ctx, token, title)
		if err != nil {
			return nil, err
		}
		sealed, err := s.cfg.Vault.Seal(ctx, []byte(made.StreamKey), IngestKeyContext(tenant, p))
		if err != nil {
			s.dropIngest(ctx, keeper, token, made.ID)
			return nil, apperr.Wrap(apperr.Unavailable, apperr.CodeSealFailed, "the stream key could not be encrypted; try again", err)
		}
		err = s.cfg.Ingests.CreateIngest(ctx, &KeptIngest{Tenant: tenant, Platform: p, ID: made.ID, IngestURL: made.IngestURL,
			Extra: made.Extra, SealedKey: sealed, CreatedAt: s.now()})
		if err == nil {
			return &made, nil
		}
		s.dropIngest(ctx, keeper, token, made.ID)
		if !IsConflict(err) {
			return nil, err
		}
		// Another request kept one first: use it.
	}
	return nil, errClaimLost
}

func (s *Service) openIngest(ctx context.Context, in *KeptIngest) (*platform.KeptIngest, error) {
	raw, err := s.cfg.Vault.Open(ctx, in.SealedKey, IngestKeyContext(in.Tenant, in.Platform))
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", err)
	}
	return &platform.KeptIngest{ID: in.ID, IngestURL: in.IngestURL, StreamKey: string(raw), Extra: in.Extra}, nil
}

func (s *Service) dropIngest(ctx context.Context, keeper platform.IngestKeeper, token, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := keeper.DropIngest(cctx, token, id); err != nil {
		s.cfg.Logger.Warn("deleting an unused kept ingest failed", slog.String("error", err.Error()))
	}
}

// forgetIngest drops the tenant's kept ingest at p that the platform no
// longer has, so the next set-up keeps a new one.
func (s *Service) forgetIngest(ctx context.Context, tenant string, p platform.ID, id string) {
	if err := s.cfg.Ingests.DeleteIngest(ctx, tenant, p, id); err != nil {
		s.cfg.Logger.Warn("forgetting a kept ingest failed", slog.String("platform", string(p)), slog.String("error", err.Error()))
	}
}

// assumedLength is how long a livestream without a scheduled end is taken
// to last when its window is compared with another's (sharesKept).
const assumedLength = 12 * time.Hour

// window is when ls streams: its scheduled start to its scheduled end, or
// assumedLength without one.
func window(ls *Livestream) (time.Time, time.Time) {
	if ls.ScheduledEnd.IsZero() {
		return ls.ScheduledStart, ls.ScheduledStart.Add(assumedLength)
	}
	return ls.ScheduledStart, ls.ScheduledEnd
}

// sharesKept finds another of the tenant's scheduled or live livestreams
// whose window overlaps ls's and whose target at p streams to the kept
// ingest. A kept ingest is one encoder's feed: YouTube's reusable stream is
// for "broadcasts [that] occur at different times"
// (youtube-v3-discovery.json, LiveStreamContentDetails.isReusable), so two
// at once would both show the same picture. Livestreams are listed newest
// first and none created more than MaxAhead before ls's start can still be
// scheduled over it, so the read stops there. Where the platform or this
// service keeps no ingest, there is nothing to share (nil).
func (s *Service) sharesKept(ctx context.Context, ls *Livestream, bc platform.Broadcaster, p platform.ID) (*Livestream, error) {
	if _, ok := s.keeper(bc); !ok {
		return nil, nil
	}
	start, end := window(ls)
	oldest := start.Add(-MaxAhead)
	for cursor := ""; ; {
		page, next, err := s.cfg.Repo.List(ctx, ls.Tenant, []Status{StatusScheduled, StatusStarting, StatusLive}, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if o.CreatedAt.Before(oldest) {
				return nil, nil
			}
			if o.ID == ls.ID {
				continue
			}
			if os, oe := window(o); os.Before(end) && start.Before(oe) && streamsToKept(o, p) {
				return o, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		cursor = next
	}
}

// streamsToKept: ls's target at p is set up on the kept ingest.
func streamsToKept(ls *Livestream, p platform.ID) bool {
	for _, t := range ls.Targets {
		if t.Platform == p && t.StableKey && t.Status != TargetFailed && t.Status != TargetCancelled {
			return true
		}
	}
	return false
}
