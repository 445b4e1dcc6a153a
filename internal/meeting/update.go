package meeting

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Change is a change of one meeting (PATCH /meetings/{id}); a nil field
// is kept. Each given field is checked as Create checks it.
type Change struct {
	Title           *string
	StartTime       *string // RFC 3339
	DurationMinutes *int
	TimeZone        *string // IANA
}

// changeAttempts bounds the re-reads when another writer (a target's
// outcome, a cancel) moved the meeting between the read and the write.
const changeAttempts = 3

// Update changes a meeting's title and times (see the package comment):
// recorded in Switchboard first, then sent to every target that exists at
// its platform, at once, each outcome written on its target.
func (s *Service) Update(ctx context.Context, tenant, id string, ch Change) (_ *Meeting, err error) {
	defer func() { err = apperr.WithOp("meeting.Update", err) }()
	if !ValidID(id) {
		return nil, notFound(id)
	}
	m, err := s.recordChange(ctx, tenant, id, ch)
	if err != nil {
		return nil, err
	}
	// The change is recorded: it is sent and its outcomes written even if
	// the caller goes away.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CallTimeout+writeTimeout)
	defer cancel()
	errs := make([]error, len(m.Targets))
	var wg sync.WaitGroup
	for i, t := range m.Targets {
		if t.Status != TargetReady {
			continue // nothing of it exists at the platform (failed, cancelled, or a create that never finished)
		}
		wg.Go(func() {
			errs[i] = s.record(wctx, m, s.updateAt(wctx, m, t), TargetReady, true)
			if errors.Is(errs[i], ErrChanged) {
				errs[i] = nil // cancelled meanwhile: its cancel has the target now
			}
		})
	}
	wg.Wait()
	if err := s.cfg.Repo.EndChange(wctx, tenant, id, m.Revision); err != nil {
		// The next change waits out ChangingUntil instead.
		s.cfg.Logger.Warn("ending a meeting change failed", slog.String("meeting_id", id), slog.String("error", err.Error()))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	s.logOutcome("meeting changed", out)
	return out, nil
}

// recordChange checks the change against the meeting as stored and
// records it, re-reading when another writer moved the meeting meanwhile.
// It returns the meeting as changed.
func (s *Service) recordChange(ctx context.Context, tenant, id string, ch Change) (*Meeting, error) {
	for range changeAttempts {
		cur, err := s.cfg.Repo.Get(ctx, tenant, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil, notFound(id)
		}
		if err != nil {
			return nil, err
		}
		now := s.now()
		next, err := s.changed(cur, ch, now)
		if err != nil {
			return nil, err
		}
		err = s.cfg.Repo.Change(ctx, next, now)
		if errors.Is(err, ErrChanged) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return next, nil
	}
	return nil, apperr.E(apperr.Conflict, apperr.CodeBusy, "the meeting is being changed elsewhere; try again in a moment")
}

// changed is cur with ch applied at now, its revision the next one; or
// why it cannot change: a field that is wrong (checked as Create checks
// it), a meeting that is cancelled, has ended, is still being created or
// is being changed by another request.
func (s *Service) changed(cur *Meeting, ch Change, now time.Time) (*Meeting, error) {
	if ch.Title == nil && ch.StartTime == nil && ch.DurationMinutes == nil && ch.TimeZone == nil {
		return nil, invalid("body", "name at least one of title, startTime, durationMinutes and timezone to change")
	}
	next := *cur
	next.Targets = append([]Target(nil), cur.Targets...)
	var err error
	if ch.Title != nil {
		if next.Title, err = checkTitle(*ch.Title); err != nil {
			return nil, err
		}
	}
	if ch.StartTime != nil {
		if next.Start, err = checkStart(*ch.StartTime, now); err != nil {
			return nil, err
		}
	}
	if ch.DurationMinutes != nil {
		if next.Duration, err = checkDuration(*ch.DurationMinutes); err != nil {
			return nil, err
		}
	}
	if ch.TimeZone != nil {
		if next.TimeZone, err = checkTimeZone(ch.TimeZone); err != nil {
			return nil, err
		}
	}
	switch {
	case !cur.CancelledAt.IsZero():
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeMeetingCancelled, "the meeting was cancelled at %s; it cannot be changed", cur.CancelledAt.UTC().Format(time.RFC3339))
	case !now.Before(cur.End()):
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeMeetingEnded, "the meeting ended at %s; it cannot be changed", cur.End().Format(time.RFC3339))
	case cur.ChangingUntil.After(now):
		return nil, apperr.E(apperr.Conflict, apperr.CodeBusy, "the meeting is being changed by another request; try again in a moment")
	}
	for _, t := range cur.Targets {
		if t.Status == TargetPending && now.Sub(cur.CreatedAt) < s.cfg.StalePending {
			// Its create would make it with the old details.
			return nil, apperr.Errorf(apperr.Conflict, apperr.CodeBusy, "the meeting is still being created at %s; try again in a moment", nameOf(t.Platform))
		}
	}
	next.Revision = cur.Revision + 1
	// Longer than every call and write of this change take (CallTimeout
	// and writeTimeout), with the slack StalePending gives a create: a
	// crashed change holds the meeting no longer than that.
	next.ChangingUntil = now.Add(s.cfg.StalePending)
	return &next, nil
}

// updateAt sends the meeting's details to the target's platform and
// returns the target as it is then: at m's revision (with new links where
// the platform made them), or unchanged with lastError saying why not.
func (s *Service) updateAt(ctx context.Context, m *Meeting, t Target) Target {
	pl := s.prepare(ctx, m.Tenant, t.Platform)
	now := s.now()
	t.UpdatedAt = now
	fail := func(err error) Target {
		s.logFailure("meeting target not changed", m, t.Platform, err)
		s.reportUnauthorized(ctx, m.Tenant, t.Platform, err)
		t.LastError = lastErrorOf(err, t.UpdatedAt)
		return t
	}
	if pl.err == nil && pl.secretJoin != (len(t.SealedJoin) > 0) {
		pl.err = platform.Unsupported(t.Platform, "update meeting", "the "+nameOf(t.Platform)+" account this meeting was made with "+
			"is no longer connected the same way (8x8 JaaS credentials or none), so its links cannot be made again for the new times")
	}
	if pl.err != nil {
		return fail(pl.err)
	}
	updater, ok := pl.meeter.(platform.MeetingUpdater)
	if !ok {
		if r, _ := registry.Registration(string(t.Platform)); r.NoMeetingUpdateNote != "" {
			t.Revision, t.LastError, t.Note = m.Revision, nil, r.NoMeetingUpdateNote
			return t
		}
		return fail(platform.Unsupported(t.Platform, "update meeting", nameOf(t.Platform)+
			"'s API has no call that changes a meeting: it keeps the title and times it was made with"))
	}
	spec := platform.MeetingSpec{Title: m.Title, Start: m.Start, Duration: m.Duration, TimeZone: m.TimeZone}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	made, err := updater.UpdateMeeting(cctx, pl.token, platform.Meeting{ExternalID: t.ExternalID, JoinURL: t.JoinURL, Extra: t.Extra}, spec)
	cancel()
	if err != nil {
		return fail(err)
	}
	t.Revision, t.LastError = m.Revision, nil
	if made.Extra != nil {
		t.Extra = made.Extra
	}
	if made.HostURL != "" || made.JoinURL != t.JoinURL {
		// New links (8x8 JaaS signs them for the times): kept as a create keeps them.
		s.keepLinks(ctx, m, &t, made, pl.secretJoin)
	}
	return t
}
