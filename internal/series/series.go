// Package series is what recurring livestreams and recurring meetings
// share: an RFC 5545 rule (a subset) in an IANA time zone, and a template
// of what to make at each occurrence. A capability (livestream, meeting)
// gives an Engine its Occurrences: how one occurrence is made, cancelled
// and found. The engine makes the occurrences when they come within the
// window the template's platforms allow (Ahead: Facebook's 7 days),
// each exactly once: an occurrence's id is derived from the series and its
// start, and the capability creates it with a conditional put, so a
// repeated or concurrent run finds it there and does nothing. The rule is
// evaluated in the series' zone, so an occurrence keeps its wall-clock
// time across daylight-saving changes.
//
// One occurrence is changed as any livestream or meeting, or skipped
// (Skip: cancelled everywhere if it exists, never made if not); Change
// changes the series from a date on; End cancels every future occurrence
// at every platform.
//
// A change from a date on: the occurrences starting at or after it follow
// a new Definition, the earlier ones the definition they were made from.
// Each definition has a revision, and an occurrence's id carries it
// (revision 0 keeps the first ids), so an occurrence remade from a change
// is a new record, made exactly once by the same conditional put, and the
// one it replaces keeps its id. One already made from the old definition
// is cancelled at every platform and made again from the new one, except
// when the change keeps every made start and the capability can apply it
// where they are (InPlace: a new title, description or length, the same
// targets): then the definition keeps the revision, the occurrences their
// ids and their records at the platforms, and each is told the change.
// A new time, rule or set of targets is remade: a platform's record cannot
// move to another occurrence's id, and a new target has no record yet.
package series

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Status is a series' state.
type Status string

const (
	Active Status = "active"
	Ended  Status = "ended"
)

// Series is a recurring livestream or meeting; T is the capability's
// template of one occurrence.
type Series[T any] struct {
	Tenant, ID string
	// Definition is what occurrences starting at or after its From are
	// made from; Earlier, the definitions it replaced (oldest first), each
	// for the occurrences before the next one's From (Change).
	Definition[T]
	Earlier []Definition[T]
	Skipped []time.Time // occurrence starts not to make (or cancelled)
	// Withdraw names occurrences made from a definition since replaced,
	// still to cancel at every platform; the scheduler retries what fails.
	Withdraw []string
	Status   Status
	// Until is when the occurrences stop being made: every occurrence
	// starting before it and within the window has been handled.
	Until     time.Time
	DueAt     time.Time // when the scheduler next makes occurrences (zero: never)
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
	EndedAt   time.Time
	// Failure is why the next occurrence could not be made (the scheduler
	// tries it again); nil once it is made.
	Failure *Failure
	Version int64
}

// Failure is an occurrence that could not be made: its start, and the
// reason in the words the caller of a create would have been given.
type Failure struct {
	Start         time.Time
	Code, Message string
	At            time.Time
}

// Definition is how a series' occurrences are made, from From on.
type Definition[T any] struct {
	From     time.Time // zero: from the first occurrence
	Revision int       // 0 for the first definition; each change adds one
	Rule     string    // the RRULE as given (FREQ=WEEKLY;BYDAY=SU, …)
	TimeZone string    // IANA
	// FirstStart is the definition's first start (DTSTART); Duration, each
	// occurrence's length (0: no end).
	FirstStart time.Time
	Duration   time.Duration
	Template   T
}

// Recurrence is how a livestream or meeting repeats, as a caller gives it.
type Recurrence struct {
	Rule     string // RRULE subset: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, COUNT, UNTIL
	TimeZone string // IANA, e.g. America/Chicago
}

// Occurrence is one occurrence of a series, as a read of it shows it.
type Occurrence struct {
	Start, End time.Time // the rule's (Start names the occurrence)
	ID         string    // the id its livestream or meeting has (or will have)
	Created    bool      // it exists
	Made       Made      // when Created: its own times
	Skipped    bool
}

// Made is a made occurrence's own times: the rule's, unless it was moved
// on its own.
type Made struct {
	Start, End time.Time
}

// Window limits.
const (
	// DefaultAhead is how far ahead occurrences are made where no platform
	// of the template sets a bound.
	DefaultAhead = 14 * 24 * time.Hour
	// aheadMargin keeps an occurrence's creation clear of a platform's
	// bound, whatever the clock's drift and the scheduler's minute.
	aheadMargin = time.Hour
)

