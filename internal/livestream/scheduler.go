package livestream

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/run"
)

// Scheduler timing.
const (
	duePageSize = 50
	// reserve is the time a run keeps for itself: it takes no new
	// livestream when its deadline is closer than that.
	reserve = 10 * time.Second
)

// dueItem is a livestream a run will act on, read ahead of its time, with
// the credentials its targets will need already in hand and, when no other
// claim held it, claimed ahead (owner), so that nothing but the platform
// calls is left for its second.
type dueItem struct {
	ls    *Livestream
	when  time.Time // its DueAt: the second its next step is due
	creds map[platform.ID]connection.Credentials
	owner string // this run's claim, taken ahead; "" when it is taken at when
	prev  Status // the status before the claim ahead, to give it back
	// horizon is the run's: a preflight that leaves the livestream due
	// again within it (its start) is followed by that, in the same run.
	horizon time.Time
	clock   runClock
}

// runClock is a run's clock: the service's, or, when the run's tick is
// ahead of it (a test or a replay ticking a later time), the service's
// plus that lead, so the run does at the tick what is due at the tick,
// waiting as long as it would then. A tick behind the clock (a late
// delivery) changes nothing: the clock is never set back.
type runClock struct {
	s    *Service
	lead time.Duration
}

func (s *Service) runClock(tick time.Time) runClock {
	return runClock{s: s, lead: max(tick.Sub(s.now()), 0)}
}

func (c runClock) now() time.Time { return c.s.now().Add(c.lead) }

// sleepUntil waits until the run's clock reads t.
func (c runClock) sleepUntil(ctx context.Context, t time.Time) error {
	return c.s.cfg.SleepUntil(ctx, t.Add(-c.lead))
}

// Horizon is how far ahead a run ticked at now looks: the minute to the
// next tick and Lead more, so that consecutive runs' windows overlap by
// Lead and what is due just after a tick is waited for, on its second, by
// the run before, however late (within Lead) the next tick is delivered.
// now is the tick's scheduled time; it need not fall on a whole minute.
func (s *Service) Horizon(now time.Time) time.Time {
	return now.Add(time.Minute + s.cfg.Lead)
}

// RunDue starts, ends and retries what is due up to the run's horizon (see
// Horizon), each at its own second and never before it, at most
// concurrency livestreams at a time. It finds them through the index of
// due work, never a scan: a run with nothing due costs one query per
// partition of that index (the store shards it). It first
// reads every livestream in its window and fetches the tokens their
// targets need, then acts on each, soonest first, when the clock reaches
// its due time. Each livestream is claimed with a conditional write before
// anything is done, so concurrent and repeated runs (two runs' windows
// overlap by Lead) do each thing once.
func (s *Service) RunDue(ctx context.Context, now time.Time, concurrency int) (_ run.Report, err error) {
	defer func() { err = apperr.WithOp("livestream.RunDue", err) }()
	if concurrency <= 0 {
		concurrency = 1
	}
	horizon := s.Horizon(now.UTC())
	clock := s.runClock(now)
	refs, queryErr := s.dueRefs(ctx, horizon)
	items, rep := s.load(ctx, refs, horizon, clock, concurrency)
	sort.SliceStable(items, func(i, j int) bool { return items[i].when.Before(items[j].when) })

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	count := func(f func(*run.Report)) {
		mu.Lock()
		f(&rep)
		mu.Unlock()
	}
	// Slots are taken in due order and held while waiting, so a later item
	// never holds a slot an earlier one needs.
	slots := make(chan struct{}, concurrency)
	for _, it := range items {
		if shortOfTime(ctx, it.when, clock.now()) {
			s.giveBack(ctx, it)
			count(func(r *run.Report) { r.Skipped++ })
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			s.giveBack(ctx, it)
			count(func(r *run.Report) { r.Skipped++ })
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if shortOfTime(ctx, it.when, clock.now()) || clock.sleepUntil(ctx, it.when) != nil {
				s.giveBack(ctx, it)
				count(func(r *run.Report) { r.Skipped++ })
				return
			}
			outcome, err := s.advance(ctx, it, clock.now())
			if err != nil {
				s.cfg.Logger.Error("moving a livestream on failed", slog.String("tenant", it.ls.Tenant),
					slog.String("livestream", it.ls.ID), slog.String("error", err.Error()))
			}
			count(func(r *run.Report) { outcome(r) })
		})
	}
	wg.Wait()
	return rep, queryErr
}

