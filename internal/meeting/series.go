package meeting

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/series"
	"github.com/switchboard-dev/switchboard/internal/sortid"
)

// A recurring meeting is a series (package series holds what recurring
// meetings and livestreams share): an RFC 5545 rule (a subset) in an IANA
// zone and the meeting to make at each occurrence. Its occurrences are
// ordinary meetings (SeriesID names the series), each with its own join
// links, made by the scheduler when they come within the window
// (series.DefaultAhead, 14 days: no meeting platform here documents a
// bound on how far ahead a meeting is scheduled), exactly once: an
// occurrence's id is derived from the series and its start and stored by
// a conditional put before any platform is called. One occurrence is
// cancelled as any meeting (DELETE /meetings/{id}) or skipped
// (SkipOccurrence); ChangeSeries changes the series from a date on;
// EndSeries cancels every future one at every platform.
//
// The platforms' own recurring meetings (Zoom's type 8, a Calendar event
// with an RRULE) are not used: Teams' onlineMeetings API makes none, one
// meeting per occurrence works the same on every platform, and each
// occurrence can then be cancelled on its own at every platform.

// Series is a recurring meeting.
type Series = series.Series[CreateInput]

// SeriesRepo is the series storage the service needs.
type SeriesRepo = series.Repo[CreateInput]

// seriesPrefix starts every meeting series' id.
const seriesPrefix = "mtgs_"

// OccurrenceID is the meeting id of the series' occurrence starting at
// start (seriesKey is the series' id, or its id and a revision).
func OccurrenceID(seriesKey string, start time.Time) string {
	return sortid.NewFor(idPrefix, start, seriesKey+"/"+start.UTC().Format(time.RFC3339))
}

func (s *Service) seriesEngine() *series.Engine[CreateInput] {
	return &series.Engine[CreateInput]{
		Repo: s.cfg.Series, Occurrences: occurrences{s}, Logger: s.cfg.Logger, Now: s.cfg.Now,
		NewID:        func(now time.Time) string { return sortid.New(seriesPrefix, now) },
		ValidID:      func(id string) bool { return sortid.Valid(seriesPrefix, id) },
		OccurrenceID: OccurrenceID,
		Busy:         apperr.E(apperr.Conflict, apperr.CodeBusy, "the series is being changed elsewhere; try again in a moment"),
	}
}

// occurrences are the series engine's meetings.
type occurrences struct{ s *Service }

func (o occurrences) Make(ctx context.Context, sr *Series, d *series.Definition[CreateInput], start time.Time, id string) error {
	in := d.Template
	in.StartTime = start.UTC().Format(time.RFC3339)
	in.DurationMinutes = int(d.Duration / time.Minute)
	_, err := o.s.create(ctx, sr.Tenant, sr.CreatedBy, in, id, sr.ID)
	return err
}

// Cancel cancels an occurrence's meeting if it exists and has not ended.
func (o occurrences) Cancel(ctx context.Context, tenant, id string) error {
	return series.CancelResult(o.s.Cancel(ctx, tenant, id), apperr.CodeMeetingEnded)
}

func (o occurrences) Find(ctx context.Context, tenant, id string) (series.Made, bool, error) {
	m, err := o.s.cfg.Repo.Get(ctx, tenant, id)
	if err != nil {
		return series.Found(series.Made{}, err)
	}
	return series.Found(series.Made{Start: m.Start, End: m.End()}, nil)
}

func (occurrences) Ahead(t CreateInput) time.Duration { return series.AheadOf(t.Platforms) }

// CanApply: a change of title, length or shown zone, the platforms as
// they were, is made to an occurrence where it is (series.InPlace), so
// its join links stay.
func (occurrences) CanApply(cur, next CreateInput) bool {
	return slices.Equal(cur.Platforms, next.Platforms)
}

