package meeting

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Limits of a meeting request.
const (
	MaxTitle        = 200 // characters
	MaxDuration     = 24 * time.Hour
	MaxTargets      = 4 // one per meeting platform
	StartGrace      = 5 * time.Minute
	DefaultTimeZone = "UTC"
)

// MaxAhead is how far ahead a meeting may start: Switchboard's own bound on
// what is plausible, so a typo in the year is a clear 400.
const MaxAhead = 366 * 24 * time.Hour

// CreateInput is a meeting request as the caller sent it.
type CreateInput struct {
	Title           string
	StartTime       string // RFC 3339
	DurationMinutes int
	TimeZone        *string // nil: UTC
	Platforms       []string
}

// spec is a request that passed validation.
type spec struct {
	title     string
	start     time.Time
	duration  time.Duration
	timeZone  string
	platforms []platform.ID
}

func invalid(field, format string, args ...any) error {
	return withField(apperr.Errorf(apperr.Invalid, apperr.CodeInvalidMeeting, format, args...), field)
}

// withField names the field a refusal is about.
func withField(e *apperr.Error, field string) error {
	e.Fields = map[string]any{"field": field}
	return e
}

// validate checks a request at now; the error names the first field that
// is wrong and says what it must be.
func validate(in CreateInput, now time.Time) (spec, error) {
	var s spec
	var err error
	if s.title, err = checkTitle(in.Title); err != nil {
		return s, err
	}
	if s.start, err = checkStart(in.StartTime, now); err != nil {
		return s, err
	}
	if s.duration, err = checkDuration(in.DurationMinutes); err != nil {
		return s, err
	}
	if s.timeZone, err = checkTimeZone(in.TimeZone); err != nil {
		return s, err
	}
	switch {
	case len(in.Platforms) == 0:
		return s, invalid("targets", "targets must name at least one meeting platform")
	case len(in.Platforms) > MaxTargets:
		return s, invalid("targets", "targets may name at most %d platforms, one each", MaxTargets)
	}
	seen := map[platform.ID]bool{}
	for i, p := range in.Platforms {
		field := fmt.Sprintf("targets[%d].platform", i)
		d, ok := registry.Lookup(p)
		switch {
		case !ok:
			return s, withField(platform.Unknown(apperr.Invalid, p), field)
		case d.Kind != platform.KindMeeting:
			return s, withField(registry.WrongKind(apperr.Invalid, d, platform.KindMeeting), field)
		case seen[d.ID]:
			return s, invalid(field, "%s: %s is named twice; a meeting has one target per platform", field, d.Name)
		}
		seen[d.ID] = true
		s.platforms = append(s.platforms, d.ID)
	}
	return s, nil
}

// checkTitle is the title as a meeting keeps it: trimmed, 1 to MaxTitle
// characters of UTF-8 text without control characters.
func checkTitle(raw string) (string, error) {
	title := strings.TrimSpace(raw)
	switch n := utf8.RuneCountInString(title); {
	case !utf8.ValidString(raw):
		return "", invalid("title", "title must be UTF-8 text")
	case n == 0:
		return "", invalid("title", "title is required")
	case n > MaxTitle:
		return "", invalid("title", "title has %d characters; at most %d are allowed", n, MaxTitle)
	}
	for _, r := range title {
		if r < 0x20 || r == 0x7f {
			return "", invalid("title", "title must not contain control characters such as line breaks")
		}
	}
	return title, nil
}

// checkStart is an RFC 3339 start, at most StartGrace before now and
// MaxAhead after it, in UTC to the second.
func checkStart(raw string, now time.Time) (time.Time, error) {
	if strings.TrimSpace(raw) == "" {
		return time.Time{}, invalid("startTime", "startTime is required (RFC 3339, e.g. 2026-03-01T10:00:00-06:00)")
	}
	start, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return time.Time{}, invalid("startTime", "startTime %q is not an RFC 3339 date-time with an offset (e.g. 2026-03-01T10:00:00-06:00)", trunc.String(raw, 40))
	}
	if start.Before(now.Add(-StartGrace)) {
		return time.Time{}, invalid("startTime", "startTime %s is in the past", start.UTC().Format(time.RFC3339))
	}
	if start.After(now.Add(MaxAhead)) {
		return time.Time{}, invalid("startTime", "startTime %s is more than a year ahead; a meeting is scheduled at most a year out", start.UTC().Format(time.RFC3339))
	}
	return start.UTC().Truncate(time.Second), nil
}

// checkDuration is a length of 1 to MaxDuration whole minutes.
func checkDuration(minutes int) (time.Duration, error) {
	if minutes < 1 || minutes > int(MaxDuration/time.Minute) {
		return 0, invalid("durationMinutes", "durationMinutes must be a whole number from 1 to %d", int(MaxDuration/time.Minute))
	}
	return time.Duration(minutes) * time.Minute, nil
}

// checkTimeZone is an IANA zone name; nil is DefaultTimeZone.
func checkTimeZone(tz *string) (string, error) {
	if tz == nil {
		return DefaultTimeZone, nil
	}
	// LoadLocation takes "" and "Local" as the server's zone: neither is a zone a caller can mean.
	if *tz == "" || *tz == "Local" || len(*tz) > 64 {
		return "", invalid("timezone", "timezone must be an IANA time zone name such as America/Chicago")
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return "", invalid("timezone", "timezone %q is not an IANA time zone name (such as America/Chicago)", trunc.String(*tz, 64))
	}
	return *tz, nil
}
