package livestream

import (
	"context"
	"reflect"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/series"
	"github.com/switchboard-dev/switchboard/internal/sortid"
)

// A series is a recurring livestream (package series holds what recurring
// livestreams and meetings share). Its occurrences are ordinary
// livestreams (SeriesID names the series), created by the scheduler when
// they come within every target platform's scheduling window
// (OccurrenceAhead; Facebook's 7 days), each exactly once. One occurrence
// is changed as any livestream (PATCH) or skipped (SkipOccurrence);
// ChangeSeries changes the series from a date on; EndSeries cancels every
// future one at every platform.

// Series is a recurring livestream.
type Series = series.Series[CreateInput]

// Definition is how a series' occurrences are made, from a date on.
type Definition = series.Definition[CreateInput]

// Recurrence is how a livestream repeats, as a caller gives it.
type Recurrence = series.Recurrence

// Occurrence is one occurrence of a series; its ID is its livestream's.
type Occurrence = series.Occurrence

// SeriesRepo is the series storage the service needs.
type SeriesRepo = series.Repo[CreateInput]

// SeriesStatus is a series' state.
type SeriesStatus = series.Status

const (
	SeriesActive = series.Active
	SeriesEnded  = series.Ended
)

// OccurrenceID is the id of the series' occurrence starting at start
// (seriesKey is the series' id, or its id and a revision).
func OccurrenceID(seriesKey string, start time.Time) string {
	return sortid.ULIDFor(start, seriesKey+"/"+start.UTC().Format(time.RFC3339))
}

// OccurrenceAhead is how far ahead of its start an occurrence with these
// targets is created (series.AheadOf their platforms).
func OccurrenceAhead(targets []TargetInput) time.Duration {
	ps := make([]string, len(targets))
	for i, t := range targets {
		ps[i] = t.Platform
	}
	return series.AheadOf(ps)
}

func (s *Service) seriesEngine() *series.Engine[CreateInput] {
	return &series.Engine[CreateInput]{
		Repo: s.cfg.Series, Occurrences: occurrences{s}, Logger: s.cfg.Logger, Now: s.cfg.Now,
		NewID: newID, ValidID: validID, OccurrenceID: OccurrenceID, Busy: errClaimLost,
	}
}

// occurrences are the series engine's livestreams.
type occurrences struct{ s *Service }

func (o occurrences) Make(ctx context.Context, sr *Series, d *Definition, start time.Time, id string) error {
	in := d.Template
	in.ScheduledStart = start
	if d.Duration > 0 {
		in.ScheduledEnd = start.Add(d.Duration)
	}
	_, err := o.s.create(ctx, sr.Tenant, sr.CreatedBy, in, id, sr.ID)
	return err
}

// Cancel cancels an occurrence's livestream if it exists and is not over.
func (o occurrences) Cancel(ctx context.Context, tenant, id string) error {
	return series.CancelResult(o.s.Cancel(ctx, tenant, id), apperr.CodeLivestreamOver)
}

func (o occurrences) Find(ctx context.Context, tenant, id string) (series.Made, bool, error) {
	ls, err := o.s.cfg.Repo.Get(ctx, tenant, id)
	if err != nil {
		return series.Found(series.Made{}, err)
	}
	return series.Found(series.Made{Start: ls.ScheduledStart, End: ls.ScheduledEnd}, nil)
}

func (occurrences) Ahead(t CreateInput) time.Duration { return OccurrenceAhead(t.Targets) }

// CanApply: a change of title, description or length, the targets as
// they were, is made to an occurrence where it is (series.InPlace).
func (occurrences) CanApply(cur, next CreateInput) bool {
	return reflect.DeepEqual(cur.Targets, next.Targets)
}

// Apply changes a made occurrence as PATCH /livestreams/{id} would,
// platforms included; one no longer scheduled (live, over, cancelled) is
// left as it is.
func (o occurrences) Apply(ctx context.Context, tenant, id string, d *Definition) error {
	// The length runs from the occurrence's own start: one moved on its
	// own (PATCH /livestreams/{id}) keeps its time.
	_, err := o.s.Update(ctx, tenant, id, UpdateInput{Title: &d.Template.Title, Description: &d.Template.Description, Length: &d.Duration})
	return series.CancelResult(err, apperr.CodeLivestreamNotScheduled)
}