// AheadOf is how far ahead of its start an occurrence going to these
// platforms is made: the tightest platform's scheduling bound
// (Registration.ScheduleAhead) less a margin, or DefaultAhead.
func AheadOf(platforms []string) time.Duration {
	ahead := DefaultAhead
	for _, p := range platforms {
		if r, ok := registry.Registration(p); ok && r.ScheduleAhead > 0 {
			ahead = min(ahead, r.ScheduleAhead-aheadMargin)
		}
	}
	return ahead
}

var allowedRuleParts = []string{"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL"}

func invalid(format string, args ...any) error {
	return apperr.Errorf(apperr.Invalid, apperr.CodeInvalidRecurrence, format, args...)
}

// ParseRule checks a rule against the subset and builds it from first in
// loc (DTSTART is first's wall-clock time in loc).
func ParseRule(rule string, first time.Time, loc *time.Location) (*rrule.RRule, error) {
	rule = NormalRule(rule)
	if rule == "" {
		return nil, invalid("recurrence.rule is required, e.g. FREQ=WEEKLY;BYDAY=SU")
	}
	for _, part := range strings.Split(rule, ";") {
		name, _, _ := strings.Cut(part, "=")
		if !slices.Contains(allowedRuleParts, strings.ToUpper(name)) {
			return nil, invalid("recurrence.rule: %s is not supported; a rule uses FREQ (DAILY, WEEKLY or MONTHLY), INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL", trunc.String(name, 32))
		}
	}
	opt, err := rrule.StrToROptionInLocation(rule, loc)
	if err != nil {
		return nil, invalid("recurrence.rule is not an RFC 5545 rule: %s", trunc.String(err.Error(), 200))
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY:
	default:
		return nil, invalid("recurrence.rule: FREQ must be DAILY, WEEKLY or MONTHLY")
	}
	opt.Dtstart = first.In(loc)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, invalid("recurrence.rule: %s", trunc.String(err.Error(), 200))
	}
	return r, nil
}

// NormalRule is a rule as stored: trimmed, without an "RRULE:" prefix.
func NormalRule(rule string) string {
	return strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:")
}

// Zone is the IANA zone a recurrence names.
func Zone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(strings.TrimSpace(name))
	if err != nil || name == "" || strings.EqualFold(name, "local") {
		return nil, invalid("recurrence.timeZone must be an IANA time zone such as America/Chicago")
	}
	return loc, nil
}

// Check checks a recurrence whose first occurrence starts at first, and
// gives the definition it makes (without a template).
func Check[T any](rec Recurrence, first time.Time, duration time.Duration) (Definition[T], error) {
	loc, err := Zone(rec.TimeZone)
	if err != nil {
		return Definition[T]{}, err
	}
	if _, err := ParseRule(rec.Rule, first, loc); err != nil {
		return Definition[T]{}, err
	}
	return Definition[T]{Rule: NormalRule(rec.Rule), TimeZone: loc.String(), FirstStart: first.UTC(), Duration: duration}, nil
}

// rule is the definition's rule, built from what was checked when it was
// made.
func (d *Definition[T]) rule() (*rrule.RRule, error) {
	loc, err := time.LoadLocation(d.TimeZone)
	if err != nil {
		return nil, err
	}
	return ParseRule(d.Rule, d.FirstStart, loc)
}

