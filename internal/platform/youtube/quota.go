package youtube

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// The Data API's daily quota is per Google Cloud project, which is the
// OAuth client's project: one client id is one project, so the ledger is
// keyed by the client id. Every call this client makes is counted there,
// per Pacific day, at the cost YouTube's quota table gives it.
//
// Evidence: developers.google.com/youtube/v3/determine_quota_cost
// ("Quota calculator"): "10,000 units per day combined for all other
// endpoints … Daily quotas reset at midnight Pacific Time (PT)"; "All API
// requests, including invalid requests, incur a quota cost of at least one
// point"; liveBroadcasts insert, bind, transition, update, delete 50, list
// 1; liveStreams insert, update, delete 50, list 1; channels list 1
// (PLATFORMS.md YouTube "(corrected) Quota" agrees).

// DefaultDailyQuota is a project's daily quota unless Google granted more
// (YOUTUBE_DAILY_QUOTA).
const DefaultDailyQuota = 10000

// SettingDailyQuota names the daily quota setting.
const SettingDailyQuota = "YOUTUBE_DAILY_QUOTA"

// Costs of the calls this client makes, in units.
const (
	costList  = 1  // any list (GET)
	costWrite = 50 // insert, bind, transition, update, delete
)

// ledgerKeptFor: a day's entry is kept this long after the day ends
// (TTL), for the reads near midnight and a look afterwards.
const ledgerKeptFor = 3 * 24 * time.Hour

// callCost is what one call costs: a GET (a list) 1 unit, every write 50.
// An invalid request is counted at its full cost: YouTube says only "at
// least one point", so the ledger errs on the side of spending.
func callCost(method string) int64 {
	if method == http.MethodGet {
		return costList
	}
	return costWrite
}

// WithLedger counts every call in l under project (the OAuth client id),
// against a daily quota of daily units (DefaultDailyQuota when 0).
func WithLedger(l platform.QuotaLedger, project string, daily int64) Option {
	return func(c *Client) {
		if daily <= 0 {
			daily = DefaultDailyQuota
		}
		c.ledger, c.project, c.daily = l, project, daily
	}
}

// DailyQuota reads YOUTUBE_DAILY_QUOTA: whole units above zero.
func DailyQuota(v string) (int64, error) {
	if v == "" {
		return DefaultDailyQuota, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return DefaultDailyQuota, fmt.Errorf("%q is not a whole number of units above zero", v)
	}
	return n, nil
}

// day names the Pacific day t falls in, and when that day's quota resets.
func (c *Client) day(t time.Time) (string, time.Time) {
	return t.In(c.pacific()).Format(time.DateOnly), c.QuotaReset(t)
}

func (c *Client) key(day string) platform.QuotaKey {
	return platform.QuotaKey{Platform: ID, Project: c.project, Day: day}
}

// spend counts one attempted call. A failure to count is dropped: the
// ledger is Switchboard's estimate (Google's own count is what binds), and
// a call already made is not undone by a ledger that could not be written.
func (c *Client) spend(ctx context.Context, r platform.Request, err error) {
	if c.ledger == nil {
		return
	}
	day, reset := c.day(c.now())
	// A successful call that settles a reservation of the same day gives
	// it back in the same write (platform.FromReserve).
	var back int64
	fr := platform.FromReserveOf(ctx)
	if fr != nil && err == nil {
		if resDay, _ := c.day(fr.Start); resDay == day && fr.Take() {
			back = fr.Units
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if c.ledger.AddUnits(wctx, c.key(day), callCost(r.Method), -back, reset.Add(ledgerKeptFor)) != nil && back != 0 {
		fr.Untake() // the caller gives it back itself
	}
}

// Quota reads the ledger of the Pacific day at falls in.
func (c *Client) Quota(ctx context.Context, at time.Time) (platform.Quota, error) {
	if c.ledger == nil {
		return platform.Quota{}, platform.ErrNotMetered
	}
	day, reset := c.day(at)
	spent, reserved, err := c.ledger.Units(ctx, c.key(day))
	if err != nil {
		return platform.Quota{}, err
	}
	return platform.Quota{Limit: c.daily, Spent: spent, Reserved: max(reserved, 0), Reset: reset}, nil
}

// QuotaCosts: a broadcast with its own stream is inserted, its stream
// inserted and bound (3 writes; 2 with a kept stream, counted as 3 to be
// safe); going live and ending are one transition each; a change is one
// liveBroadcasts.update.
func (c *Client) QuotaCosts() platform.QuotaCosts {
	return platform.QuotaCosts{Provision: 3 * costWrite, GoLive: costWrite, End: costWrite, Update: costWrite}
}

// Reserve adds units to the reserve of start's Pacific day.
func (c *Client) Reserve(ctx context.Context, start time.Time, units int64) error {
	if c.ledger == nil {
		return platform.ErrNotMetered
	}
	day, reset := c.day(start)
	return c.ledger.AddUnits(ctx, c.key(day), 0, units, reset.Add(ledgerKeptFor))
}
