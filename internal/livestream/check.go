package livestream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Preflight: before each start (CheckBefore: 30 and 10 minutes) the
// scheduler checks every target, and POST /livestreams/{id}/check does the
// same on demand. Each target's checks are kept on it, the latest run's
// only, as Check values a caller (and the events capability, which
// compares item images) can read.

// CheckBefore are how long before a scheduled start the preflight runs.
var CheckBefore = []time.Duration{30 * time.Minute, 10 * time.Minute}

// Names of the checks.
const (
	CheckConnection = "connection" // a usable token, refreshed now if it would not last to the start
	CheckAccount    = "account"    // the account may still stream, and the broadcast is still there
	CheckEncoder    = "encoder"    // the encoder is pushing, and well, where the platform tells
	// CheckQuota (quota.go): a metered platform's daily quota can pay for the go-live.
)

// CheckStatus is a check's outcome.
type CheckStatus string

const (
	CheckPass        CheckStatus = "pass"
	CheckWarn        CheckStatus = "warn"        // not ready yet, but it can be before the start (an encoder not pushing yet)
	CheckFail        CheckStatus = "fail"        // the target will not go live unless someone acts
	CheckUnsupported CheckStatus = "unsupported" // the platform's API does not tell, or there is nothing to check
)

// Check is one preflight check of a target. Message says, plainly, what
// was found and what to do; never a secret.
type Check struct {
	Name    string
	Status  CheckStatus
	Message string
	At      time.Time
}

// tokenMargin: a token that would expire within this of the start is
// refreshed at the preflight, not at the go-live.
const tokenMargin = 5 * time.Minute

// renewer refreshes a connection's token now (the connection service).
type renewer interface {
	Renew(ctx context.Context, tenant string, p platform.ID, refused string) (connection.Credentials, error)
}

// nextCheck is when the next scheduled preflight of a scheduled livestream
// is due (zero: none before its start): the first of CheckBefore's times
// after the last preflight. One whose time has passed is due at once.
func nextCheck(ls *Livestream) time.Time {
	if ls.Status != StatusScheduled {
		return time.Time{}
	}
	for _, d := range CheckBefore {
		at := ls.ScheduledStart.Add(-d)
		if ls.CheckedAt.Before(at) {
			return at
		}
	}
	return time.Time{}
}

// checkDue reports whether a scheduled preflight is due at now, before
// the start.
func checkDue(ls *Livestream, now time.Time) bool {
	at := nextCheck(ls)
	return !at.IsZero() && !at.After(now) && now.Before(ls.ScheduledStart)
}

// Check runs the preflight of a livestream now, keeps each target's
// results on it and returns it. Only a livestream that can still go live
// or is live is checked.
func (s *Service) Check(ctx context.Context, tenant, id string) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.Check", err) }()
	for range 3 {
		now := s.now()
		ls, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if ls.claimed(now) {
			return nil, errClaimLost
		}
		switch ls.Status {
		case StatusScheduled, StatusLive:
		default:
			if !(ls.Status == StatusFailed && ls.EndedAt.IsZero()) {
				return nil, apperr.Errorf(apperr.Conflict, apperr.CodeLivestreamOver, "the livestream is %s: there is nothing to check", ls.PublicStatus())
			}
		}
		err = s.preflight(ctx, ls, now)
		if IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return ls, nil
	}
	return nil, errClaimLost
}

// preflight checks every target at once and saves the results with the
// livestream's next due time, when nobody changed it meanwhile (a
// conflict otherwise).
func (s *Service) preflight(ctx context.Context, ls *Livestream, now time.Time) error {
	results := make([][]Check, len(ls.Targets))
	var wg sync.WaitGroup
	for i := range ls.Targets {
		wg.Go(func() { results[i] = s.checkTarget(ctx, ls, &ls.Targets[i], now) })
	}
	wg.Wait()
	for i := range ls.Targets {
		ls.Targets[i].Checks = results[i]
	}
	ls.CheckedAt, ls.UpdatedAt = now, now
	ls.DueAt = s.dueAt(ls, now)
	return s.cfg.Repo.Save(ctx, ls, Guard{Version: ls.Version, Now: now})
}

// checkTarget runs the checks of one target.
func (s *Service) checkTarget(ctx context.Context, ls *Livestream, t *Target, now time.Time) []Check {
	d, _ := registry.Lookup(string(t.Platform))
	name := d.Name
	check := func(n string, st CheckStatus, format string, args ...any) Check {
		return Check{Name: n, Status: st, Message: fmt.Sprintf(format, args...), At: now}
	}
	bc := s.cfg.Broadcasters[t.Platform]
	if bc == nil || t.UserIngest {
		// A key the user pasted (Instagram) has no account Switchboard acts on.
		return []Check{check(CheckConnection, CheckUnsupported, "%s is streamed to with the URL and key you supplied: Switchboard has nothing to check there", name)}
	}
	creds, c := s.checkToken(ctx, ls, t.Platform, name, now)
	out := []Check{c}
	if c.Status == CheckFail {
		return out
	}
	token := creds.Bearer()
	out = append(out, s.checkAccount(ctx, ls, t, bc, token, name, now))
	out = append(out, s.checkEncoder(ctx, ls, t, bc, token, name, now))
	if q, ok := s.checkQuotaOf(ctx, ls, t, name, now); ok {
		out = append(out, q)
	}
	return out
}

