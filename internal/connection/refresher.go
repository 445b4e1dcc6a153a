package connection

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/run"
)

// RefreshDue refreshes the connections the index of due work lists within
// DueWindow from now (never a scan) and re-verifies keys and
// non-refreshable tokens that are due, with at most concurrency checks at
// once. The window is applied once, here: a refreshable token's
// NextCheckAt is already its expiry less DueWindow, so whatever the index
// lists is refreshed by this run, never read and left for the next. It
// stops taking work when the context's deadline is near. Two runs at once
// are safe: refreshes take the lease, and a verification is an idempotent
// read and a versioned write.
func (s *Service) RefreshDue(ctx context.Context, concurrency int) (_ run.Report, err error) {
	defer func() { err = apperr.WithOp("connection.RefreshDue", err) }()
	if concurrency < 1 {
		concurrency = 1
	}
	var (
		rep    run.Report
		mu     sync.Mutex
		wg     sync.WaitGroup
		sem    = make(chan struct{}, concurrency)
		cursor string
	)
	before := s.now().Add(s.cfg.DueWindow)
	for {
		refs, next, err := s.cfg.Repo.Due(ctx, before, cursor, 100)
		if err != nil {
			wg.Wait()
			return rep, err
		}
		for _, ref := range refs {
			rep.Found++
			if timeShort(ctx) {
				rep.Skipped++
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(ref DueRef) {
				defer func() { <-sem; wg.Done() }()
				acted, err := s.checkDue(ctx, ref)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					rep.Failed++
					s.cfg.Logger.Info("refresher: check failed", "platform", string(ref.Platform), "tenant", ref.Tenant, "error", err.Error())
				case acted:
					rep.Done++
				default:
					rep.Unchanged++
				}
			}(ref)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	wg.Wait()
	return rep, nil
}

// checkDue refreshes or verifies one connection the index listed, and
// reports whether it did (false: there was nothing left to do).
func (s *Service) checkDue(ctx context.Context, ref DueRef) (bool, error) {
	d, err := lookup(string(ref.Platform))
	if err != nil {
		return false, err
	}
	c, err := s.cfg.Repo.Get(ctx, ref.Tenant, d.ID)
	if err != nil {
		return false, err
	}
	if c.NextCheckAt.IsZero() || c.NextCheckAt.After(s.now().Add(s.cfg.DueWindow)) {
		return false, nil // another run handled it since the index was read
	}
	return s.check(ctx, d, c, checkDue)
}

// timeShort reports whether less than 10 s of the invocation remain.
func timeShort(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 10*time.Second
}

// Platforms lists what can be connected here: every platform, configured
// when it can be connected with the configuration this deployment has.
func (s *Service) Configured(d platform.Descriptor) bool {
	if d.Accepts(platform.AuthAPIKey) || d.Accepts(platform.AuthNone) {
		_, ok := s.cfg.Keys[d.ID]
		if ok || d.Accepts(platform.AuthNone) {
			return true
		}
	}
	return s.OAuthReady(d.ID)
}
