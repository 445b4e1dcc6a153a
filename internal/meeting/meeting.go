// Package meeting is the meetings capability: one meeting created at once
// on several meeting platforms (Zoom, Google Meet, Microsoft Teams, Jitsi),
// its join links, and its cancellation everywhere. It knows nothing of HTTP,
// Lambda or DynamoDB: handlers call the Service, and the store implements
// Repo.
//
// # Creating
//
// Create validates the request (title 1 to 200 characters; startTime RFC
// 3339, at most StartGrace in the past; durationMinutes 1 to 1440; timezone
// an IANA zone, UTC when absent; 1 to 4 targets, each a meeting platform,
// none twice). It then asks the connection service for every target's
// credentials. A target whose platform is not connected, or whose
// connection has expired or is in error, refuses the whole meeting (409,
// code target_not_connected, the platforms named) and nothing is stored or
// sent anywhere. Jitsi is the exception: with no connection, or connected
// without credentials (authType none), it makes public rooms on
// meet.jit.si; connected with 8x8 JaaS credentials it makes JaaS rooms
// signed with the tenant's key.
//
// The meeting is stored with every target pending BEFORE any platform is
// called, and then created at every target at once, each with RequestID
// "<meeting id>:<platform>" (Teams' createOrGet externalId and the Calendar
// event id derive from it, so a repeat at those two finds the first
// meeting instead of making a second). Each target's outcome is written as
// it arrives by a conditional update that only moves a target that is
// still pending in a meeting that is not cancelled: a crash loses at most
// the answers not yet written, never the meeting or another target's
// external id. A target that fails gets status failed and lastError
// {code: the platform's reason, message: the platform's words, at}; the
// others are unaffected. When the platform answered 401 to a token the
// connection service had just given, the connection is reported
// unauthorized (it becomes expired, and the user reconnects). A meeting in
// which every target failed is still stored and answered 201, with status
// failed and each target's reason: the caller sees what each platform said.
//
// # Statuses
//
// A target is pending while it is being created, then ready (it exists at
// the platform) or failed; DELETE makes a ready target cancelled. A
// meeting's status is not stored: it is computed from its targets when it
// is read (Meeting.StatusAt), so concurrent target writes can never leave
// it disagreeing with them:
//
//	cancelled  DELETE was called (cancelledAt is set)
//	scheduled  a target is ready and the planned end has not passed
//	ended      a target is ready and the planned end (start + duration) has passed
//	pending    no target is ready yet and one is still being created
//	failed     no target is ready and none is pending: every one failed
//
// "live" is never reported: only Zoom could tell (GET /meetings/{id}), and
// nothing polls it; a meeting is scheduled until its planned end.
//
// # Cancelling
//
// Cancel (DELETE) of a meeting whose planned end has passed is refused
// (409, meeting_ended): there is nothing left to cancel. Otherwise the
// meeting is marked cancelled first, then every target that exists at its
// platform is deleted there, at once, and each result is written on the
// target: deleted (or already gone) makes it cancelled; a platform whose
// public API cannot delete a meeting (Jitsi: public rooms and JaaS rooms
// are only links) is not called and the target is cancelled with a note
// saying so; a failed delete leaves the target ready with lastError, and
// the meeting is cancelled all the same (204). Cancel again retries the
// targets still ready. A target still pending is left to the create that
// is running: it sees the cancellation when it writes and deletes what it
// made; a target pending for longer than StalePending (its create
// crashed) is cancelled with a note that its platform may hold a meeting
// Switchboard never heard of.
//
// # Changing
//
// Update (PATCH) changes any of title, start, length and zone, each given
// field checked as Create checks it. A cancelled meeting is refused (409
// meeting_cancelled), an ended one (meeting_ended), one with a target
// still being created or another change being sent (busy). The change is
// recorded first (Revision+1, and ChangingUntil, a lease no second change
// passes while the first is sent), then sent to every ready target at
// once (platform.MeetingUpdater); each target records the Revision its
// platform holds (Current), or keeps its old one with lastError. Outcomes
// are written only while the meeting is not cancelled, so a concurrent
// DELETE keeps its targets. 8x8 JaaS links are signed again and sealed; a
// public Jitsi room needs no call (a note says so).
//
// # Secrets
//
// Zoom's start_url (the platform's HostURL) embeds a host token (ZAK), and
// 8x8 JaaS links carry signed JWTs. They are sealed by the vault (purpose
// vault.PurposeMeetingLink, record "<meeting id>/host" or
// "<meeting id>/join", see LinkContext) and stored only sealed. The host
// link is never returned by this API: no route of the contract shows it, a
// Zoom host starts the meeting from their own account, and a JaaS
// moderator link would need a host-only route. The JaaS participant link
// is that target's joinUrl: it is what people join with, so it is opened
// for the tenant's own GET answers (never for logs). Other join links
// (Zoom's join_url, Meet's hangoutLink, Teams' joinWebUrl, public Jitsi
// rooms) are no credential of the account and are stored as they are.
//
// # Ids
//
// A meeting id is "mtg_" and 26 base32hex characters: 48 bits of
// milliseconds since 1970, then 80 random bits. Ids sort by creation time,
// so a tenant's meetings list newest first by key alone.
//
// # Platforms
//
//	platform         create                                      delete (DELETE /meetings/{id})
//	zoom             POST /users/me/meetings (type 2), once     DELETE /meetings/{id}; 404 counts as done
//	google-meet      Calendar event with a Meet conference,     DELETE the event (sendUpdates=all); 404/410 done
//	                 id from RequestID (a repeat finds it)
//	microsoft-teams  POST /me/onlineMeetings/createOrGet,       DELETE /me/onlineMeetings/{id}; 404 done
//	                 externalId = RequestID
//	jitsi            public room URL, or JaaS links signed      nothing to call: cancelled with a note
//	                 with the tenant's key; no network call
//
// Ending a meeting in progress (platform.MeetingEnder) is not part of
// the HTTP contract: only Zoom can, and Google only for instant Meet
// spaces, which this capability does not make.
package meeting

