package livestream

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/sortid"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// A series is a recurring livestream: an RFC 5545 rule (a subset) in an
// IANA time zone, and the livestream to make at each occurrence. Its
// occurrences are ordinary livestreams (SeriesID names the series),
// created by the scheduler when they come within every target platform's
// scheduling window (OccurrenceAhead; Facebook's 7 days), each exactly
// once: an occurrence's id is derived from the series and its start, and
// created with a conditional put, so a repeated or concurrent run finds it
// there and does nothing. The rule is evaluated in the series' zone, so an
// occurrence keeps its wall-clock time across daylight-saving changes.
// One occurrence is changed as any livestream (PATCH) or skipped
// (SkipOccurrence: cancelled everywhere if it exists, never created if
// not); EndSeries cancels every future one at every platform.

// SeriesStatus is a series' state.
type SeriesStatus string

const (
	SeriesActive SeriesStatus = "active"
	SeriesEnded  SeriesStatus = "ended"
)

// Series is a recurring livestream.
type Series struct {
	Tenant, ID string
	Rule       string // the RRULE as given (FREQ=WEEKLY;BYDAY=SU, …)
	TimeZone   string // IANA
	// FirstStart is the first occurrence's start (DTSTART); Duration, each
	// occurrence's length (0: no scheduled end).
	FirstStart time.Time
	Duration   time.Duration
	Template   CreateInput // title, description and targets of each occurrence
	Skipped    []time.Time // occurrence starts not to create (or cancelled)
	Status     SeriesStatus
	// Until is when the occurrences stop being made: every occurrence
	// starting before it and within the window has been handled.
	Until     time.Time
	DueAt     time.Time // when the scheduler next makes occurrences (zero: never)
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
	EndedAt   time.Time
	Version   int64
}

// Recurrence is how a livestream repeats, as a caller gives it.
type Recurrence struct {
	Rule     string // RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL
	TimeZone string // IANA, e.g. America/Chicago
}

// SeriesRepo is the series storage the service needs.
type SeriesRepo interface {
	// CreateSeries stores a new series; an existing id is a conflict.
	CreateSeries(ctx context.Context, s *Series) error
	// GetSeries reads a series; another tenant's is NotFound.
	GetSeries(ctx context.Context, tenant, id string) (*Series, error)
	// SaveSeries writes the series when its stored version is still
	// s.Version, and bumps it; a conflict otherwise.
	SaveSeries(ctx context.Context, s *Series) error
	// DueSeries lists the series due by at, through the index of due work.
	DueSeries(ctx context.Context, at time.Time, cursor string, limit int) ([]DueRef, string, error)
}

// Occurrence is one occurrence of a series, as GET /series/{id} shows it.
type Occurrence struct {
	Start, End   time.Time
	LivestreamID string // the id it has (or will have) as a livestream
	Created      bool   // it exists as a livestream
	Skipped      bool
}

// Series limits.
const (
	// defaultAhead is how far ahead occurrences are made where no target
	// platform sets a bound.
	defaultAhead = 14 * 24 * time.Hour
	// aheadMargin keeps an occurrence's creation clear of a platform's
	// bound, whatever the clock's drift and the scheduler's minute.
	aheadMargin = time.Hour
	// maxPerRun bounds the occurrences one series makes in one run.
	maxPerRun = 16
	// retryOccurrence is the wait before trying again an occurrence whose
	// creation failed (a connection expired, say).
	retryOccurrence = 15 * time.Minute
)

var allowedRuleParts = []string{"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL"}

// parseRule checks a rule against the subset and builds it from first in
// loc (DTSTART is first's wall-clock time in loc).
func parseRule(rule string, first time.Time, loc *time.Location) (*rrule.RRule, error) {
	rule = strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:")
	if rule == "" {
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.rule is required, e.g. FREQ=WEEKLY;BYDAY=SU")
	}
	for _, part := range strings.Split(rule, ";") {
		name, _, _ := strings.Cut(part, "=")
		if !slices.Contains(allowedRuleParts, strings.ToUpper(name)) {
			return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.rule: %s is not supported; a rule uses FREQ (DAILY, WEEKLY or MONTHLY), INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL", trunc.String(name, 32))
		}
	}
	opt, err := rrule.StrToROptionInLocation(rule, loc)
	if err != nil {
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.rule is not an RFC 5545 rule: %s", trunc.String(err.Error(), 200))
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY:
	default:
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.rule: FREQ must be DAILY, WEEKLY or MONTHLY")
	}
	opt.Dtstart = first.In(loc)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.rule: %s", trunc.String(err.Error(), 200))
	}
	return r, nil
}

