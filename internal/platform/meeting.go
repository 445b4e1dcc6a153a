package platform

import (
	"context"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones resolve on Lambda images that ship no zoneinfo
)

// MeetingSpec is one meeting to create at a meeting platform.
type MeetingSpec struct {
	Title    string
	Start    time.Time
	Duration time.Duration
	// TimeZone is the IANA zone the meeting is shown in ("" is UTC).
	TimeZone string
	// RequestID is stable per meeting target (the same on every retry of
	// the same creation). Clients use it for idempotency where the
	// platform allows: Teams' externalId, a Calendar event id, Meet's
	// conference requestId.
	RequestID string
	// Instant asks for an ad-hoc meeting now; Start is ignored.
	Instant bool
	// HostName and HostEmail name the host where a platform wants them in
	// the meeting itself (8x8 JaaS puts them in the moderator's token).
	// Optional.
	HostName, HostEmail string
}

// DefaultMeetingDuration is used for an instant meeting without a duration.
const DefaultMeetingDuration = time.Hour

// Location is the spec's time zone (UTC when empty).
func (s MeetingSpec) Location() (*time.Location, error) {
	if s.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s.TimeZone)
	}
	return loc, nil
}

// Normalize checks the spec and fills what a platform needs: for an
// instant meeting Start is now and Duration defaults to an hour. It
// returns a *Error with ReasonInvalid (Status 0: nothing was sent) when a
// scheduled meeting has no start or duration or the zone is unknown.
func (s MeetingSpec) Normalize(id ID, now time.Time) (MeetingSpec, error) {
	return s.normalize(id, "create meeting", now)
}

// NormalizeChange checks the new details of a meeting being changed as
// Normalize checks a new scheduled one (a change is never instant); its
// errors' Op is "update meeting".
func (s MeetingSpec) NormalizeChange(id ID) (MeetingSpec, error) {
	s.Instant = false
	return s.normalize(id, "update meeting", time.Time{})
}

func (s MeetingSpec) normalize(id ID, op string, now time.Time) (MeetingSpec, error) {
	invalid := func(msg string) error {
		return &Error{Platform: id, Op: op, Reason: ReasonInvalid, Message: msg}
	}
	if _, err := s.Location(); err != nil {
		return s, invalid(err.Error())
	}
	if strings.TrimSpace(s.Title) == "" {
		s.Title = "Meeting"
	}
	if s.Instant {
		s.Start = now.Truncate(time.Second)
		if s.Duration <= 0 {
			s.Duration = DefaultMeetingDuration
		}
		return s, nil
	}
	if s.Start.IsZero() {
		return s, invalid("a scheduled meeting needs a start time")
	}
	if s.Duration <= 0 {
		return s, invalid("a scheduled meeting needs a positive duration")
	}
	return s, nil
}

// End is when the meeting is planned to end.
func (s MeetingSpec) End() time.Time { return s.Start.Add(s.Duration) }

// Meeting is a meeting created at a platform.
//
// JoinURL is for participants. HostURL, where a platform has one, starts
// the meeting as its host and usually carries a credential (Zoom's
// start_url embeds a host token, 8x8 JaaS links carry a signed JWT): treat
// it as a secret, never log it, and show it only to the host. Extra holds
// other facts of the platform's (a conference id, a meeting code); never a
// secret.
type Meeting struct {
	ExternalID, JoinURL, HostURL string
	Extra                        map[string]string
}

// MeetingState is where a meeting is in its life.
type MeetingState string

const (
	MeetingScheduled MeetingState = "scheduled"
	MeetingStarted   MeetingState = "started"
	MeetingEnded     MeetingState = "ended"
	MeetingCancelled MeetingState = "cancelled"
)

// Meeter creates and manages meetings at one platform. The token is a
// fresh access token for the user's connection (ignored by platforms
// without accounts). Failures are *Error with a Reason. Ending and
// deleting a meeting are the small interfaces MeetingEnder and
// MeetingDeleter, which a client implements or not.
type Meeter interface {
	Whoami(ctx context.Context, token string) (Account, error)
	CreateMeeting(ctx context.Context, token string, spec MeetingSpec) (Meeting, error)
}

// MeetingEnder is a Meeter whose platform has a call that ends a meeting
// in progress for everyone (CapMeetingEnd). It may still return *Error
// with ReasonUnsupported for a meeting that call cannot reach.
type MeetingEnder interface {
	EndMeeting(ctx context.Context, token string, m Meeting) error
}

// MeetingDeleter is a Meeter whose platform has a call that deletes a
// meeting (CapMeetingDelete); one that is already gone is a success.
type MeetingDeleter interface {
	DeleteMeeting(ctx context.Context, token string, m Meeting) error
}

// MeetingUpdater is a Meeter whose platform has a call that changes a
// meeting's title, start, length and time zone (CapMeetingUpdate). m is
// the meeting as made; spec holds its new details (RequestID and Instant
// unused). It returns the meeting as it is then: m itself, unless the
// platform's links depend on the details and were made again (8x8 JaaS'
// signed links), which are then the new ones.
type MeetingUpdater interface {
	UpdateMeeting(ctx context.Context, token string, m Meeting, spec MeetingSpec) (Meeting, error)
}

// Unsupported is the error for something a platform's public API cannot
// do; msg says so in words a user can read.
func Unsupported(id ID, op, msg string) *Error {
	return &Error{Platform: id, Op: op, Reason: ReasonUnsupported, Message: msg}
}
