package httpapi

import (
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/series"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// What the routes of recurring livestreams and recurring meetings share.

// recurrenceBody is a series' rule and zone as a body gives them.
type recurrenceBody struct {
	Rule     string `json:"rule"`
	TimeZone string `json:"timeZone"`
}

func (b *recurrenceBody) value() series.Recurrence {
	return series.Recurrence{Rule: b.Rule, TimeZone: b.TimeZone}
}

// ptr is the recurrence a change gives, or nil (kept).
func (b *recurrenceBody) ptr() *series.Recurrence {
	if b == nil {
		return nil
	}
	v := b.value()
	return &v
}

var errNoRecurrence = apperr.E(apperr.Invalid, apperr.CodeInvalidRecurrence, "recurrence {rule, timeZone} is required")

// changeFrom is a change's from. Absent, it is the zero time: the service
// says it is required once it has found the series (another tenant's is
// not found whatever the body).
func changeFrom(raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	return parseDateTime("from", raw)
}

// optionalDateTime is a body's optional RFC 3339 field: nil when absent.
func optionalDateTime(field string, raw *string) (*time.Time, error) {
	if raw == nil {
		return nil, nil
	}
	t, err := parseDateTime(field, *raw)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// occurrenceStart is the {start} of an occurrence's path. A segment that
// is no time names no occurrence (as a malformed id names no record).
func occurrenceStart(r *Request) (time.Time, error) {
	start, err := time.Parse(time.RFC3339, r.Param("start"))
	if err != nil {
		return time.Time{}, apperr.Errorf(apperr.NotFound, apperr.CodeOccurrenceNotFound, "the series has no occurrence starting at %q: name one by its RFC 3339 start", trunc.String(r.Param("start"), 40))
	}
	return start, nil
}

// occurrenceStatus: created, pending (made when its window opens) or
// skipped.
func occurrenceStatus(o series.Occurrence) string {
	switch {
	case o.Skipped:
		return "skipped"
	case o.Created:
		return "created"
	}
	return "pending"
}

// failureView is why a series' next occurrence could not be made.
type failureView struct {
	Start   string `json:"start"`
	Code    string `json:"code"`
	Message string `json:"message"`
	At      string `json:"at"`
}

func viewFailure(f *series.Failure) *failureView {
	if f == nil {
		return nil
	}
	return &failureView{Start: stamp(f.Start), Code: f.Code, Message: f.Message, At: stamp(f.At)}
}