// rule is the series' rule, built from what was checked at its creation.
func (sr *Series) rule() (*rrule.RRule, error) {
	loc, err := time.LoadLocation(sr.TimeZone)
	if err != nil {
		return nil, err
	}
	return parseRule(sr.Rule, sr.FirstStart, loc)
}

// OccurrenceID is the id of the series' occurrence starting at start.
func OccurrenceID(seriesID string, start time.Time) string {
	return sortid.ULIDFor(start, seriesID+"/"+start.UTC().Format(time.RFC3339))
}

// OccurrenceAhead is how far ahead of its start an occurrence with these
// targets is created: the tightest target platform's scheduling bound
// (Registration.ScheduleAhead) less a margin, or defaultAhead.
func OccurrenceAhead(targets []TargetInput) time.Duration {
	ahead := defaultAhead
	for _, t := range targets {
		if r, ok := registry.Registration(t.Platform); ok && r.ScheduleAhead > 0 {
			ahead = min(ahead, r.ScheduleAhead-aheadMargin)
		}
	}
	return ahead
}

// CreateSeries checks a recurring livestream as Create checks a livestream
// (its first start is in.ScheduledStart, each occurrence as long as
// in.ScheduledEnd makes the first), stores the series and makes the
// occurrences already within the window.
func (s *Service) CreateSeries(ctx context.Context, tenant, user string, in CreateInput, rec Recurrence) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.CreateSeries", err) }()
	if s.cfg.Series == nil {
		return nil, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "recurring livestreams are not configured here")
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
	targets, userKeys, err := s.checkTargets(in.Targets)
	if err != nil {
		return nil, err
	}
	if len(userKeys) > 0 {
		// A pasted key (Instagram's Live Producer) is for one broadcast.
		return nil, unprocessable(apperr.CodeInvalidRecurrence, "a recurring livestream cannot have a target whose ingest you paste (Instagram): its key is for one broadcast; schedule those one at a time")
	}
	loc, err := time.LoadLocation(strings.TrimSpace(rec.TimeZone))
	if err != nil || rec.TimeZone == "" || strings.EqualFold(rec.TimeZone, "local") {
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.timeZone must be an IANA time zone such as America/Chicago")
	}
	if _, err := parseRule(rec.Rule, in.ScheduledStart, loc); err != nil {
		return nil, err
	}
	creds, err := s.credentials(ctx, tenant, targets)
	if err != nil {
		return nil, err
	}
	if err := s.checkManaged(ctx, targets, creds); err != nil {
		return nil, err
	}
	sr := &Series{
		Tenant: tenant, ID: newID(now), Rule: strings.TrimPrefix(strings.TrimSpace(rec.Rule), "RRULE:"), TimeZone: loc.String(),
		FirstStart: in.ScheduledStart.UTC(), Template: in, Status: SeriesActive,
		CreatedAt: now, UpdatedAt: now, CreatedBy: user, DueAt: now,
	}
	if !in.ScheduledEnd.IsZero() {
		sr.Duration = in.ScheduledEnd.Sub(in.ScheduledStart)
	}
	sr.Template.ScheduledStart, sr.Template.ScheduledEnd = time.Time{}, time.Time{}
	if err := s.cfg.Series.CreateSeries(ctx, sr); err != nil {
		return nil, err
	}
	if err := s.materialize(ctx, sr, now); err != nil && !IsConflict(err) {
		s.cfg.Logger.Warn("making a new series' first occurrences failed; the scheduler makes them", slog.String("series", sr.ID),
			slog.String("error", err.Error()))
	}
	return sr, nil
}

