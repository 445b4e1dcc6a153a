package livestream

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// A series is changed from a date on (ChangeSeries): the occurrences
// starting at or after it follow a new Definition, the earlier ones the
// definition they were made from. Each definition has a revision, and an
// occurrence's livestream id carries it (revision 0 keeps OccurrenceID),
// so an occurrence remade from a change is a new livestream, made exactly
// once by the same conditional put, and the one it replaces keeps its id.
//
// An occurrence already made from the old definition is cancelled at
// every platform and made again from the new one: the platform clients
// have no call that changes a broadcast they made (see Update), so
// cancelling and remaking is the one way every platform shows the new
// title, description, time and destinations. With a stable ingest
// (YouTube's reusable stream) the key the encoder uses does not change.

// SeriesChange is a change to a series from From on. A nil field is kept.
type SeriesChange struct {
	// From is the first start the change applies to: occurrences starting
	// at or after it follow the new definition. It is not in the past.
	From        time.Time
	Title       *string
	Description *string
	Targets     []TargetInput // nil: kept
	Recurrence  *Recurrence
	// ScheduledStart is the first occurrence's start from From on (its
	// wall-clock time is the time of every later one); ScheduledEnd, with
	// it, that occurrence's end (the length of each). Without them the
	// time of day and the length are kept.
	ScheduledStart *time.Time
	ScheduledEnd   *time.Time
}

// slot is one occurrence of a series: its start, the definition in force
// then and its livestream's id.
type slot struct {
	Start time.Time
	Def   *Definition
	ID    string
}

// definitions are the series' definitions, oldest first.
func (sr *Series) definitions() []Definition {
	return append(slices.Clone(sr.Earlier), sr.Definition)
}

// occurrenceID is the livestream id of the occurrence at start made from d.
func (sr *Series) occurrenceID(d *Definition, start time.Time) string {
	if d.Revision == 0 {
		return OccurrenceID(sr.ID, start)
	}
	return OccurrenceID(sr.ID+"/"+strconv.Itoa(d.Revision), start)
}

// between lists the occurrences starting after after and before before (or
// at either, with inc), each from the definition in force at its start.
func (sr *Series) between(after, before time.Time, inc bool) ([]slot, error) {
	defs := sr.definitions()
	var out []slot
	for i := range defs {
		d := &defs[i]
		lo, hi := after, before
		if d.From.After(lo) {
			lo = d.From
		}
		if i+1 < len(defs) && defs[i+1].From.Before(hi) {
			hi = defs[i+1].From
		}
		if hi.Before(lo) {
			continue
		}
		r, err := d.rule()
		if err != nil {
			return nil, err
		}
		for _, t := range r.Between(lo, hi, true) {
			t = t.UTC()
			if !inc && (t.Equal(after) || t.Equal(before)) || !sr.inForce(defs, i, t) {
				continue
			}
			out = append(out, slot{Start: t, Def: d, ID: sr.occurrenceID(d, t)})
		}
	}
	return out, nil
}

// inForce: defs[i] is the definition for an occurrence starting at t.
func (sr *Series) inForce(defs []Definition, i int, t time.Time) bool {
	return !t.Before(defs[i].From) && (i+1 == len(defs) || t.Before(defs[i+1].From))
}

// after is the series' first occurrence starting after t.
func (sr *Series) after(t time.Time) (slot, bool, error) {
	defs := sr.definitions()
	for i := range defs {
		d := &defs[i]
		if i+1 < len(defs) && !defs[i+1].From.After(t) {
			continue // in force only before t
		}
		r, err := d.rule()
		if err != nil {
			return slot{}, false, err
		}
		next := r.After(t, false)
		if d.From.After(t) {
			next = r.After(d.From, true)
		}
		if next.IsZero() || !sr.inForce(defs, i, next.UTC()) {
			continue
		}
		return slot{Start: next.UTC(), Def: d, ID: sr.occurrenceID(d, next.UTC())}, true, nil
	}
	return slot{}, false, nil
}

// ahead is how far ahead of its start an occurrence of the series is made:
// the tightest bound of any definition's targets.
func (sr *Series) ahead() time.Duration {
	ahead := defaultAhead
	for _, d := range sr.definitions() {
		ahead = min(ahead, OccurrenceAhead(d.Template.Targets))
	}
	return ahead
}