// dueRefs lists every livestream the index has due by horizon's minute.
func (s *Service) dueRefs(ctx context.Context, horizon time.Time) ([]DueRef, error) {
	var out []DueRef
	cursor := ""
	for {
		refs, next, err := s.cfg.Repo.Due(ctx, horizon, cursor, duePageSize)
		if err != nil {
			return out, err
		}
		out = append(out, refs...)
		if next == "" || ctx.Err() != nil {
			return out, nil
		}
		cursor = next
	}
}

// load reads the listed livestreams, concurrency at a time, keeps those
// due by horizon, and fetches their targets' credentials (a failure is
// left for the step itself to meet and record). Found counts the kept
// ones and the ones the index listed with nothing due (its lag), which
// also count as unchanged.
func (s *Service) load(ctx context.Context, refs []DueRef, horizon time.Time, clock runClock, concurrency int) ([]*dueItem, run.Report) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		out   []*dueItem
		rep   run.Report
		slots = make(chan struct{}, concurrency)
	)
	for _, ref := range refs {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			ls, err := s.cfg.Repo.Get(ctx, ref.Tenant, ref.ID)
			keep := err == nil && !ls.DueAt.IsZero() && !ls.DueAt.After(horizon)
			var it *dueItem
			if keep {
				it = &dueItem{ls: ls, when: ls.DueAt, horizon: horizon, clock: clock}
				s.claimAhead(ctx, it)
				it.creds = s.prefetch(ctx, ls)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case apperr.Is(err, apperr.NotFound):
				// deleted since the index listed it
			case err != nil:
				rep.Found++
				rep.Failed++
				s.cfg.Logger.Error("reading a due livestream failed", slog.String("tenant", ref.Tenant),
					slog.String("livestream", ref.ID), slog.String("error", err.Error()))
			case ls.DueAt.IsZero():
				rep.Found++
				rep.Unchanged++ // the index lags the table
			case keep:
				rep.Found++
				out = append(out, it)
			}
			// otherwise due after the horizon: the next run's
		})
	}
	wg.Wait()
	return out, rep
}

// prefetch fetches the credentials of the livestream's targets ahead of
// its due time, so the token (refreshed if it is about to expire) is in
// hand at the second; what fails is fetched again, and recorded, then.
func (s *Service) prefetch(ctx context.Context, ls *Livestream) map[platform.ID]connection.Credentials {
	out := map[platform.ID]connection.Credentials{}
	for _, t := range ls.Targets {
		if c, err := s.cfg.Tokens.Token(ctx, ls.Tenant, t.Platform); err == nil {
			out[t.Platform] = c
		}
	}
	return out
}

// shortOfTime reports whether the run cannot act at when and still keep
// its reserve before its deadline.
func shortOfTime(ctx context.Context, when, now time.Time) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	if !ok {
		return false
	}
	wait := max(when.Sub(now), 0)
	return time.Until(d)-wait < reserve
}