// materialize makes the series' occurrences that have come within the
// window by now (at most maxPerRun), then saves how far it got and when
// it is next due. An occurrence that exists already is left as it is.
func (s *Service) materialize(ctx context.Context, sr *Series, now time.Time) error {
	r, err := sr.rule()
	if err != nil {
		return err
	}
	if sr.Status != SeriesActive {
		return nil
	}
	ahead := OccurrenceAhead(sr.Template.Targets)
	windowEnd := now.Add(ahead)
	from := sr.Until
	if from.IsZero() {
		from = sr.FirstStart.Add(-time.Second)
	}
	made := 0
	handled := from
	retry := time.Time{}
	for _, start := range r.Between(from, windowEnd, false) {
		if made == maxPerRun {
			break
		}
		start = start.UTC()
		if start.Before(now) || sr.skipped(start) {
			handled = start
			continue
		}
		in := sr.Template
		in.ScheduledStart = start
		if sr.Duration > 0 {
			in.ScheduledEnd = start.Add(sr.Duration)
		}
		_, err := s.create(ctx, sr.Tenant, sr.CreatedBy, in, OccurrenceID(sr.ID, start), sr.ID)
		switch {
		case err == nil, IsConflict(err):
			// made now, or by an earlier or concurrent run: exactly once.
		default:
			s.cfg.Logger.Warn("making an occurrence failed; it is tried again", slog.String("series", sr.ID),
				slog.Time("start", start), slog.String("error", err.Error()))
			retry = now.Add(retryOccurrence)
		}
		if !retry.IsZero() {
			break
		}
		made++
		handled = start
	}
	sr.Until, sr.UpdatedAt = handled, now
	sr.DueAt = retry
	if retry.IsZero() {
		if next := r.After(handled, false); !next.IsZero() {
			sr.DueAt = next.UTC().Add(-ahead)
			if sr.DueAt.Before(now) {
				sr.DueAt = now.Add(time.Minute) // more than maxPerRun were due
			}
		}
	}
	return s.cfg.Series.SaveSeries(ctx, sr)
}

func (sr *Series) skipped(start time.Time) bool {
	return slices.ContainsFunc(sr.Skipped, start.Equal)
}

// RunDueSeries makes the occurrences of every series that is due by now.
func (s *Service) RunDueSeries(ctx context.Context, now time.Time) (run.Report, error) {
	var rep run.Report
	if s.cfg.Series == nil {
		return rep, nil
	}
	cursor := ""
	for {
		refs, next, err := s.cfg.Series.DueSeries(ctx, now, cursor, duePageSize)
		if err != nil {
			return rep, err
		}
		rep.Found += len(refs)
		for _, ref := range refs {
			sr, err := s.cfg.Series.GetSeries(ctx, ref.Tenant, ref.ID)
			if err != nil || sr.DueAt.IsZero() || sr.DueAt.After(now) {
				rep.Unchanged++
				continue
			}
			switch err := s.materialize(ctx, sr, now); {
			case IsConflict(err):
				rep.Unchanged++
			case err != nil:
				rep.Failed++
				s.cfg.Logger.Error("making a series' occurrences failed", slog.String("series", sr.ID), slog.String("error", err.Error()))
			default:
				rep.Done++
			}
		}
		if next == "" || shortOfTime(ctx, now, now) {
			return rep, nil
		}
		cursor = next
	}
}

// GetSeries reads a series and its next occurrences (at most n) from now.
func (s *Service) GetSeries(ctx context.Context, tenant, id string, n int) (_ *Series, _ []Occurrence, err error) {
	defer func() { err = apperr.WithOp("livestream.GetSeries", err) }()
	sr, err := s.series(ctx, tenant, id)
	if err != nil {
		return nil, nil, err
	}
	r, err := sr.rule()
	if err != nil {
		return nil, nil, err
	}
	var out []Occurrence
	if sr.Status != SeriesActive {
		return sr, out, nil
	}
	it := r.Iterator()
	for start, ok := it(); ok && len(out) < n; start, ok = it() {
		start = start.UTC()
		if start.Before(s.now()) {
			continue
		}
		o := Occurrence{Start: start, LivestreamID: OccurrenceID(sr.ID, start), Skipped: sr.skipped(start)}
		if sr.Duration > 0 {
			o.End = start.Add(sr.Duration)
		}
		if !o.Skipped {
			if _, err := s.cfg.Repo.Get(ctx, tenant, o.LivestreamID); err == nil {
				o.Created = true
			}
		}
		out = append(out, o)
	}
	return sr, out, nil
}

