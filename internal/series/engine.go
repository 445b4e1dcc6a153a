package series

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Ref names a series the scheduler should look at.
type Ref struct {
	Tenant, ID string
}

// Repo is the series storage an engine needs.
type Repo[T any] interface {
	// CreateSeries stores a new series; an existing id is a conflict.
	CreateSeries(ctx context.Context, s *Series[T]) error
	// GetSeries reads a series; another tenant's is NotFound.
	GetSeries(ctx context.Context, tenant, id string) (*Series[T], error)
	// SaveSeries writes the series when its stored version is still
	// s.Version, and bumps it; a conflict otherwise.
	SaveSeries(ctx context.Context, s *Series[T]) error
	// DueSeries lists the series due by at, through the index of due work.
	DueSeries(ctx context.Context, at time.Time, cursor string, limit int) ([]Ref, string, error)
}

// Occurrences is what a capability does with one occurrence.
type Occurrences[T any] interface {
	// Make creates the occurrence id of sr, from d, starting at start:
	// stored with a conditional put (an error IsConflict recognises when it
	// exists already), then made at every platform.
	Make(ctx context.Context, sr *Series[T], d *Definition[T], start time.Time, id string) error
	// Cancel cancels the occurrence id at every platform; one that does
	// not exist or is over is nothing to do (nil).
	Cancel(ctx context.Context, tenant, id string) error
	// Find reads the occurrence id: whether it has been made and, if so,
	// when it starts and ends now (one moved on its own keeps its times).
	Find(ctx context.Context, tenant, id string) (Made, bool, error)
	// Ahead is how far ahead of its start an occurrence of t is made.
	Ahead(t T) time.Duration
}

// IDFunc is the id of the occurrence starting at start of the series (or
// of one of its revisions) key.
type IDFunc func(key string, start time.Time) string

// Engine makes, skips, changes and ends the series of one capability.
type Engine[T any] struct {
	Repo        Repo[T]
	Occurrences Occurrences[T]
	Logger      *slog.Logger
	Now         func() time.Time
	// NewID is a new series' id; ValidID says whether a path's id could
	// name one; OccurrenceID names an occurrence.
	NewID        func(now time.Time) string
	ValidID      func(id string) bool
	OccurrenceID IDFunc
	// Busy is answered when every try lost a race with another writer.
	Busy error
}

// Engine limits.
const (
	// maxPerRun bounds the occurrences one series makes in one run.
	maxPerRun = 16
	// maxInRequest bounds those a create or change makes before it
	// answers (each is several platform calls, and an HTTP request has
	// 29 s); the scheduler's next run makes the others.
	maxInRequest = 2
	// retryOccurrence is the wait before trying again an occurrence whose
	// creation failed (a connection expired, say).
	retryOccurrence = 15 * time.Minute
	// duePageSize is how many due series one read lists.
	duePageSize = 50
	// runReserve is the time a run keeps for itself: it takes no new page
	// when its deadline is closer.
	runReserve = 10 * time.Second
)

func (e *Engine[T]) now() time.Time { return e.Now().UTC() }

// ahead is how far ahead of its start an occurrence of the series is made:
// the tightest bound of any definition's template.
func (e *Engine[T]) ahead(sr *Series[T]) time.Duration {
	ahead := DefaultAhead
	for _, d := range sr.definitions() {
		ahead = min(ahead, e.Occurrences.Ahead(d.Template))
	}
	return ahead
}

// madeBy is the latest start an occurrence made by now can have.
func (e *Engine[T]) madeBy(sr *Series[T], now time.Time) time.Time {
	return maxTime(sr.Until, now.Add(e.ahead(sr)))
}

// wants: the series, as it is, has the occurrence o: it is active, o is
// not skipped and is made from the definition in force at its start.
func (e *Engine[T]) wants(sr *Series[T], o slot[T]) bool {
	if sr.Status != Active || sr.skipped(o.Start) {
		return false
	}
	cur, ok, err := sr.at(o.Start, e.OccurrenceID)
	return err == nil && ok && cur.ID == o.ID
}

