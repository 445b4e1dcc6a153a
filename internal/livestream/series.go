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
// not); ChangeSeries changes the series from a date on (serieschange.go);
// EndSeries cancels every future one at every platform.

// SeriesStatus is a series' state.
type SeriesStatus string

const (
	SeriesActive SeriesStatus = "active"
	SeriesEnded  SeriesStatus = "ended"
)

// Series is a recurring livestream.
type Series struct {
	Tenant, ID string
	// Definition is what occurrences starting at or after its From are
	// made from; Earlier, the definitions it replaced (oldest first), each
	// for the occurrences before the next one's From (ChangeSeries).
	Definition
	Earlier []Definition
	Skipped []time.Time // occurrence starts not to create (or cancelled)
	// Withdraw names occurrences (livestream ids) made from a definition
	// since replaced, still to cancel at every platform; the scheduler
	// retries what fails.
	Withdraw []string
	Status   SeriesStatus
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

// Definition is how a series' occurrences are made, from From on.
type Definition struct {
	From     time.Time // zero: from the first occurrence
	Revision int       // 0 for the first definition; each change adds one
	Rule     string    // the RRULE as given (FREQ=WEEKLY;BYDAY=SU, …)
	TimeZone string    // IANA
	// FirstStart is the definition's first start (DTSTART); Duration, each
	// occurrence's length (0: no scheduled end).
	FirstStart time.Time
	Duration   time.Duration
	Template   CreateInput // title, description and targets of each occurrence
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

// rule is the definition's rule, built from what was checked when it was
// made.
func (d *Definition) rule() (*rrule.RRule, error) {
	loc, err := time.LoadLocation(d.TimeZone)
	if err != nil {
		return nil, err
	}
	return parseRule(d.Rule, d.FirstStart, loc)
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
	loc, err := seriesZone(rec.TimeZone)
	if err != nil {
		return nil, err
	}
	if _, err := parseRule(rec.Rule, in.ScheduledStart, loc); err != nil {
		return nil, err
	}
	if err := s.checkSeriesTargets(ctx, tenant, in.Targets); err != nil {
		return nil, err
	}
	sr := &Series{
		Tenant: tenant, ID: newID(now), Status: SeriesActive, Definition: Definition{
			Rule: strings.TrimPrefix(strings.TrimSpace(rec.Rule), "RRULE:"), TimeZone: loc.String(),
			FirstStart: in.ScheduledStart.UTC(), Template: in,
		},
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

// seriesZone is the IANA zone a recurrence names.
func seriesZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(strings.TrimSpace(name))
	if err != nil || name == "" || strings.EqualFold(name, "local") {
		return nil, invalid(apperr.CodeInvalidRecurrence, "recurrence.timeZone must be an IANA time zone such as America/Chicago")
	}
	return loc, nil
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

// materialize cancels the occurrences the series withdraws, makes those
// that have come within the window by now (at most maxPerRun), then saves
// how far it got and when it is next due. An occurrence that exists
// already is left as it is. When another writer changed the series
// meanwhile (the save's conflict), what this run made and the series no
// longer wants is withdrawn, so none is left at the platforms.
func (s *Service) materialize(ctx context.Context, sr *Series, now time.Time) error {
	withdrawing := len(sr.Withdraw) > 0
	s.withdraw(ctx, sr)
	retry := time.Time{}
	if len(sr.Withdraw) > 0 {
		retry = now.Add(retryOccurrence)
	}
	if sr.Status != SeriesActive {
		if !withdrawing {
			return nil
		}
		sr.DueAt, sr.UpdatedAt = retry, now
		return s.cfg.Series.SaveSeries(ctx, sr)
	}
	ahead := sr.ahead()
	from := sr.Until
	if from.IsZero() {
		from = sr.definitions()[0].FirstStart.Add(-time.Second)
	}
	slots, err := sr.between(from, now.Add(ahead), false)
	if err != nil {
		return err
	}
	var made []slot
	handled, failed := from, false
	for _, o := range slots {
		if len(made) == maxPerRun {
			break
		}
		if o.Start.Before(now) || sr.skipped(o.Start) {
			handled = o.Start
			continue
		}
		in := o.Def.Template
		in.ScheduledStart = o.Start
		if o.Def.Duration > 0 {
			in.ScheduledEnd = o.Start.Add(o.Def.Duration)
		}
		_, err := s.create(ctx, sr.Tenant, sr.CreatedBy, in, o.ID, sr.ID)
		made = append(made, o) // a failure may have left it stored: reconcile looks at it too
		if err != nil && !IsConflict(err) {
			// A conflict: made by an earlier or concurrent run (exactly once).
			s.cfg.Logger.Warn("making an occurrence failed; it is tried again", slog.String("series", sr.ID),
				slog.Time("start", o.Start), slog.String("error", err.Error()))
			failed = true
			break
		}
		handled = o.Start
	}
	sr.Until, sr.UpdatedAt = handled, now
	sr.DueAt = retry
	switch next, ok, err := sr.after(handled); {
	case err != nil:
		return err
	case failed:
		sr.DueAt = now.Add(retryOccurrence)
	case ok:
		due := next.Start.Add(-ahead)
		if due.Before(now) {
			due = now.Add(time.Minute) // more than maxPerRun were due
		}
		if sr.DueAt.IsZero() || due.Before(sr.DueAt) {
			sr.DueAt = due
		}
	}
	err = s.cfg.Series.SaveSeries(ctx, sr)
	if IsConflict(err) && len(made) > 0 {
		s.reconcile(ctx, sr.Tenant, sr.ID, made, now)
	}
	return err
}

// withdraw cancels at every platform the occurrences the series withdraws
// and keeps those that failed, to try again.
func (s *Service) withdraw(ctx context.Context, sr *Series) {
	var left []string
	for _, id := range sr.Withdraw {
		if err := s.cancelOccurrence(ctx, sr.Tenant, id); err != nil {
			s.cfg.Logger.Warn("cancelling a withdrawn occurrence failed; it is tried again", slog.String("series", sr.ID),
				slog.String("livestream", id), slog.String("error", err.Error()))
			left = append(left, id)
		}
	}
	sr.Withdraw = left
}

// reconcile hands the occurrences a run made and the series, as another
// writer has just saved it (a change, a skip, the end), no longer wants to
// its Withdraw, for the scheduler to cancel. It saves even when they are
// listed already: a concurrent withdrawal may have found one not yet made
// and be about to save the list without it, and this write makes that
// save fail, so the id stays listed until it is cancelled.
func (s *Service) reconcile(ctx context.Context, tenant, id string, made []slot, now time.Time) {
	for range 5 {
		fresh, err := s.cfg.Series.GetSeries(ctx, tenant, id)
		if err != nil {
			s.cfg.Logger.Error("reading a series changed meanwhile failed", slog.String("series", id), slog.String("error", err.Error()))
			return
		}
		unwanted := false
		for _, o := range made {
			if fresh.wants(o) {
				continue
			}
			unwanted = true
			if !slices.Contains(fresh.Withdraw, o.ID) {
				fresh.Withdraw = append(fresh.Withdraw, o.ID)
			}
		}
		if !unwanted {
			return
		}
		fresh.DueAt, fresh.UpdatedAt = now, now
		if err := s.cfg.Series.SaveSeries(ctx, fresh); !IsConflict(err) {
			if err != nil {
				s.cfg.Logger.Error("withdrawing occurrences failed", slog.String("series", id), slog.String("error", err.Error()))
			}
			return
		}
	}
	s.cfg.Logger.Error("withdrawing occurrences lost every race: one may be left scheduled at its platforms until cancelled by hand", slog.String("series", id))
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
			switch {
			case apperr.Is(err, apperr.NotFound):
				rep.Unchanged++ // ended and removed since the index was read
				continue
			case err != nil:
				rep.Failed++
				s.cfg.Logger.Error("reading a due series failed", slog.String("series", ref.ID), slog.String("error", err.Error()))
				continue
			case sr.DueAt.IsZero() || sr.DueAt.After(now):
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
	var out []Occurrence
	if sr.Status != SeriesActive {
		return sr, out, nil
	}
	for after := s.now().Add(-time.Nanosecond); len(out) < n; {
		next, ok, err := sr.after(after)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		after = next.Start
		o := Occurrence{Start: next.Start, LivestreamID: next.ID, Skipped: sr.skipped(next.Start)}
		if next.Def.Duration > 0 {
			o.End = next.Start.Add(next.Def.Duration)
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
		o, ok, err := sr.at(start)
		if err != nil {
			return err
		}
		if !ok {
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
		return s.cancelOccurrence(ctx, tenant, o.ID)
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
		made, err := sr.between(now, sr.madeBy(now), true)
		if err != nil {
			return nil, err
		}
		sr.Status, sr.EndedAt, sr.UpdatedAt, sr.DueAt = SeriesEnded, now, now, time.Time{}
		if len(sr.Withdraw) > 0 {
			sr.DueAt = now // the scheduler still cancels those a change withdrew
		}
		if err := s.cfg.Series.SaveSeries(ctx, sr); IsConflict(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		// Every occurrence made so far that has not started: cancel it.
		var failed []string
		for _, o := range made {
			if err := s.cancelOccurrence(ctx, tenant, o.ID); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", o.Start.Format(time.RFC3339), err))
			}
		}
		if len(failed) > 0 {
			return nil, apperr.Errorf(apperr.Unavailable, apperr.CodeSeriesEnded, "the series has ended, but some occurrences could not be cancelled yet (%s); end it again to retry", strings.Join(failed, "; "))
		}
		return sr, nil
	}
	return nil, errClaimLost
}