func (s *Service) series(ctx context.Context, tenant, id string) (*Series, error) {
	if s.cfg.Series == nil || !validID(id) {
		return nil, seriesNotFound(id)
	}
	sr, err := s.cfg.Series.GetSeries(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, seriesNotFound(id)
	}
	return sr, err
}

func seriesNotFound(id string) error {
	return apperr.Errorf(apperr.NotFound, apperr.CodeSeriesNotFound, "there is no series %q", trunc.String(id, 64))
}

// SkipOccurrence skips the series' occurrence starting at start: it is
// never created, and if it was, it is cancelled at every platform. The
// others are left as they are.
func (s *Service) SkipOccurrence(ctx context.Context, tenant, id string, start time.Time) (err error) {
	defer func() { err = apperr.WithOp("livestream.SkipOccurrence", err) }()
	start = start.UTC()
	for range 3 {
		sr, err := s.series(ctx, tenant, id)
		if err != nil {
			return err
		}
		r, err := sr.rule()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(r.Between(start.Add(-time.Second), start.Add(time.Second), true), start.Equal) {
			return apperr.Errorf(apperr.NotFound, apperr.CodeOccurrenceNotFound, "the series has no occurrence starting at %s", start.Format(time.RFC3339))
		}
		if !sr.skipped(start) {
			sr.Skipped = append(sr.Skipped, start)
			sr.UpdatedAt = s.now()
			if err := s.cfg.Series.SaveSeries(ctx, sr); IsConflict(err) {
				continue
			} else if err != nil {
				return err
			}
		}
		return s.cancelOccurrence(ctx, tenant, OccurrenceID(sr.ID, start))
	}
	return errClaimLost
}

// cancelOccurrence cancels an occurrence's livestream if it exists and is
// not over.
func (s *Service) cancelOccurrence(ctx context.Context, tenant, lsID string) error {
	err := s.Cancel(ctx, tenant, lsID)
	if e, ok := apperr.As(err); ok && (e.Kind == apperr.NotFound || e.Code == apperr.CodeLivestreamOver) {
		return nil
	}
	return err
}

// EndSeries ends a series: no more occurrences are made, and every one
// that has not started yet is cancelled at every platform.
func (s *Service) EndSeries(ctx context.Context, tenant, id string) (_ *Series, err error) {
	defer func() { err = apperr.WithOp("livestream.EndSeries", err) }()
	for range 3 {
		sr, err := s.series(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if sr.Status == SeriesEnded {
			return nil, apperr.Errorf(apperr.Conflict, apperr.CodeSeriesEnded, "the series has ended already")
		}
		now := s.now()
		r, err := sr.rule()
		if err != nil {
			return nil, err
		}
		sr.Status, sr.EndedAt, sr.UpdatedAt, sr.DueAt = SeriesEnded, now, now, time.Time{}
		if err := s.cfg.Series.SaveSeries(ctx, sr); IsConflict(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		// Every occurrence made so far that has not started: cancel it.
		var failed []string
		for _, start := range r.Between(now, sr.Until.Add(time.Second), true) {
			if err := s.cancelOccurrence(ctx, tenant, OccurrenceID(sr.ID, start.UTC())); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", start.UTC().Format(time.RFC3339), err))
			}
		}
		if len(failed) > 0 {
			return nil, apperr.Errorf(apperr.Unavailable, apperr.CodeSeriesEnded, "the series has ended, but some occurrences could not be cancelled yet (%s); end it again to retry", strings.Join(failed, "; "))
		}
		return sr, nil
	}
	return nil, errClaimLost
}