// madeBy is the latest start an occurrence made by now can have.
func (sr *Series) madeBy(now time.Time) time.Time {
	return maxTime(sr.Until, now.Add(sr.ahead()))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// at is the series' occurrence starting at start, if it has one.
func (sr *Series) at(start time.Time) (slot, bool, error) {
	got, err := sr.between(start.Add(-time.Second), start.Add(time.Second), true)
	if err != nil {
		return slot{}, false, err
	}
	i := slices.IndexFunc(got, func(o slot) bool { return o.Start.Equal(start) })
	if i < 0 {
		return slot{}, false, nil
	}
	return got[i], true, nil
}

// wants: the series, as it is, has the occurrence o: it is active, o is
// not skipped and is made from the definition in force at its start.
func (sr *Series) wants(o slot) bool {
	if sr.Status != SeriesActive || sr.skipped(o.Start) {
		return false
	}
	cur, ok, err := sr.at(o.Start)
	return err == nil && ok && cur.ID == o.ID
}

// ChangeSeries changes a series from ch.From on. Every input is checked
// before anything is written; then the series is saved (conditionally on
// its version, so concurrent changes and scheduler runs each see the
// other's), the occurrences made from the old definition from ch.From on
// are withdrawn (cancelled at every platform, the scheduler retrying any
// that fails) and those within the window are made from the new one.
func (s *Service) ChangeSeries(ctx context.Context, tenant, id string, ch SeriesChange) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.ChangeSeries", err) }()
	ch.From = ch.From.UTC()
	for range 3 {
		now := s.now()
		// Another tenant's series is not found whatever the change.
		sr, err := s.series(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if ch.Title == nil && ch.Description == nil && ch.Targets == nil && ch.Recurrence == nil && ch.ScheduledStart == nil && ch.ScheduledEnd == nil {
			return nil, invalid(apperr.CodeInvalidBody, "name at least one of title, description, targets, recurrence, scheduledStart and scheduledEnd to change")
		}
		if ch.From.IsZero() {
			return nil, invalid(apperr.CodeInvalidRecurrence, "from is required: the first occurrence start (RFC 3339) the change applies to")
		}
		if sr.Status != SeriesActive {
			return nil, apperr.Errorf(apperr.Conflict, apperr.CodeSeriesEnded, "the series has ended: it cannot be changed")
		}
		if ch.From.Before(now) {
			return nil, unprocessable(apperr.CodeInvalidRecurrence, "from %s is in the past: a change applies to occurrences still to come", ch.From.Format(time.RFC3339))
		}
		next, err := s.redefine(ctx, tenant, sr.Definition, ch, now)
		if err != nil {
			return nil, err
		}
		// Those made so far from ch.From on are withdrawn: every one up to
		// the window's end, as a run that lost a race to another writer
		// may have made some past Until (cancelling one never made is
		// nothing).
		made, err := sr.between(ch.From, sr.madeBy(now), true)
		if err != nil {
			return nil, err
		}
		for _, o := range made {
			if !slices.Contains(sr.Withdraw, o.ID) {
				sr.Withdraw = append(sr.Withdraw, o.ID)
			}
		}
		if !sr.Until.Before(ch.From) {
			sr.Until = ch.From.Add(-time.Nanosecond)
		}
		// A definition in force only from ch.From on is replaced whole.
		var kept []Definition
		for _, d := range sr.definitions() {
			if d.From.Before(ch.From) {
				kept = append(kept, d)
			}
		}
		next.Revision = sr.Revision + 1
		sr.Earlier, sr.Definition = kept, next
		sr.DueAt, sr.UpdatedAt = now, now
		if err := s.cfg.Series.SaveSeries(ctx, sr); IsConflict(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		if err := s.materialize(ctx, sr, now); err != nil && !IsConflict(err) {
			s.cfg.Logger.Warn("remaking a changed series' occurrences failed; the scheduler does", slog.String("series", sr.ID),
				slog.String("error", err.Error()))
		}
		return sr, nil
	}
	return nil, errClaimLost
}

// redefine checks a change and builds the definition it makes of cur.
func (s *Service) redefine(ctx context.Context, tenant string, cur Definition, ch SeriesChange, now time.Time) (Definition, error) {
	d := cur
	d.From = ch.From
	if ch.Title != nil {
		title, err := checkTitle(*ch.Title)
		if err != nil {
			return d, err
		}
		d.Template.Title = title
	}
	if ch.Description != nil {
		if err := checkDescription(*ch.Description); err != nil {
			return d, err
		}
		d.Template.Description = *ch.Description
	}
	if ch.Targets != nil {
		if err := s.checkSeriesTargets(ctx, tenant, ch.Targets); err != nil {
			return d, err
		}
		d.Template.Targets = ch.Targets
	}
	oldLoc, err := time.LoadLocation(cur.TimeZone)
	if err != nil {
		return d, err
	}
	loc := oldLoc
	if ch.Recurrence != nil {
		if loc, err = seriesZone(ch.Recurrence.TimeZone); err != nil {
			return d, err
		}
		d.Rule, d.TimeZone = strings.TrimPrefix(strings.TrimSpace(ch.Recurrence.Rule), "RRULE:"), loc.String()
	}
	switch {
	case ch.ScheduledStart != nil:
		d.FirstStart = ch.ScheduledStart.UTC()
		if d.FirstStart.Before(ch.From) {
			return d, unprocessable(apperr.CodeInvalidSchedule, "scheduledStart must be at or after from: it is the first occurrence from the change on")
		}
		end := time.Time{}
		if ch.ScheduledEnd != nil {
			end = *ch.ScheduledEnd
			d.Duration = end.Sub(*ch.ScheduledStart)
		} else if d.Duration > 0 {
			end = d.FirstStart.Add(d.Duration)
		}
		if err := s.checkSchedule(d.FirstStart, end, now, true); err != nil {
			return d, err
		}
	case ch.ScheduledEnd != nil:
		return d, invalid(apperr.CodeInvalidSchedule, "scheduledEnd is given with scheduledStart: together they are the first changed occurrence and set the length of each")
	default:
		// The time of day kept, in the (new) zone.
		w := cur.FirstStart.In(oldLoc)
		d.FirstStart = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc).UTC()
	}
	if _, err := parseRule(d.Rule, d.FirstStart, loc); err != nil {
		return d, err
	}
	return d, nil
}