// Create stores a new series of the tenant's user from d (checked by the
// capability) and makes the occurrences already within the window.
func (e *Engine[T]) Create(ctx context.Context, tenant, user string, d Definition[T]) (*Series[T], error) {
	now := e.now()
	sr := &Series[T]{Tenant: tenant, ID: e.NewID(now), Status: Active, Definition: d,
		CreatedAt: now, UpdatedAt: now, CreatedBy: user, DueAt: now}
	if err := e.Repo.CreateSeries(ctx, sr); err != nil {
		return nil, err
	}
	if err := e.materialize(ctx, sr, now, maxInRequest); err != nil && !IsConflict(err) {
		e.Logger.Warn("making a new series' first occurrences failed; the scheduler makes them", slog.String("series", sr.ID),
			slog.String("error", err.Error()))
	}
	return sr, nil
}

// materialize cancels the occurrences the series withdraws, makes those
// that have come within the window by now (at most limit), then saves
// how far it got and when it is next due. An occurrence that exists
// already is left as it is. When another writer changed the series
// meanwhile (the save's conflict), what this run made and the series no
// longer wants is withdrawn, so none is left at the platforms.
func (e *Engine[T]) materialize(ctx context.Context, sr *Series[T], now time.Time, limit int) error {
	withdrawing := len(sr.Withdraw) > 0
	e.withdraw(ctx, sr)
	retry := time.Time{}
	if len(sr.Withdraw) > 0 {
		retry = now.Add(retryOccurrence)
	}
	if sr.Status != Active {
		if !withdrawing {
			return nil
		}
		sr.DueAt, sr.UpdatedAt = retry, now
		return e.Repo.SaveSeries(ctx, sr)
	}
	ahead := e.ahead(sr)
	from := sr.Until
	if from.IsZero() {
		from = sr.definitions()[0].FirstStart.Add(-time.Second)
	}
	slots, err := sr.between(from, now.Add(ahead), false, e.OccurrenceID)
	if err != nil {
		return err
	}
	var made []slot[T]
	handled, failed := from, false
	for _, o := range slots {
		if len(made) == limit {
			break
		}
		if o.Start.Before(now) || sr.skipped(o.Start) {
			handled = o.Start
			continue
		}
		err := e.Occurrences.Make(ctx, sr, o.Def, o.Start, o.ID)
		made = append(made, o) // a failure may have left it stored: reconcile looks at it too
		if err != nil && !IsConflict(err) {
			// A conflict: made by an earlier or concurrent run (exactly once).
			e.Logger.Warn("making an occurrence failed; it is tried again", slog.String("series", sr.ID),
				slog.Time("start", o.Start), slog.String("error", err.Error()))
			sr.Failure = failureOf(o.Start, err, now)
			failed = true
			break
		}
		handled = o.Start
	}
	if !failed {
		sr.Failure = nil
	}
	sr.Until, sr.UpdatedAt = handled, now
	sr.DueAt = retry
	switch next, ok, err := sr.after(handled, e.OccurrenceID); {
	case err != nil:
		return err
	case failed:
		sr.DueAt = now.Add(retryOccurrence)
	case ok:
		due := next.Start.Add(-ahead)
		if due.Before(now) {
			// More than limit were due: the next minute's run (a tick at
			// the minute, so the time is the minute's) makes the others.
			due = now.Truncate(time.Minute).Add(time.Minute)
		}
		if sr.DueAt.IsZero() || due.Before(sr.DueAt) {
			sr.DueAt = due
		}
	}
	err = e.Repo.SaveSeries(ctx, sr)
	if IsConflict(err) && len(made) > 0 {
		e.reconcile(ctx, sr.Tenant, sr.ID, made, now)
	}
	return err
}

// failureOf is the failure err made of the occurrence at start: the
// refusal's code and words, as a create would have answered them, or
// plain words for a failure on Switchboard's side (its error is logged).
func failureOf(start time.Time, err error, now time.Time) *Failure {
	f := &Failure{Start: start, At: now, Code: string(apperr.CodeInternalError),
		Message: "the occurrence could not be made on Switchboard's side; it is tried again"}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Internal && e.Detail != "" {
		f.Code, f.Message = string(e.Code), trunc.String(e.Detail, 500)
	}
	return f
}

