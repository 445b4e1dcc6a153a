package platform

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// BroadcastSpec is what Switchboard asks a livestream platform to set up
// for one target of a livestream.
type BroadcastSpec struct {
	Title, Description string
	// ScheduledStart is when Switchboard starts the broadcast; ScheduledEnd,
	// when it ends it (zero: no planned end).
	ScheduledStart, ScheduledEnd time.Time
	// Privacy is public, unlisted or private; platforms without the notion
	// ignore it, and each client documents its default.
	Privacy string
	// RequestID is stable per livestream target, for idempotency where the
	// platform allows it (or a stable id where it does not create anything).
	RequestID string
	// Destination names where to publish when the account has more than one
	// place: a Facebook Page id (empty: the user's own timeline), an
	// Instagram user id (empty: the first linked professional account).
	Destination string
	// IngestURL and StreamKey are supplied by the user where no API creates
	// the ingest (Instagram's Live Producer).
	IngestURL, StreamKey string
	// MadeForKids is the audience the caller declared (YouTube's
	// selfDeclaredMadeForKids, required there); nil where not given.
	MadeForKids *bool
	// AutoStop ends the broadcast for good when the encoder stops
	// (YouTube's enableAutoStop); false keeps it open for the encoder to
	// come back until Switchboard ends it.
	AutoStop bool
	// Ingest, when set, is an ingest the platform keeps for many
	// broadcasts (from an IngestKeeper): the broadcast is bound to it
	// instead of getting one of its own, so the encoder's URL and key stay
	// the same. A kept ingest the platform no longer has fails Provision
	// with ReasonNotFound.
	Ingest *KeptIngest
}

// KeptIngest is an ingest (URL and stream key) a platform keeps for many
// broadcasts: YouTube's reusable liveStream. StreamKey is a secret.
type KeptIngest struct {
	ID, IngestURL, StreamKey string
	Extra                    map[string]string // never a secret
}

// IngestKeeper is a Broadcaster whose platform can keep one ingest for
// many broadcasts, so the encoder's key never changes.
type IngestKeeper interface {
	// KeepIngest creates an ingest to be bound to many broadcasts.
	KeepIngest(ctx context.Context, token, title string) (KeptIngest, error)
	// DropIngest deletes a kept ingest; one already gone is success.
	DropIngest(ctx context.Context, token, id string) error
}

// IngestHealth is what a platform says of the encoder pushing to a
// broadcast's ingest. Message is the platform's words, never a secret.
type IngestHealth struct {
	Pushing bool   // the encoder's stream is arriving
	Healthy bool   // and the platform judges it good enough to go live
	Status  string // the platform's own words: YouTube's streamStatus/healthStatus
}

// IngestChecker is a Broadcaster whose platform tells whether the encoder
// is pushing to a broadcast's ingest, and how well.
type IngestChecker interface {
	IngestHealth(ctx context.Context, token string, b Broadcast) (IngestHealth, error)
}

// Broadcast is a broadcast set up at a platform: where to push the stream
// and how to find it again. StreamKey is a secret: store it sealed.
type Broadcast struct {
	ExternalID, WatchURL, IngestURL, StreamKey string
	// Extra holds the platform's other ids needed later (YouTube's stream
	// id, Instagram's user id); never a secret.
	Extra map[string]string
	// StableKey says the ingest URL and stream key stay the same for the
	// account's next broadcasts (a kept ingest, Restream's one key), so the
	// encoder is set up once.
	StableKey bool
	// KeyNote says plainly why the key is or is not stable where the
	// platform decided it per broadcast (a Facebook Page that may not use
	// a persistent stream key); "" when StableKey says it all.
	KeyNote string
}

// BroadcastState is a broadcast's state at the platform, in Switchboard's
// words (a livestream target's status).
type BroadcastState string

const (
	BroadcastPending   BroadcastState = "pending"   // created, not yet ready to take a stream
	BroadcastReady     BroadcastState = "ready"     // ready to take a stream, not live
	BroadcastLive      BroadcastState = "live"      // on air
	BroadcastEnded     BroadcastState = "ended"     // was live and is over
	BroadcastCancelled BroadcastState = "cancelled" // cancelled before it went live
	BroadcastFailed    BroadcastState = "failed"    // the platform gave up on it (expired, revoked)
)