// advance does what is due for one livestream, under its claim. The copy
// read ahead is claimed as it is; if it changed meanwhile (the claim's
// condition failed), it is read once more and tried again.
func (s *Service) advance(ctx context.Context, it *dueItem, now time.Time) (func(*run.Report), error) {
	contended := func(r *run.Report) { r.Unchanged++ }
	failed := func(r *run.Report) { r.Failed++ }
	ls := it.ls
	if it.owner != "" {
		return s.act(ctx, ls, it.owner, now, it.creds)
	}
	for attempt := 0; ; attempt++ {
		phase, ok := s.plan(ls, now)
		if !ok && checkDue(ls, now) && !ls.claimed(now) {
			// A preflight: no claim, a versioned write of the results.
			err := s.preflight(ctx, ls, now)
			if IsConflict(err) {
				return contended, nil // changed meanwhile: its next due time says when
			}
			if err != nil {
				return failed, err
			}
			// Due again within this run's window (a start soon after a late
			// preflight): wait for it here, as the next run would not.
			next := ls.DueAt
			if next.IsZero() || next.After(it.horizon) || shortOfTime(ctx, next, it.clock.now()) || it.clock.sleepUntil(ctx, next) != nil {
				return func(r *run.Report) { r.Done++ }, nil
			}
			now, attempt = it.clock.now(), -1
			continue
		}
		if !ok {
			return contended, nil // another run did it, or it changed
		}
		owner, err := s.claim(ctx, ls, phase, now)
		if IsConflict(err) && attempt == 0 {
			ls, err = s.cfg.Repo.Get(ctx, ls.Tenant, ls.ID)
			if apperr.Is(err, apperr.NotFound) {
				return contended, nil
			}
			if err != nil {
				return failed, err
			}
			continue
		}
		if IsConflict(err) {
			return contended, nil
		}
		if err != nil {
			return failed, err
		}
		return s.act(ctx, ls, owner, now, it.creds)
	}
}

// act does, under owner's claim, what the livestream's phase asks of its
// targets, and releases it.
func (s *Service) act(ctx context.Context, ls *Livestream, owner string, now time.Time, creds map[platform.ID]connection.Credentials) (func(*run.Report), error) {
	failed := func(r *run.Report) { r.Failed++ }
	if err := s.drive(ctx, ls, owner, now, creds); err != nil {
		return failed, err
	}
	if err := s.release(ctx, ls, owner, now); err != nil {
		return failed, err
	}
	return func(r *run.Report) { r.Done++ }, nil
}

// claimAhead claims a livestream read ahead of its due time, in the phase
// it will be in then, with a lease from that time: the conditional write
// is done before the second, and a later run leaves it alone. A
// livestream another claim still holds (one that runs out at when: a run
// that died) is claimed at when instead, as is one that changed since it
// was read (the claim's condition failed).
func (s *Service) claimAhead(ctx context.Context, it *dueItem) {
	now := it.clock.now()
	if it.ls.claimed(now) || !it.when.After(now) {
		return
	}
	phase, ok := s.plan(it.ls, it.when)
	if !ok {
		return
	}
	prev := it.ls.Status
	owner, err := s.claimUntil(ctx, it.ls, phase, now, it.when.Add(s.cfg.Lease))
	if err != nil {
		if !IsConflict(err) {
			s.cfg.Logger.Warn("claiming a livestream ahead failed; it is claimed at its time", slog.String("livestream", it.ls.ID),
				slog.String("error", err.Error()))
		}
		if fresh, gerr := s.cfg.Repo.Get(ctx, it.ls.Tenant, it.ls.ID); gerr == nil {
			it.ls = fresh
		}
		return
	}
	it.owner, it.prev = owner, prev
}

// giveBack undoes a claim taken ahead that the run cannot act on after
// all (its deadline is near), so the next run takes the livestream at once
// rather than when the lease runs out.
func (s *Service) giveBack(ctx context.Context, it *dueItem) {
	if it.owner == "" {
		return
	}
	ls, now := it.ls, it.clock.now()
	ls.Status, ls.ClaimOwner, ls.ClaimUntil, ls.UpdatedAt = it.prev, "", time.Time{}, now
	ls.DueAt = s.dueAt(ls, now)
	wctx, cancel := writeContext(ctx)
	defer cancel()
	if err := s.cfg.Repo.Save(wctx, ls, Guard{Owner: it.owner}); err != nil {
		s.cfg.Logger.Warn("giving back a claim failed; it runs out by itself", slog.String("livestream", ls.ID),
			slog.String("error", err.Error()))
	}
}