// withdraw cancels at every platform the occurrences the series withdraws
// and keeps those that failed, to try again.
func (e *Engine[T]) withdraw(ctx context.Context, sr *Series[T]) {
	var left []string
	for _, id := range sr.Withdraw {
		if err := e.Occurrences.Cancel(ctx, sr.Tenant, id); err != nil {
			e.Logger.Warn("cancelling a withdrawn occurrence failed; it is tried again", slog.String("series", sr.ID),
				slog.String("occurrence", id), slog.String("error", err.Error()))
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
func (e *Engine[T]) reconcile(ctx context.Context, tenant, id string, made []slot[T], now time.Time) {
	for range 5 {
		fresh, err := e.Repo.GetSeries(ctx, tenant, id)
		if err != nil {
			e.Logger.Error("reading a series changed meanwhile failed", slog.String("series", id), slog.String("error", err.Error()))
			return
		}
		unwanted := false
		for _, o := range made {
			if e.wants(fresh, o) {
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
		if err := e.Repo.SaveSeries(ctx, fresh); !IsConflict(err) {
			if err != nil {
				e.Logger.Error("withdrawing occurrences failed", slog.String("series", id), slog.String("error", err.Error()))
			}
			return
		}
	}
	e.Logger.Error("withdrawing occurrences lost every race: one may be left scheduled at its platforms until cancelled by hand", slog.String("series", id))
}

// RunDue makes the occurrences of every series that is due by now.
func (e *Engine[T]) RunDue(ctx context.Context, now time.Time) (run.Report, error) {
	var rep run.Report
	cursor := ""
	for {
		refs, next, err := e.Repo.DueSeries(ctx, now, cursor, duePageSize)
		if err != nil {
			return rep, err
		}
		rep.Found += len(refs)
		for _, ref := range refs {
			sr, err := e.Repo.GetSeries(ctx, ref.Tenant, ref.ID)
			switch {
			case apperr.Is(err, apperr.NotFound):
				rep.Unchanged++ // removed since the index was read
				continue
			case err != nil:
				rep.Failed++
				e.Logger.Error("reading a due series failed", slog.String("series", ref.ID), slog.String("error", err.Error()))
				continue
			case sr.DueAt.IsZero() || sr.DueAt.After(now):
				rep.Unchanged++
				continue
			}
			switch err := e.materialize(ctx, sr, now, maxPerRun); {
			case IsConflict(err):
				rep.Unchanged++
			case err != nil:
				rep.Failed++
				e.Logger.Error("making a series' occurrences failed", slog.String("series", sr.ID), slog.String("error", err.Error()))
			default:
				rep.Done++
			}
		}
		if next == "" || shortOfTime(ctx) {
			return rep, nil
		}
		cursor = next
	}
}

// shortOfTime: the run's context has ended or ends within runReserve.
func shortOfTime(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < runReserve
}

// Get reads a series and its next occurrences (at most n) from now.
func (e *Engine[T]) Get(ctx context.Context, tenant, id string, n int) (*Series[T], []Occurrence, error) {
	sr, err := e.series(ctx, tenant, id)
	if err != nil {
		return nil, nil, err
	}
	out, err := e.Next(ctx, sr, n)
	if err != nil {
		return nil, nil, err
	}
	return sr, out, nil
}

// Next is sr's next occurrences (at most n) from now, each read to say
// whether it is made and when: for a series in hand (one just created or
// changed), without reading it again.
func (e *Engine[T]) Next(ctx context.Context, sr *Series[T], n int) ([]Occurrence, error) {
	out := []Occurrence{}
	if sr.Status != Active {
		return out, nil
	}
	for after := e.now().Add(-time.Nanosecond); len(out) < n; {
		next, ok, err := sr.after(after, e.OccurrenceID)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		after = next.Start
		o := Occurrence{Start: next.Start, ID: next.ID, Skipped: sr.skipped(next.Start)}
		if next.Def.Duration > 0 {
			o.End = next.Start.Add(next.Def.Duration)
		}
		if !o.Skipped {
			if o.Made, o.Created, err = e.Occurrences.Find(ctx, sr.Tenant, o.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func (e *Engine[T]) series(ctx context.Context, tenant, id string) (*Series[T], error) {
	if !e.ValidID(id) {
		return nil, NotFound(id)
	}
	sr, err := e.Repo.GetSeries(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, NotFound(id)
	}
	return sr, err
}

// NotFound is the answer for a series id that names none of the tenant's.
func NotFound(id string) error {
	return apperr.Errorf(apperr.NotFound, apperr.CodeSeriesNotFound, "there is no series %q", trunc.String(id, 64))
}

// Skip skips the series' occurrence starting at start: it is never made,
// and if it was, it is cancelled at every platform. The others are left
// as they are.
func (e *Engine[T]) Skip(ctx context.Context, tenant, id string, start time.Time) error {
	start = start.UTC()
	for range 3 {
		sr, err := e.series(ctx, tenant, id)
		if err != nil {
			return err
		}
		o, ok, err := sr.at(start, e.OccurrenceID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Errorf(apperr.NotFound, apperr.CodeOccurrenceNotFound, "the series has no occurrence starting at %s", start.Format(time.RFC3339))
		}
		if !sr.skipped(start) {
			sr.Skipped = append(sr.Skipped, start)
			sr.UpdatedAt = e.now()
			if err := e.Repo.SaveSeries(ctx, sr); IsConflict(err) {
				continue
			} else if err != nil {
				return err
			}
		}
		return e.Occurrences.Cancel(ctx, tenant, o.ID)
	}
	return e.Busy
}

// End ends a series: no more occurrences are made, and every one that has
// not started yet is cancelled at every platform.
func (e *Engine[T]) End(ctx context.Context, tenant, id string) (*Series[T], error) {
	for range 3 {
		sr, err := e.series(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if sr.Status == Ended {
			return nil, apperr.Errorf(apperr.Conflict, apperr.CodeSeriesEnded, "the series has ended already")
		}
		now := e.now()
		made, err := sr.between(now, e.madeBy(sr, now), true, e.OccurrenceID)
		if err != nil {
			return nil, err
		}
		sr.Status, sr.EndedAt, sr.UpdatedAt, sr.DueAt = Ended, now, now, time.Time{}
		if len(sr.Withdraw) > 0 {
			sr.DueAt = now // the scheduler still cancels those a change withdrew
		}
		if err := e.Repo.SaveSeries(ctx, sr); IsConflict(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		// Every occurrence made so far that has not started: cancel it.
		var failed []string
		for _, o := range made {
			if err := e.Occurrences.Cancel(ctx, tenant, o.ID); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", o.Start.Format(time.RFC3339), err))
			}
		}
		if len(failed) > 0 {
			return nil, apperr.Errorf(apperr.Unavailable, apperr.CodeSeriesEnded, "the series has ended, but some occurrences could not be cancelled yet (%s); end it again to retry", strings.Join(failed, "; "))
		}
		return sr, nil
	}
	return nil, e.Busy
}

// InPlace is implemented by Occurrences whose made occurrences can take a
// change that leaves every made start where it was at the platforms, where
// they are: a new title, description or length. The occurrences then keep their ids, their platforms' records
// and, with them, their stream keys and join links.
type InPlace[T any] interface {
	// CanApply reports whether the change from cur's template to next's
	// can be applied in place (the same targets, say).
	CanApply(cur, next T) bool
	// Apply changes the occurrence id to d: its template and length. One
	// never made, over or gone is nothing to do.
	Apply(ctx context.Context, tenant, id string, d *Definition[T]) error
}

// sameMade: with next in force from next.From under the series' current
// revision, the occurrences already made from then on (made) are exactly
// those next has there, under the same ids. Later ones are made from next
// when their time comes.
func (e *Engine[T]) sameMade(sr *Series[T], next Definition[T], made []slot[T], now time.Time) bool {
	trial := *sr
	trial.Earlier, trial.Definition = sr.before(next.From), next
	trial.Definition.Revision = sr.Revision
	got, err := trial.between(next.From, e.madeBy(sr, now), true, e.OccurrenceID)
	return err == nil && slices.EqualFunc(got, made, func(a, b slot[T]) bool { return a.ID == b.ID && a.Start.Equal(b.Start) })
}

// Redefine builds the definition a change makes of the series' current
// one, from from on, checking what the change gives; the capability
// supplies it to Change.
type Redefine[T any] func(ctx context.Context, cur Definition[T], now time.Time) (Definition[T], error)

// Change changes a series from from on, as redefine says. Every input is
// checked before anything is written; then the series is saved
// (conditionally on its version, so concurrent changes and scheduler runs
// each see the other's), the occurrences made from the old definition
// from from on are withdrawn (cancelled at every platform, the scheduler
// retrying any that fails) and those within the window are made from the
// new one.
func (e *Engine[T]) Change(ctx context.Context, tenant, id string, from time.Time, redefine Redefine[T]) (*Series[T], error) {
	from = from.UTC()
	for range 3 {
		now := e.now()
		// Another tenant's series is not found whatever the change.
		sr, err := e.series(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if from.IsZero() {
			return nil, invalid("from is required: the first occurrence start (RFC 3339) the change applies to")
		}
		if sr.Status != Active {
			return nil, apperr.Errorf(apperr.Conflict, apperr.CodeSeriesEnded, "the series has ended: it cannot be changed")
		}
		if from.Before(now) {
			return nil, apperr.Errorf(apperr.Unprocessable, apperr.CodeInvalidRecurrence, "from %s is in the past: a change applies to occurrences still to come", from.Format(time.RFC3339))
		}
		next, err := redefine(ctx, sr.Definition, now)
		if err != nil {
			return nil, err
		}
		next.From = from
		// Every one made so far from from on, up to the window's end, as a
		// run that lost a race to another writer may have made some past
		// Until.
		made, err := sr.between(from, e.madeBy(sr, now), true, e.OccurrenceID)
		if err != nil {
			return nil, err
		}
		if ip, ok := e.Occurrences.(InPlace[T]); ok && !from.Before(sr.From) && ip.CanApply(sr.Template, next.Template) && e.sameMade(sr, next, made, now) {
			out, err := e.changeInPlace(ctx, sr, next, made, ip, now)
			if IsConflict(err) {
				continue // changed meanwhile: look again
			}
			return out, err
		}
		// Those are withdrawn (cancelling one never made is nothing).
		for _, o := range made {
			if !slices.Contains(sr.Withdraw, o.ID) {
				sr.Withdraw = append(sr.Withdraw, o.ID)
			}
		}
		if !sr.Until.Before(from) {
			sr.Until = from.Add(-time.Nanosecond)
		}
		// A definition in force only from from on is replaced whole.
		kept := sr.before(from)
		next.Revision = sr.Revision + 1
		sr.Earlier, sr.Definition = kept, next
		sr.DueAt, sr.UpdatedAt = now, now
		if err := e.Repo.SaveSeries(ctx, sr); IsConflict(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		if err := e.materialize(ctx, sr, now, maxInRequest); err != nil && !IsConflict(err) {
			e.Logger.Warn("remaking a changed series' occurrences failed; the scheduler does", slog.String("series", sr.ID),
				slog.String("error", err.Error()))
		}
		return sr, nil
	}
	return nil, e.Busy
}

// applyConcurrency bounds the occurrences an in-place change applies at
// once: a daily series has 14 in its window, each several platform calls,
// and the request has 29 s.
const applyConcurrency = 4

// changeInPlace saves next as the series' definition from next.From on
// under the current revision, so the occurrences keep their ids, and
// applies it to those made from then on where they are, applyConcurrency
// at a time. One that cannot take it (a run holds it at its start, a
// platform refused, the request ran short of time) is logged and keeps
// its old details; the series' definition is changed all the same.
func (e *Engine[T]) changeInPlace(ctx context.Context, sr *Series[T], next Definition[T], made []slot[T], ip InPlace[T], now time.Time) (*Series[T], error) {
	kept := sr.before(next.From)
	next.Revision = sr.Revision
	sr.Earlier, sr.Definition = kept, next
	sr.UpdatedAt = now
	if err := e.Repo.SaveSeries(ctx, sr); err != nil {
		return nil, err
	}
	slots := make(chan struct{}, applyConcurrency)
	var wg sync.WaitGroup
	for _, o := range made {
		if sr.skipped(o.Start) {
			continue
		}
		slots <- struct{}{}
		if shortOfTime(ctx) {
			e.Logger.Warn("an occurrence was left with the series' old details: the request ran short of time",
				slog.String("series", sr.ID), slog.String("occurrence", o.ID))
			<-slots
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := ip.Apply(ctx, sr.Tenant, o.ID, &next); err != nil {
				e.Logger.Warn("an occurrence did not take the series' change", slog.String("series", sr.ID),
					slog.String("occurrence", o.ID), slog.String("error", err.Error()))
			}
		})
	}
	wg.Wait()
	return sr, nil
}

// CancelResult is a capability's cancel of an occurrence as the engine
// wants it: nil also when there was nothing to cancel (the occurrence was
// never made, or is over: the capability's over code).
func CancelResult(err error, over apperr.Code) error {
	if e, ok := apperr.As(err); ok && (e.Kind == apperr.NotFound || e.Code == over) {
		return nil
	}
	return err
}

// Found is a capability's read of an occurrence, with the times it read,
// as Find answers it.
func Found(m Made, err error) (Made, bool, error) {
	if apperr.Is(err, apperr.NotFound) {
		return Made{}, false, nil
	}
	return m, err == nil, err
}
