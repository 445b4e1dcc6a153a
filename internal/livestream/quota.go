package livestream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// A platform that meters its API in daily units shared by every user of
// the app (platform.QuotaMeter) could otherwise be drained by creates in
// the morning and leave the evening's go-lives unable to start. So each
// scheduled target keeps its go-live and end in the reserve of its start's
// quota day, and a create that would eat into what is reserved for the
// day is refused (CodeQuotaReserved). What a target reserved is given back
// as its go-live and end are made, or when it is cancelled; a target that
// fails for good keeps it until the day is over (erring on the safe side).

// CheckQuota is the preflight check of a metered platform's daily quota.
const CheckQuota = "quota"

// meter is p's quota meter, when its client keeps one.
func (s *Service) meter(p platform.ID) (platform.QuotaMeter, bool) {
	m, ok := s.cfg.Broadcasters[p].(platform.QuotaMeter)
	return m, ok
}

// quotaOf reads p's quota for the day at falls in; ok is false when p is
// not metered.
func (s *Service) quotaOf(ctx context.Context, p platform.ID, at time.Time) (platform.Quota, platform.QuotaCosts, bool, error) {
	m, ok := s.meter(p)
	if !ok {
		return platform.Quota{}, platform.QuotaCosts{}, false, nil
	}
	q, err := m.Quota(ctx, at)
	if errors.Is(err, platform.ErrNotMetered) {
		return platform.Quota{}, platform.QuotaCosts{}, false, nil
	}
	if err != nil {
		return platform.Quota{}, platform.QuotaCosts{}, false, apperr.Wrap(apperr.Unavailable, apperr.CodeTemporarilyUnavailable,
			"the API quota ledger could not be read; try again", err)
	}
	return q, m.QuotaCosts(), true, nil
}

// checkQuota refuses a create whose targets' set-up now, and go-live and
// end on the start's day, would take units the day's scheduled go-lives
// need.
func (s *Service) checkQuota(ctx context.Context, targets []Target, start, now time.Time) error {
	for _, t := range targets {
		q, c, ok, err := s.quotaOf(ctx, t.Platform, now)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		d, _ := registry.Lookup(string(t.Platform))
		startsToday := start.Before(q.Reset)
		need := c.Provision
		if startsToday {
			need += c.Reserve()
		}
		if need > q.Free() {
			e := apperr.Errorf(apperr.RateLimited, apperr.CodeQuotaReserved,
				"%s's daily API quota (shared by every user of this service) has %d of %d units left today, %d of them reserved "+
					"for the go-lives scheduled before it resets at %s; this livestream needs %d now: schedule it after the reset",
				d.Name, max(q.Left(), 0), q.Limit, min(q.Reserved, max(q.Left(), 0)), q.Reset.UTC().Format(time.RFC3339), need)
			e.RetryAfter = q.Reset.Sub(now)
			return e
		}
		if startsToday {
			continue
		}
		// The start is on a later quota day: that day's go-lives must fit too.
		qd, _, _, err := s.quotaOf(ctx, t.Platform, start)
		if err != nil {
			return err
		}
		if c.Reserve() > qd.Free() {
			return apperr.Errorf(apperr.Unprocessable, apperr.CodeQuotaReserved,
				"%s's daily API quota for the day of %s (%d units, resetting at %s) is already reserved for that day's go-lives "+
					"(%d units reserved); a go-live needs %d: choose another day",
				d.Name, start.UTC().Format(time.RFC3339), qd.Limit, qd.Reset.UTC().Format(time.RFC3339), qd.Reserved, c.Reserve())
		}
	}
	return nil
}

// reserveQuota puts each metered target's go-live and end in the reserve
// of the start's quota day. A ledger that cannot be written is logged: the
// livestream is not refused for it (the quota itself is Google's to keep).
func (s *Service) reserveQuota(ctx context.Context, ls *Livestream) {
	for i := range ls.Targets {
		t := &ls.Targets[i]
		m, ok := s.meter(t.Platform)
		if !ok || t.QuotaReserved > 0 {
			continue
		}
		units := m.QuotaCosts().Reserve()
		if err := m.Reserve(ctx, ls.ScheduledStart, units); err != nil {
			if !errors.Is(err, platform.ErrNotMetered) {
				s.quotaLogFailure(ls, t, err)
			}
			continue
		}
		t.QuotaReserved, t.QuotaReservedFor = units, ls.ScheduledStart
	}
}

