package livestream

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/run"
)

// Scheduler timing.
const (
	duePageSize = 50
	// reserve is the time a run keeps for itself: it takes no new
	// livestream when its deadline is closer than that.
	reserve = 10 * time.Second
)

// RunDue starts, ends and retries what is due at now (at minute
// precision), at most concurrency livestreams at a time. It finds them
// through the index of due work, never a scan: a run with nothing due
// costs one query per partition of that index (the store shards it). Each livestream is claimed with a conditional write
// before anything is done, so concurrent and repeated runs do each thing
// once.
func (s *Service) RunDue(ctx context.Context, now time.Time, concurrency int) (_ run.Report, err error) {
	defer func() { err = apperr.WithOp("livestream.RunDue", err) }()
	if concurrency <= 0 {
		concurrency = 1
	}
	now = now.UTC()
	var (
		rep run.Report
		mu  sync.Mutex
		wg  sync.WaitGroup
	)
	slots := make(chan struct{}, concurrency)
	count := func(f func(*run.Report)) {
		mu.Lock()
		f(&rep)
		mu.Unlock()
	}
	cursor := ""
	var queryErr error
	for {
		refs, next, err := s.cfg.Repo.Due(ctx, now, cursor, duePageSize)
		if err != nil {
			queryErr = err
			break
		}
		count(func(r *run.Report) { r.Found += len(refs) })
		for _, ref := range refs {
			if shortOfTime(ctx) {
				count(func(r *run.Report) { r.Skipped++ })
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				count(func(r *run.Report) { r.Skipped++ })
				continue
			}
			wg.Go(func() {
				defer func() { <-slots }()
				outcome, err := s.advance(ctx, ref, now)
				if err != nil {
					s.cfg.Logger.Error("moving a livestream on failed", slog.String("tenant", ref.Tenant),
						slog.String("livestream", ref.ID), slog.String("error", err.Error()))
				}
				count(func(r *run.Report) { outcome(r) })
			})
		}
		if next == "" || shortOfTime(ctx) {
			break
		}
		cursor = next
	}
	wg.Wait()
	return rep, queryErr
}

// shortOfTime reports whether the run's deadline is within the reserve.
func shortOfTime(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < reserve
}

// advance does what is due for one livestream, under its claim.
func (s *Service) advance(ctx context.Context, ref DueRef, now time.Time) (func(*run.Report), error) {
	contended := func(r *run.Report) { r.Unchanged++ }
	failed := func(r *run.Report) { r.Failed++ }
	ls, err := s.cfg.Repo.Get(ctx, ref.Tenant, ref.ID)
	if apperr.Is(err, apperr.NotFound) {
		return contended, nil // deleted since the index listed it
	}
	if err != nil {
		return failed, err
	}
	phase, ok := s.plan(ls, now)
	if !ok {
		return contended, nil // another run did it, or the index lags the table
	}
	owner, err := s.claim(ctx, ls, phase, now)
	if IsConflict(err) {
		return contended, nil
	}
	if err != nil {
		return failed, err
	}
	if err := s.drive(ctx, ls, owner, now, nil); err != nil {
		return failed, err
	}
	if err := s.release(ctx, ls, owner, now); err != nil {
		return failed, err
	}
	return func(r *run.Report) { r.Done++ }, nil
}