// checkToken fetches the connection's token, refreshing it now when it
// would expire before the start has safely passed.
func (s *Service) checkToken(ctx context.Context, ls *Livestream, p platform.ID, name string, now time.Time) (connection.Credentials, Check) {
	c := Check{Name: CheckConnection, At: now}
	creds, err := s.cfg.Tokens.Token(ctx, ls.Tenant, p)
	if err == nil && !creds.Expiry.IsZero() && creds.Expiry.Before(ls.ScheduledStart.Add(tokenMargin)) && creds.RefreshToken != "" {
		if r, ok := s.cfg.Tokens.(renewer); ok {
			creds, err = r.Renew(ctx, ls.Tenant, p, creds.AccessToken)
		}
	}
	if err != nil {
		c.Status, c.Message = CheckFail, fmt.Sprintf("%s cannot be used: %s", name, lastErrorOf(err, now).Message)
		return creds, c
	}
	c.Status, c.Message = CheckPass, fmt.Sprintf("the %s connection has a working token", name)
	if !creds.Expiry.IsZero() {
		c.Message += fmt.Sprintf(", valid until %s", creds.Expiry.UTC().Format(time.RFC3339))
	}
	return creds, c
}

// checkAccount asks the platform about the broadcast (or, before it is set
// up, the account): a refused token, a lost permission (a Facebook Page
// role), streaming turned off (YouTube) or a broadcast gone are failures.
func (s *Service) checkAccount(ctx context.Context, ls *Livestream, t *Target, bc platform.Broadcaster, token, name string, now time.Time) Check {
	c := Check{Name: CheckAccount, At: now}
	var err error
	state := platform.BroadcastReady
	if t.ExternalID != "" {
		b := platform.Broadcast{ExternalID: t.ExternalID, Extra: t.Extra}
		state, err = bc.State(ctx, token, b)
	} else {
		_, err = bc.Whoami(ctx, token)
	}
	if err != nil {
		s.reportExpired(ctx, ls.Tenant, t.Platform, err)
		pe, ok := platform.AsError(err)
		if ok && pe.Retryable() {
			c.Status, c.Message = CheckWarn, fmt.Sprintf("%s could not be asked just now (%s); it is checked again before the start", name, pe.Message)
			return c
		}
		c.Status, c.Message = CheckFail, fmt.Sprintf("%s refused: %s", name, lastErrorOf(err, now).Message)
		if ok && pe.Reason == platform.ReasonExpiredToken {
			c.Message += fmt.Sprintf(" — reconnect %s before the start", name)
		}
		return c
	}
	switch state {
	case platform.BroadcastFailed, platform.BroadcastCancelled:
		c.Status, c.Message = CheckFail, fmt.Sprintf("%s says the broadcast is %s: it cannot go live", name, state)
	case platform.BroadcastEnded:
		c.Status, c.Message = CheckFail, fmt.Sprintf("%s says the broadcast is over already", name)
	default:
		c.Status, c.Message = CheckPass, fmt.Sprintf("%s accepts the account and the broadcast is %s", name, state)
	}
	return c
}

// checkEncoder asks the platform whether the encoder is pushing to the
// target's ingest, where it tells (platform.IngestChecker).
func (s *Service) checkEncoder(ctx context.Context, ls *Livestream, t *Target, bc platform.Broadcaster, token, name string, now time.Time) Check {
	c := Check{Name: CheckEncoder, At: now}
	ic, ok := bc.(platform.IngestChecker)
	if !ok {
		c.Status, c.Message = CheckUnsupported, fmt.Sprintf("Switchboard cannot see the encoder at %s before it is live", name)
		return c
	}
	if t.ExternalID == "" {
		c.Status, c.Message = CheckWarn, fmt.Sprintf("the %s broadcast is not set up yet", name)
		return c
	}
	h, err := ic.IngestHealth(ctx, token, platform.Broadcast{ExternalID: t.ExternalID, Extra: t.Extra})
	switch {
	case err != nil:
		c.Status, c.Message = CheckWarn, fmt.Sprintf("%s could not say how the encoder is doing: %s", name, lastErrorOf(err, now).Message)
	case !h.Pushing:
		c.Status, c.Message = CheckWarn, fmt.Sprintf("the encoder is not pushing to %s yet (%s): start it before %s, or the start fails",
			name, h.Status, ls.ScheduledStart.UTC().Format(time.RFC3339))
	case !h.Healthy:
		c.Status, c.Message = CheckWarn, fmt.Sprintf("the encoder is pushing to %s but %s does not rate it good (%s): check its bitrate and connection", name, name, h.Status)
	default:
		c.Status, c.Message = CheckPass, fmt.Sprintf("the encoder is pushing to %s and it is healthy (%s)", name, h.Status)
	}
	return c
}
