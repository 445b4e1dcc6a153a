package livestream

import (
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Status is a livestream's state. Callers see scheduled, live, ended,
// cancelled or failed; starting and ending exist only while a run holds the
// livestream's claim (PublicStatus says what callers see meanwhile).
type Status string

const (
	StatusScheduled Status = "scheduled"
	StatusLive      Status = "live"
	StatusEnded     Status = "ended"
	StatusCancelled Status = "cancelled"
	StatusFailed    Status = "failed"
	StatusStarting  Status = "starting" // a run is making the targets live
	StatusEnding    Status = "ending"   // a run is ending the targets
)

// PublicStatuses are the statuses callers see, for validating a filter.
var PublicStatuses = []Status{StatusScheduled, StatusLive, StatusEnded, StatusCancelled, StatusFailed}

// TargetStatus is one target's state.
type TargetStatus string

const (
	TargetPending   TargetStatus = "pending"   // recorded, not yet set up at the platform
	TargetReady     TargetStatus = "ready"     // set up: broadcast created, ingest known
	TargetLive      TargetStatus = "live"      // made live (see the package doc for platforms with no start call)
	TargetEnded     TargetStatus = "ended"     // was live and was ended
	TargetFailed    TargetStatus = "failed"    // the last step failed; LastError says why
	TargetCancelled TargetStatus = "cancelled" // cancelled before it went live
)

// Step is what was being done to a target: the step a failed target retries.
type Step string

const (
	StepProvision Step = "provision"
	StepGoLive    Step = "go_live"
	StepEnd       Step = "end"
	StepCancel    Step = "cancel"
)

// LastError is a target's most recent failure, kept until a success clears
// it. Message is safe to show: the platform's words, never a secret.
type LastError struct {
	Code    string
	Message string
	At      time.Time
}

// UpdateStatus is what became of a livestream's latest change (title,
// description, schedule) at one target's platform.
type UpdateStatus string

const (
	UpdateApplied     UpdateStatus = "updated"        // the platform shows the new details
	UpdatePartial     UpdateStatus = "partly_updated" // the platform took part of it; Message says what it kept and why
	UpdateFailed      UpdateStatus = "failed"         // the platform refused or failed; Code and Message say why
	UpdateUnsupported UpdateStatus = "not_supported"  // the platform's public API cannot change it; Message says so
	UpdateNotSetUp    UpdateStatus = "not_set_up"     // nothing is set up there yet: it will be set up with the new details
)

// PlatformUpdate is what became of a livestream's latest change at one
// target's platform. Code is the platform's reason for a failure; Message
// is safe to show (the platform's words, never a secret).
type PlatformUpdate struct {
	Status  UpdateStatus
	Code    string
	Message string
	At      time.Time
}

// Target is one platform a livestream goes out to. Nothing here is secret:
// the stream key is kept sealed on the Livestream (SealedKeys).
type Target struct {
	Platform   platform.ID
	Privacy    string // public, unlisted, private; "" is the platform's default
	Status     TargetStatus
	ExternalID string // the broadcast's id at the platform
	WatchURL   string
	IngestURL  string
	Extra      map[string]string // the platform's other ids (never a secret)
	UserIngest bool              // the ingest URL and key came from the user (Instagram)
	// StableKey: the ingest URL and stream key are the account's, the same
	// for its next livestreams (a kept ingest, Restream's one key); false:
	// they are this broadcast's own and change with the next one.
	StableKey bool
	// KeyNote says why the key is or is not stable where the platform
	// decided it for this broadcast (platform.Broadcast.KeyNote).
	KeyNote string
	// Destination is where at the platform it publishes, for platforms
	// whose account can publish in more than one place: a Facebook Page id;
	// "" is the account's own profile.
	Destination string
	// MadeForKids is a YouTube target's audience declaration (nil
	// elsewhere); AutoStop, whether YouTube ends it when the encoder stops.
	MadeForKids *bool
	AutoStop    bool
	// QuotaReserved is the units this target holds in its platform's daily
	// quota reserve (platform.QuotaMeter), on the day of QuotaReservedFor
	// (the start it was reserved for); given back as its go-live and end
	// are made, or when it is cancelled.
	QuotaReserved    int64
	QuotaReservedFor time.Time
	// Step, Attempts and NextAttemptAt describe a failed target: the step
	// that failed, how many times in a row, and when the scheduler tries it
	// again (zero: never, because retrying cannot help or the attempts are
	// used up).
	Step          Step
	Attempts      int
	NextAttemptAt time.Time
	LastError     *LastError
	// PlatformUpdate is what became of the livestream's latest change at
	// the platform; nil while the livestream was never changed.
	PlatformUpdate *PlatformUpdate
	UpdatedAt      time.Time
	// Checks are the latest preflight's results (see Check).
	Checks []Check
}

// retrying reports whether the scheduler will try the target again.
func (t *Target) retrying() bool { return t.Status == TargetFailed && !t.NextAttemptAt.IsZero() }

// awaitsQuota reports whether the target failed on a used-up platform
// quota that has not reset yet at now: trying before then cannot succeed
// and only spends more of it.
func (t *Target) awaitsQuota(now time.Time) bool {
	return t.retrying() && t.LastError != nil && t.LastError.Code == string(platform.ReasonQuota) && t.NextAttemptAt.After(now)
}

// Livestream is one broadcast going out to several platforms.
type Livestream struct {
	Tenant      string
	ID          string
	SeriesID    string // the recurring series it is an occurrence of; "" for a one-off
	Title       string
	Description string
	// ScheduledStart is when the scheduler starts it; ScheduledEnd, when it
	// ends it (zero: when someone ends it).
	ScheduledStart time.Time
	ScheduledEnd   time.Time
	Status         Status
	// StartedAt is when a first target went live; EndedAt, when the
	// livestream was wrapped up (ended, or its end passed while it was
	// failed).
	StartedAt time.Time
	EndedAt   time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	CreatedBy string
	Targets   []Target

	// SealedKeys holds the vault envelopes of the targets' stream keys,
	// by platform. Sealed with KeyContext; opened only to call a platform
	// or to answer the ingest route.
	SealedKeys map[platform.ID][]byte

	// CheckedAt is when the latest preflight ran (zero: never).
	CheckedAt time.Time
	// DueAt is when the scheduler should next look at it (zero: never).
	DueAt time.Time
	// ClaimOwner holds the livestream until ClaimUntil: only the owner
	// changes it meanwhile (see the package doc).
	ClaimOwner string
	ClaimUntil time.Time
	Version    int64 // optimistic concurrency
}

// PublicStatus is the status callers see: starting is live as soon as a
// target is live (scheduled before), and ending is still live.
func (ls *Livestream) PublicStatus() Status {
	switch ls.Status {
	case StatusStarting:
		for _, t := range ls.Targets {
			if t.Status == TargetLive {
				return StatusLive
			}
		}
		return StatusScheduled
	case StatusEnding:
		return StatusLive
	}
	return ls.Status
}

// storedStatuses are the stored statuses that can show as a public one,
// for filtering a list in the table before PublicStatus decides.
func storedStatuses(public Status) []Status {
	switch public {
	case StatusScheduled:
		return []Status{StatusScheduled, StatusStarting}
	case StatusLive:
		return []Status{StatusLive, StatusStarting, StatusEnding}
	}
	return []Status{public}
}

// claimed reports whether a claim other than a dead one holds it at now.
func (ls *Livestream) claimed(now time.Time) bool {
	return ls.ClaimOwner != "" && ls.ClaimUntil.After(now)
}

// Ingest is where an encoder pushes for one target. StreamKey is a secret:
// only the ingest route shows it.
type Ingest struct {
	Platform  platform.ID
	IngestURL string
	StreamKey string
	Stable    bool // the same URL and key as the account's other livestreams (Target.StableKey)
	// StableNote says why the key is or is not stable, where the platform
	// decided it for this broadcast (Target.KeyNote); "" otherwise.
	StableNote string
}

// Minute is the scheduler's precision: a time's minute, in UTC.
func Minute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

// dueBy reports whether something due at t is due at now: at its second,
// never before (the scheduler waits for it; see RunDue).
func dueBy(t, now time.Time) bool { return !t.IsZero() && !t.After(now) }