// Broadcaster is a livestream platform's client. It takes a fresh access
// token per call and knows nothing of storage; failures are *Error with a
// Reason, and never carry a token or a stream key. The operations a
// platform's public API may lack (going live, ending, cancelling,
// changing a scheduled broadcast) are the small interfaces GoLiver, Ender,
// Canceller and Updater, which a client implements or not; a client that
// does not implement one has no such call.
type Broadcaster interface {
	// Whoami names the account behind the token.
	Whoami(ctx context.Context, token string) (Account, error)
	// Provision creates the broadcast at the platform, with its ingest
	// ready to take a stream.
	Provision(ctx context.Context, token string, spec BroadcastSpec) (Broadcast, error)
	// State reads the broadcast's state at the platform.
	State(ctx context.Context, token string, b Broadcast) (BroadcastState, error)
}

// GoLiver is a Broadcaster whose platform needs a call to make a broadcast
// live; without it the platform starts by itself when the encoder pushes.
type GoLiver interface {
	GoLive(ctx context.Context, token string, b Broadcast) error
}

// Ender is a Broadcaster whose platform has a call that ends a live
// broadcast (CapBroadcastEnd); without it the broadcast ends when the
// encoder stops.
type Ender interface {
	End(ctx context.Context, token string, b Broadcast) error
}

// Canceller is a Broadcaster whose platform holds something to cancel or
// delete for a scheduled broadcast; Cancel removes it everywhere it exists
// at the platform, and something already gone is not an error. Without
// it, Provision created nothing that outlives the target.
type Canceller interface {
	Cancel(ctx context.Context, token string, b Broadcast) error
}

// BroadcastChange is a scheduled broadcast's details after a change
// (PATCH /livestreams/{id}): all of them, as the platform should show
// them, whichever the change named.
type BroadcastChange struct {
	Title, Description           string
	ScheduledStart, ScheduledEnd time.Time // ScheduledEnd zero: no planned end
	// StartMoved: ScheduledStart is not what the platform was last told
	// (the change moved it, or an earlier change did not reach the
	// platform).
	StartMoved bool
	// DescriptionRemoved: the change removed the description (Description
	// is empty and was not).
	DescriptionRemoved bool
}

// Updater is a Broadcaster whose platform has a call that changes a
// scheduled broadcast's title, description and planned times
// (CapBroadcastUpdate). Without it the platform keeps what Provision told
// it.
type Updater interface {
	// UpdateBroadcast changes b at the platform. kept says plainly what
	// the platform keeps as it was, and why, when it took only part of the
	// change ("" when it took all of it).
	UpdateBroadcast(ctx context.Context, token string, b Broadcast, c BroadcastChange) (kept string, err error)
}

// Redact keeps secrets out of a platform error: it replaces each secret
// (a token, a stream key, a client secret) in the message and code with
// "[redacted]" and drops the request URL that a transport failure
// (*url.Error) carries, since a URL may hold one in its query. Caller.Do
// applies it to every error with the request's secrets; clients apply it
// for secrets a request did not carry. Secrets shorter than 4 bytes are
// ignored. err is changed in place and returned.
func Redact(err error, secrets ...string) error {
	pe, ok := AsError(err)
	if !ok {
		return err
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			pe.Message = strings.ReplaceAll(pe.Message, s, "[redacted]")
			pe.Code = strings.ReplaceAll(pe.Code, s, "[redacted]")
		}
	}
	var ue *url.Error
	if errors.As(pe.Err, &ue) {
		pe.Err = ue.Err
	}
	return err
}

// Destination is a place an account can publish a broadcast to, for
// platforms where it has more than one (Facebook: the user's profile and
// the Pages the user manages). ID is what a target's destination names;
// nothing here is a secret.
type Destination struct {
	ID, Name string
	Kind     string // DestinationProfile or DestinationPage
}

// Kinds of destination.
const (
	DestinationProfile = "profile"
	DestinationPage    = "page"
)
