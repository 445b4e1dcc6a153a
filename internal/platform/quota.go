package platform

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// A platform may meter its API in units per day, shared by every user of
// the app (YouTube's Data API quota, per Google Cloud project). Its client
// counts what each call costs in a QuotaLedger and implements QuotaMeter,
// so that the livestream capability keeps a reserve for the day's go-lives
// without naming the platform.

// QuotaKey names one ledger entry: a platform's project (the OAuth
// client's project) and one quota day, in the platform's own words
// ("2026-12-06" in Pacific Time for YouTube).
type QuotaKey struct {
	Platform ID
	Project  string
	Day      string
}

// QuotaLedger keeps the units spent and reserved per QuotaKey, with atomic
// additions (two Lambdas adding at once both count).
type QuotaLedger interface {
	// AddUnits adds spent and reserved (either may be negative or zero)
	// to k's entry, which expires (may be forgotten) after expires.
	AddUnits(ctx context.Context, k QuotaKey, spent, reserved int64, expires time.Time) error
	// Units reads k's entry; zeros when there is none.
	Units(ctx context.Context, k QuotaKey) (spent, reserved int64, err error)
}

// Quota is a metered platform's quota for one day: Limit units a day,
// Spent so far by every call counted, Reserved for the work already
// scheduled that day (go-lives, ends); it resets at Reset.
type Quota struct {
	Limit, Spent, Reserved int64
	Reset                  time.Time
}

// Left is the units not spent yet (negative when over).
func (q Quota) Left() int64 { return q.Limit - q.Spent }

// Free is the units neither spent nor reserved.
func (q Quota) Free() int64 { return q.Limit - q.Spent - max(q.Reserved, 0) }

// QuotaCosts are the units a broadcast's steps cost at a metered platform.
type QuotaCosts struct {
	Provision int64 // setting a broadcast up (Provision)
	GoLive    int64 // making it live (GoLive)
	End       int64 // ending it (End)
	Update    int64 // changing its title, description or times (Updater)
}

// Reserve is what one scheduled broadcast keeps back on its start's day.
func (c QuotaCosts) Reserve() int64 { return c.GoLive + c.End }

// QuotaMeter is a Broadcaster whose platform meters its API in daily units.
type QuotaMeter interface {
	// Quota reads the quota of the day at falls in. A client built without
	// a ledger answers ErrNotMetered.
	Quota(ctx context.Context, at time.Time) (Quota, error)
	// QuotaCosts says what a broadcast's steps cost.
	QuotaCosts() QuotaCosts
	// Reserve adds units to the reserve of the day start falls in;
	// negative units give them back.
	Reserve(ctx context.Context, start time.Time, units int64) error
}

// ErrNotMetered: the client keeps no ledger (none configured), so nothing
// is counted or reserved.
var ErrNotMetered = errors.New("platform: no quota ledger is kept")

// FromReserve is units reserved for a broadcast (Reserve's start and
// units) that the next successful call made with it in its context
// settles: a metered client counts the call and gives the units back in
// one ledger write, instead of the caller giving them back in a second
// (at a go-live's second every write to the day's entry counts). Taken
// says whether a client did; if none did, the caller gives them back.
type FromReserve struct {
	Start time.Time
	Units int64
	taken atomic.Bool
}

type fromReserveKey struct{}

// WithFromReserve is ctx carrying r for the calls made with it.
func WithFromReserve(ctx context.Context, r *FromReserve) context.Context {
	return context.WithValue(ctx, fromReserveKey{}, r)
}

// FromReserveOf is the FromReserve ctx carries, or nil.
func FromReserveOf(ctx context.Context) *FromReserve {
	r, _ := ctx.Value(fromReserveKey{}).(*FromReserve)
	return r
}

// Take claims r for one ledger write; false when it is claimed already.
func (r *FromReserve) Take() bool { return r.taken.CompareAndSwap(false, true) }

// Untake gives the claim back when the write failed.
func (r *FromReserve) Untake() { r.taken.Store(false) }

// Taken reports whether a ledger write settled r.
func (r *FromReserve) Taken() bool { return r.taken.Load() }