// releaseQuota gives back up to units of what t reserved (all of it when
// units is 0).
func (s *Service) releaseQuota(ctx context.Context, ls *Livestream, t *Target, units int64) {
	if t.QuotaReserved <= 0 {
		return
	}
	m, ok := s.meter(t.Platform)
	if !ok {
		return
	}
	if units <= 0 || units > t.QuotaReserved {
		units = t.QuotaReserved
	}
	wctx, cancel := writeContext(ctx)
	defer cancel()
	if err := m.Reserve(wctx, t.QuotaReservedFor, -units); err != nil {
		s.quotaLogFailure(ls, t, err)
		return
	}
	t.QuotaReserved -= units
	if t.QuotaReserved == 0 {
		t.QuotaReservedFor = time.Time{}
	}
}

// settling is what t's next call gives back of its reservation (up to
// units; all of it when units is 0), for the platform's client to settle
// in the call's own ledger write (platform.FromReserve).
func (s *Service) settling(t *Target, units int64) *platform.FromReserve {
	if units <= 0 || units > t.QuotaReserved {
		units = t.QuotaReserved
	}
	return &platform.FromReserve{Start: t.QuotaReservedFor, Units: units}
}

// settled records what the client gave back, or gives it back when the
// client did not (another day's reservation, a ledger write that failed,
// a platform without a ledger).
func (s *Service) settled(ctx context.Context, ls *Livestream, t *Target, fr *platform.FromReserve) {
	if fr.Units <= 0 {
		return
	}
	if !fr.Taken() {
		s.releaseQuota(ctx, ls, t, fr.Units)
		return
	}
	t.QuotaReserved -= fr.Units
	if t.QuotaReserved <= 0 {
		t.QuotaReserved, t.QuotaReservedFor = 0, time.Time{}
	}
}

// moveQuota moves what the targets reserved to a new start (an update).
func (s *Service) moveQuota(ctx context.Context, ls *Livestream, start time.Time) {
	for i := range ls.Targets {
		s.moveQuotaOf(ctx, ls, &ls.Targets[i], start)
	}
}

// moveQuotaOf moves what t reserved to start's day.
func (s *Service) moveQuotaOf(ctx context.Context, ls *Livestream, t *Target, start time.Time) {
	units := t.QuotaReserved
	if units <= 0 || t.QuotaReservedFor.Equal(start) {
		return
	}
	m, ok := s.meter(t.Platform)
	if !ok {
		return
	}
	s.releaseQuota(ctx, ls, t, 0)
	if t.QuotaReserved != 0 {
		return // the old day's reservation could not be given back (logged): it stays where it is recorded
	}
	if err := m.Reserve(ctx, start, units); err != nil {
		s.quotaLogFailure(ls, t, err)
		return
	}
	t.QuotaReserved, t.QuotaReservedFor = units, start
}

func (s *Service) quotaLogFailure(ls *Livestream, t *Target, err error) {
	s.cfg.Logger.Warn("the quota ledger could not be written", slog.String("livestream", ls.ID),
		slog.String("platform", string(t.Platform)), slog.String("error", err.Error()))
}

// checkQuotaOf is the preflight's quota check of a metered target: fail
// when the go-live cannot be paid for, warn when the day's go-lives are
// reserved beyond what is left, pass otherwise.
func (s *Service) checkQuotaOf(ctx context.Context, ls *Livestream, t *Target, name string, now time.Time) (Check, bool) {
	at := ls.ScheduledStart
	if at.Before(now) {
		at = now
	}
	q, c, ok, err := s.quotaOf(ctx, t.Platform, at)
	if !ok && err == nil {
		return Check{}, false
	}
	ch := Check{Name: CheckQuota, At: now}
	reset := q.Reset.UTC().Format(time.RFC3339)
	switch {
	case err != nil:
		ch.Status, ch.Message = CheckWarn, fmt.Sprintf("the %s API quota ledger could not be read; it is checked again before the start", name)
	case q.Left() < c.GoLive:
		ch.Status, ch.Message = CheckFail, fmt.Sprintf("%s's daily API quota has %d units left and the go-live needs %d: it cannot start "+
			"before the quota resets at %s", name, max(q.Left(), 0), c.GoLive, reset)
	case q.Free() < 0:
		ch.Status, ch.Message = CheckWarn, fmt.Sprintf("%s's daily API quota has %d units left but %d are reserved for the go-lives and "+
			"ends scheduled before it resets at %s: not all of them may start", name, q.Left(), q.Reserved, reset)
	default:
		ch.Status, ch.Message = CheckPass, fmt.Sprintf("%s's daily API quota has %d of %d units left, %d reserved for the day's go-lives; "+
			"it resets at %s", name, q.Left(), q.Limit, q.Reserved, reset)
	}
	return ch, true
}

// quotaCosts are bc's quota costs; zeros when it is not metered.
func quotaCosts(bc platform.Broadcaster) platform.QuotaCosts {
	if m, ok := bc.(platform.QuotaMeter); ok {
		return m.QuotaCosts()
	}
	return platform.QuotaCosts{}
}