// Apply changes a made occurrence as PATCH /meetings/{id} would,
// platforms included; one cancelled or ended is left as it is.
func (o occurrences) Apply(ctx context.Context, tenant, id string, d *series.Definition[CreateInput]) error {
	minutes := int(d.Duration / time.Minute)
	_, err := o.s.Update(ctx, tenant, id, Change{Title: &d.Template.Title, DurationMinutes: &minutes, TimeZone: d.Template.TimeZone})
	if e, ok := apperr.As(err); ok && e.Code == apperr.CodeMeetingCancelled {
		return nil
	}
	return series.CancelResult(err, apperr.CodeMeetingEnded)
}

func (s *Service) seriesOffered(id string) error {
	if s.series == nil {
		return series.NotFound(id)
	}
	return nil
}

// CreateSeries checks a recurring meeting as Create checks a meeting (its
// first start is in.StartTime), and that every target is connected, then
// stores the series and makes the occurrences already within the window.
// The meeting's time zone, when not given, is the recurrence's.
func (s *Service) CreateSeries(ctx context.Context, tenant, user string, in CreateInput, rec series.Recurrence) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("meeting.CreateSeries", err) }()
	if s.series == nil {
		return nil, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "recurring meetings are not configured here")
	}
	loc, err := series.Zone(rec.TimeZone)
	if err != nil {
		return nil, err
	}
	if in.TimeZone == nil {
		zone := loc.String() // the zone as checked, not as typed
		in.TimeZone = &zone
	}
	sp, err := validate(in, s.now())
	if err != nil {
		return nil, err
	}
	d, err := series.Check[CreateInput](rec, sp.start, sp.duration)
	if err != nil {
		return nil, err
	}
	if err := s.checkConnected(ctx, tenant, sp); err != nil {
		return nil, err
	}
	d.Template = templateOf(sp)
	return s.series.Create(ctx, tenant, user, d)
}

// templateOf is a checked meeting as a series keeps it: everything but
// its start and length, which each occurrence has from the definition.
func templateOf(sp spec) CreateInput {
	tz := sp.timeZone
	t := CreateInput{Title: sp.title, TimeZone: &tz}
	for _, p := range sp.platforms {
		t.Platforms = append(t.Platforms, string(p))
	}
	return t
}

// checkConnected refuses what Create would refuse for want of a usable
// connection (target_not_connected), so a series is not accepted whose
// occurrences would all fail.
func (s *Service) checkConnected(ctx context.Context, tenant string, sp spec) error {
	return notConnected(s.plans(ctx, tenant, sp.platforms))
}

// RunDueSeries makes the occurrences of every series that is due by now.
func (s *Service) RunDueSeries(ctx context.Context, now time.Time) (run.Report, error) {
	if s.series == nil {
		return run.Report{}, nil
	}
	return s.series.RunDue(ctx, now)
}

// GetSeries reads a series and its next occurrences (at most n) from now.
func (s *Service) GetSeries(ctx context.Context, tenant, id string, n int) (_ *Series, _ []series.Occurrence, err error) {
	defer func() { err = apperr.WithOp("meeting.GetSeries", err) }()
	if err := s.seriesOffered(id); err != nil {
		return nil, nil, err
	}
	return s.series.Get(ctx, tenant, id, n)
}

// NextOccurrences is a series in hand's next occurrences (at most n) from
// now, as GetSeries reads them, without reading the series again.
func (s *Service) NextOccurrences(ctx context.Context, sr *Series, n int) (_ []series.Occurrence, err error) {
	defer func() { err = apperr.WithOp("meeting.NextOccurrences", err) }()
	if s.series == nil {
		return nil, series.NotFound(sr.ID)
	}
	return s.series.Next(ctx, sr, n)
}

// SkipOccurrence skips the series' occurrence starting at start: it is
// never made, and if it was, it is cancelled at every platform.
func (s *Service) SkipOccurrence(ctx context.Context, tenant, id string, start time.Time) (err error) {
	defer func() { err = apperr.WithOp("meeting.SkipOccurrence", err) }()
	if err := s.seriesOffered(id); err != nil {
		return err
	}
	return s.series.Skip(ctx, tenant, id, start)
}