// Retime is cur changed from from on: a new rule or zone (rec), a new
// first start (start, at or after from; its wall-clock time is every later
// one's) and end (with start: the length of each). Without a start the
// time of day is kept, in the (new) zone. retimed says a new start was
// given, which the capability checks as it checks any start.
func Retime[T any](cur Definition[T], from time.Time, rec *Recurrence, start, end *time.Time) (d Definition[T], retimed bool, err error) {
	d = cur
	d.From = from
	oldLoc, err := time.LoadLocation(cur.TimeZone)
	if err != nil {
		return d, false, err
	}
	loc := oldLoc
	if rec != nil {
		if loc, err = Zone(rec.TimeZone); err != nil {
			return d, false, err
		}
		d.Rule, d.TimeZone = NormalRule(rec.Rule), loc.String()
	}
	switch {
	case start != nil:
		d.FirstStart = start.UTC()
		if d.FirstStart.Before(from) {
			return d, false, apperr.Errorf(apperr.Unprocessable, apperr.CodeInvalidSchedule, "the new start must be at or after from: it is the first occurrence from the change on")
		}
		if end != nil {
			d.Duration = end.Sub(*start)
		}
		retimed = true
	case end != nil:
		return d, false, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidSchedule, "a new end is given with a new start: together they are the first changed occurrence and set the length of each")
	default:
		w := cur.FirstStart.In(oldLoc)
		d.FirstStart = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc).UTC()
	}
	if _, err := ParseRule(d.Rule, d.FirstStart, loc); err != nil {
		return d, false, err
	}
	return d, retimed, nil
}

// slot is one occurrence of a series: its start, the definition in force
// then and its id.
type slot[T any] struct {
	Start time.Time
	Def   *Definition[T]
	ID    string
}

// definitions are the series' definitions, oldest first.
func (sr *Series[T]) definitions() []Definition[T] {
	return append(slices.Clone(sr.Earlier), sr.Definition)
}

// before is the definitions a change from from keeps: those in force from
// before it (a definition from from on is replaced whole).
func (sr *Series[T]) before(from time.Time) []Definition[T] {
	var kept []Definition[T]
	for _, d := range sr.definitions() {
		if d.From.Before(from) {
			kept = append(kept, d)
		}
	}
	return kept
}

// occurrenceKey is what an occurrence's id is derived from, with its
// start: the series and the revision of its definition (revision 0 keeps
// the key of a series never changed).
func (sr *Series[T]) occurrenceKey(d *Definition[T]) string {
	if d.Revision == 0 {
		return sr.ID
	}
	return sr.ID + "/" + strconv.Itoa(d.Revision)
}

// between lists the occurrences starting after after and before before (or
// at either, with inc), each from the definition in force at its start.
func (sr *Series[T]) between(after, before time.Time, inc bool, id IDFunc) ([]slot[T], error) {
	defs := sr.definitions()
	var out []slot[T]
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
			if !inc && (t.Equal(after) || t.Equal(before)) || !inForce(defs, i, t) {
				continue
			}
			out = append(out, slot[T]{Start: t, Def: d, ID: id(sr.occurrenceKey(d), t)})
		}
	}
	return out, nil
}

// inForce: defs[i] is the definition for an occurrence starting at t.
func inForce[T any](defs []Definition[T], i int, t time.Time) bool {
	return !t.Before(defs[i].From) && (i+1 == len(defs) || t.Before(defs[i+1].From))
}

// after is the series' first occurrence starting after t.
func (sr *Series[T]) after(t time.Time, id IDFunc) (slot[T], bool, error) {
	defs := sr.definitions()
	for i := range defs {
		d := &defs[i]
		if i+1 < len(defs) && !defs[i+1].From.After(t) {
			continue // in force only before t
		}
		r, err := d.rule()
		if err != nil {
			return slot[T]{}, false, err
		}
		next := r.After(t, false)
		if d.From.After(t) {
			next = r.After(d.From, true)
		}
		if next.IsZero() || !inForce(defs, i, next.UTC()) {
			continue
		}
		return slot[T]{Start: next.UTC(), Def: d, ID: id(sr.occurrenceKey(d), next.UTC())}, true, nil
	}
	return slot[T]{}, false, nil
}

// at is the series' occurrence starting at start, if it has one.
func (sr *Series[T]) at(start time.Time, id IDFunc) (slot[T], bool, error) {
	got, err := sr.between(start.Add(-time.Second), start.Add(time.Second), true, id)
	if err != nil {
		return slot[T]{}, false, err
	}
	i := slices.IndexFunc(got, func(o slot[T]) bool { return o.Start.Equal(start) })
	if i < 0 {
		return slot[T]{}, false, nil
	}
	return got[i], true, nil
}

func (sr *Series[T]) skipped(start time.Time) bool {
	return slices.ContainsFunc(sr.Skipped, start.Equal)
}

// IsConflict reports whether err is a failed write condition: another
// writer was first.
func IsConflict(err error) bool {
	return errors.Is(err, apperr.ErrConditionFailed)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