func notOffered() error {
	return apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "recurring livestreams are not configured here")
}

// CreateSeries checks a recurring livestream as Create checks a livestream
// (its first start is in.ScheduledStart, each occurrence as long as
// in.ScheduledEnd makes the first), stores the series and makes the
// occurrences already within the window.
func (s *Service) CreateSeries(ctx context.Context, tenant, user string, in CreateInput, rec Recurrence) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.CreateSeries", err) }()
	if s.series == nil {
		return nil, notOffered()
	}
	now := s.now()
	if _, err := checkTitle(in.Title); err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := s.checkSchedule(in.ScheduledStart, in.ScheduledEnd, now, true); err != nil {
		return nil, err
	}
	var length time.Duration
	if !in.ScheduledEnd.IsZero() {
		length = in.ScheduledEnd.Sub(in.ScheduledStart)
	}
	d, err := series.Check[CreateInput](rec, in.ScheduledStart, length)
	if err != nil {
		return nil, err
	}
	if err := s.checkSeriesTargets(ctx, tenant, in.Targets); err != nil {
		return nil, err
	}
	d.Template = in
	d.Template.ScheduledStart, d.Template.ScheduledEnd = time.Time{}, time.Time{}
	return s.series.Create(ctx, tenant, user, d)
}

// checkSeriesTargets checks a series' targets as Create checks a
// livestream's, and that none is one whose ingest is pasted.
func (s *Service) checkSeriesTargets(ctx context.Context, tenant string, in []TargetInput) error {
	targets, userKeys, err := s.checkTargets(in)
	if err != nil {
		return err
	}
	if len(userKeys) > 0 {
		// A pasted key (Instagram's Live Producer) is for one broadcast.
		return unprocessable(apperr.CodeInvalidRecurrence, "a recurring livestream cannot have a target whose ingest you paste (Instagram): its key is for one broadcast; schedule those one at a time")
	}
	creds, err := s.credentials(ctx, tenant, targets)
	if err != nil {
		return err
	}
	return s.checkManaged(ctx, targets, creds)
}

// RunDueSeries makes the occurrences of every series that is due by now.
func (s *Service) RunDueSeries(ctx context.Context, now time.Time) (run.Report, error) {
	if s.series == nil {
		return run.Report{}, nil
	}
	return s.series.RunDue(ctx, now)
}

// GetSeries reads a series and its next occurrences (at most n) from now.
func (s *Service) GetSeries(ctx context.Context, tenant, id string, n int) (_ *Series, _ []Occurrence, err error) {
	defer func() { err = apperr.WithOp("livestream.GetSeries", err) }()
	if s.series == nil {
		return nil, nil, series.NotFound(id)
	}
	return s.series.Get(ctx, tenant, id, n)
}

// NextOccurrences is a series in hand's next occurrences (at most n) from
// now, as GetSeries reads them, without reading the series again.
func (s *Service) NextOccurrences(ctx context.Context, sr *Series, n int) (_ []Occurrence, err error) {
	defer func() { err = apperr.WithOp("livestream.NextOccurrences", err) }()
	if s.series == nil {
		return nil, series.NotFound(sr.ID)
	}
	return s.series.Next(ctx, sr, n)
}

// SkipOccurrence skips the series' occurrence starting at start: it is
// never created, and if it was, it is cancelled at every platform. The
// others are left as they are.
func (s *Service) SkipOccurrence(ctx context.Context, tenant, id string, start time.Time) (err error) {
	defer func() { err = apperr.WithOp("livestream.SkipOccurrence", err) }()
	if s.series == nil {
		return series.NotFound(id)
	}
	return s.series.Skip(ctx, tenant, id, start)
}

// EndSeries ends a series: no more occurrences are made, and every one
// that has not started yet is cancelled at every platform.
func (s *Service) EndSeries(ctx context.Context, tenant, id string) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.EndSeries", err) }()
	if s.series == nil {
		return nil, series.NotFound(id)
	}
	return s.series.End(ctx, tenant, id)
}