// EndSeries ends a series: no more occurrences are made, and every one
// that has not started yet is cancelled at every platform.
func (s *Service) EndSeries(ctx context.Context, tenant, id string) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("meeting.EndSeries", err) }()
	if err := s.seriesOffered(id); err != nil {
		return nil, err
	}
	return s.series.End(ctx, tenant, id)
}

// SeriesChange is a change to a recurring meeting from From on. A nil
// field is kept.
type SeriesChange struct {
	// From is the first start the change applies to; not in the past.
	From time.Time
	// Title, TimeZone (the zone the platforms show) and Platforms are the
	// meeting's; StartTime (RFC 3339) is the first occurrence's start from
	// From on, its wall-clock time every later one's (without it, the time
	// of day is kept); DurationMinutes is each occurrence's length.
	Title           *string
	StartTime       *string
	DurationMinutes *int
	TimeZone        *string
	Platforms       []string
	Recurrence      *series.Recurrence
}

// ChangeSeries changes a series from ch.From on; earlier occurrences are
// left as they are. Those already made from then on take a change that
// keeps their starts and platforms (a new title, length or shown zone)
// where they are, as PATCH /meetings/{id} would (series.InPlace: same
// meetings, same join links); any other change cancels them at every
// platform and makes them again from the new definition, with new links.
func (s *Service) ChangeSeries(ctx context.Context, tenant, id string, ch SeriesChange) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("meeting.ChangeSeries", err) }()
	if err := s.seriesOffered(id); err != nil {
		return nil, err
	}
	if ch.Title == nil && ch.StartTime == nil && ch.DurationMinutes == nil && ch.TimeZone == nil && ch.Platforms == nil && ch.Recurrence == nil {
		if _, _, err := s.series.Get(ctx, tenant, id, 0); err != nil {
			return nil, err // another tenant's series is not found whatever the change
		}
		return nil, invalid("body", "name at least one of title, startTime, durationMinutes, timezone, targets and recurrence to change")
	}
	return s.series.Change(ctx, tenant, id, ch.From, func(ctx context.Context, cur series.Definition[CreateInput], now time.Time) (series.Definition[CreateInput], error) {
		return s.redefine(ctx, tenant, cur, ch, now)
	})
}

// redefine checks a change and builds the definition it makes of cur: the
// changed meeting is checked whole, as Create checks one, at its first
// start from the change on.
func (s *Service) redefine(ctx context.Context, tenant string, cur series.Definition[CreateInput], ch SeriesChange, now time.Time) (series.Definition[CreateInput], error) {
	var start *time.Time
	if ch.StartTime != nil {
		t, err := time.Parse(time.RFC3339, *ch.StartTime)
		if err != nil {
			return cur, invalid("startTime", "startTime is not an RFC 3339 date-time with an offset (e.g. 2026-03-01T10:00:00-06:00)")
		}
		start = &t
	}
	d, retimed, err := series.Retime(cur, ch.From.UTC(), ch.Recurrence, start, nil)
	if err != nil {
		return d, err
	}
	in := d.Template
	in.DurationMinutes = int(d.Duration / time.Minute)
	if ch.Title != nil {
		in.Title = *ch.Title
	}
	if ch.DurationMinutes != nil {
		in.DurationMinutes = *ch.DurationMinutes
	}
	if ch.TimeZone != nil {
		in.TimeZone = ch.TimeZone
	}
	if ch.Platforms != nil {
		in.Platforms = ch.Platforms
	}
	// Checked at the changed first start when one is given, else at From
	// (the first start it applies to, and not in the past).
	first := ch.From.UTC()
	if retimed {
		first = d.FirstStart
	}
	in.StartTime = first.Format(time.RFC3339)
	sp, err := validate(in, now)
	if err != nil {
		return d, err
	}
	if ch.Platforms != nil {
		if err := s.checkConnected(ctx, tenant, sp); err != nil {
			return d, err
		}
	}
	d.Template, d.Duration = templateOf(sp), sp.duration
	return d, nil
}
