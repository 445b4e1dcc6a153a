package livestream

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/series"
)

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

// ChangeSeries changes a series from ch.From on (series.Engine.Change).
// Occurrences already made from then on take a change that keeps their
// starts and targets (a new title, description or length) where they are,
// as PATCH /livestreams/{id} would (series.InPlace: same livestreams, same
// keys); any other change cancels them at every platform and makes them
// again from the new definition, where a stable ingest (YouTube's reusable
// stream) keeps the encoder's key.
func (s *Service) ChangeSeries(ctx context.Context, tenant, id string, ch SeriesChange) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.ChangeSeries", err) }()
	if s.series == nil {
		return nil, series.NotFound(id)
	}
	if ch.Title == nil && ch.Description == nil && ch.Targets == nil && ch.Recurrence == nil && ch.ScheduledStart == nil && ch.ScheduledEnd == nil {
		if _, _, err := s.series.Get(ctx, tenant, id, 0); err != nil {
			return nil, err // another tenant's series is not found whatever the change
		}
		return nil, invalid(apperr.CodeInvalidBody, "name at least one of title, description, targets, recurrence, scheduledStart and scheduledEnd to change")
	}
	return s.series.Change(ctx, tenant, id, ch.From, func(ctx context.Context, cur Definition, now time.Time) (Definition, error) {
		return s.redefine(ctx, tenant, cur, ch, now)
	})
}

// redefine checks a change and builds the definition it makes of cur.
func (s *Service) redefine(ctx context.Context, tenant string, cur Definition, ch SeriesChange, now time.Time) (Definition, error) {
	d, retimed, err := series.Retime(cur, ch.From.UTC(), ch.Recurrence, ch.ScheduledStart, ch.ScheduledEnd)
	if err != nil {
		return d, err
	}
	if retimed {
		end := time.Time{}
		switch {
		case ch.ScheduledEnd != nil:
			end = *ch.ScheduledEnd // checked as given: before the start is refused
		case d.Duration > 0:
			end = d.FirstStart.Add(d.Duration)
		}
		if err := s.checkSchedule(d.FirstStart, end, now, true); err != nil {
			return d, err
		}
	}
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
	return d, nil
}