import (
	"errors"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/sortid"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Status is a meeting's state, as computed by StatusAt.
type Status string

const (
	StatusPending   Status = "pending"
	StatusScheduled Status = "scheduled"
	StatusEnded     Status = "ended"
	StatusCancelled Status = "cancelled"
	StatusFailed    Status = "failed"
)

// Statuses are the statuses a meeting can have.
var Statuses = []Status{StatusPending, StatusScheduled, StatusEnded, StatusCancelled, StatusFailed}

// TargetStatus is a target's state.
type TargetStatus string

const (
	TargetPending   TargetStatus = "pending"
	TargetReady     TargetStatus = "ready"
	TargetFailed    TargetStatus = "failed"
	TargetCancelled TargetStatus = "cancelled"
)

// LastError is a target's most recent failure.
type LastError struct {
	Code    string // the platform's reason (platform.Reason) or Switchboard's code
	Message string // safe to show: the platform's words, never a credential
	At      time.Time
}

// Target is the meeting at one platform.
type Target struct {
	Platform   platform.ID
	Status     TargetStatus
	ExternalID string // the meeting's id at the platform, once created
	// JoinURL is the participants' link. A link that is a credential (8x8
	// JaaS) is stored only in SealedJoin; the service fills JoinURL from it
	// in memory for an answer.
	JoinURL   string
	LastError *LastError
	Note      string            // what the platform cannot do about this target, in words
	Extra     map[string]string // the platform's other facts (a conference id); never a secret
	UpdatedAt time.Time
	// Revision is the meeting's Revision the platform holds: a change
	// that reached the platform (or needed no call there) sets it.
	Revision int

	// SealedJoin and SealedHost are vault envelopes under LinkContext:
	// the join link when it is a credential, and the host link (Zoom's
	// start_url, the JaaS moderator link), which is never returned.
	SealedJoin, SealedHost []byte
}

// Meeting is one meeting on several platforms.
type Meeting struct {
	Tenant      string
	ID          string
	SeriesID    string // the recurring series it is an occurrence of; "" for a one-off
	Title       string
	Start       time.Time
	Duration    time.Duration
	TimeZone    string // IANA; "UTC" when none was given
	CreatedBy   string
	CreatedAt   time.Time
	CancelledAt time.Time // zero unless cancelled
	Targets     []Target  // in the order they were asked for
	// Revision counts the changes of its title and times (0 as created).
	Revision int
	// ChangingUntil: a change is being sent to the platforms until then,
	// and no other may start; zero when none is.
	ChangingUntil time.Time

	// Status is StatusAt(now) as the service computed it when it read the
	// meeting; the store neither reads nor writes it.
	Status Status
}

// End is the planned end.
func (m *Meeting) End() time.Time { return m.Start.Add(m.Duration) }

// DurationMinutes is the duration in whole minutes.
func (m *Meeting) DurationMinutes() int { return int(m.Duration / time.Minute) }

// StatusAt is the meeting's status at now (see the package comment).
func (m *Meeting) StatusAt(now time.Time) Status {
	if !m.CancelledAt.IsZero() {
		return StatusCancelled
	}
	pending := false
	for _, t := range m.Targets {
		switch t.Status {
		case TargetReady:
			if !now.Before(m.End()) {
				return StatusEnded
			}
			return StatusScheduled
		case TargetPending:
			pending = true
		}
	}
	if pending {
		return StatusPending
	}
	return StatusFailed
}

// Current reports whether the platform holds the meeting's title and
// times as they are now: t exists there (ready) and the latest change
// reached it, or needed no call there.
func (m *Meeting) Current(t Target) bool {
	return t.Status == TargetReady && t.Revision == m.Revision
}

// Target returns the target at platform p.
func (m *Meeting) Target(p platform.ID) (*Target, bool) {
	for i := range m.Targets {
		if m.Targets[i].Platform == p {
			return &m.Targets[i], true
		}
	}
	return nil, false
}

// ErrChanged is the cause of a Repo write whose condition no longer held:
// the target was no longer in the state expected, or the meeting was
// cancelled meanwhile.
var ErrChanged = errors.New("meeting: changed meanwhile")

// Link roles in a LinkContext record.
const (
	LinkHost = "host"
	LinkJoin = "join"
)

// LinkContext binds a sealed meeting link to its tenant, platform, meeting
// and role (LinkHost or LinkJoin), so an envelope cannot be moved to
// another target, meeting or tenant and still open.
func LinkContext(tenant string, p platform.ID, meetingID, role string) vault.EncryptionContext {
	return vault.Context(tenant, string(p), vault.PurposeMeetingLink, meetingID+"/"+role)
}

// idPrefix starts every meeting id.
const idPrefix = "mtg_"

// NewID is a fresh meeting id for a meeting created at now (see the
// package comment). It does not fail; the error stays for its callers.
func NewID(now time.Time) (string, error) { return sortid.New(idPrefix, now), nil }

// ValidID reports whether s has the shape of a meeting id. Anything else
// cannot name a meeting, and is answered as not found without a read.
func ValidID(s string) bool { return sortid.Valid(idPrefix, s) }
