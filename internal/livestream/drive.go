package livestream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// op is what a run does to one target.
type op uint8

const (
	opNone            op = iota
	opProvision          // set it up at the platform
	opProvisionGoLive    // set it up, then make it live (a late target of a started livestream)
	opGoLive             // make it live
	opEnd                // end it at the platform
	opCancel             // cancel it at the platform; it becomes cancelled
	opCleanup            // the livestream ended: cancel what the platform holds, best effort; the target stays failed
	opMarkCancelled      // nothing exists at the platform: it becomes cancelled without a call
)

// opFor is what a run at now does to target t of a livestream in phase
// (its status while the run holds it). Retries wait for their time; the
// work a phase change brings (start, end, cancel) is done at once.
func opFor(phase Status, ls *Livestream, t *Target, now time.Time) op {
	retryDue := t.retrying() && dueBy(t.NextAttemptAt, now)
	switch phase {
	case StatusScheduled:
		switch {
		case t.Status == TargetPending:
			return opProvision
		case t.Status == TargetFailed && t.Step == StepProvision && retryDue:
			return opProvision
		}
	case StatusStarting, StatusLive, StatusFailed:
		if phase == StatusFailed && !ls.EndedAt.IsZero() {
			return opForOver(t, retryDue)
		}
		// Starting tries every target that can still go live now, but one
		// waiting for its platform's quota to reset; afterwards, a failed
		// one waits for its retry.
		tryNow := (phase == StatusStarting && !t.awaitsQuota(now)) || retryDue
		switch {
		case t.Status == TargetPending:
			return opProvisionGoLive
		case t.Status == TargetReady:
			return opGoLive
		case t.Status == TargetFailed && t.Step == StepProvision && t.retrying() && tryNow:
			return opProvisionGoLive
		case t.Status == TargetFailed && t.Step == StepGoLive && t.retrying() && tryNow:
			return opGoLive
		}
	case StatusEnding:
		switch t.Status {
		case TargetLive:
			return opEnd
		case TargetReady:
			return opCancel
		case TargetPending:
			if t.ExternalID == "" {
				return opMarkCancelled
			}
			return opCancel
		case TargetFailed:
			switch {
			case t.Step == StepEnd && t.retrying():
				return opEnd
			case t.Step == StepCancel && t.retrying():
				return opCancel
			case t.Step == StepProvision || t.Step == StepGoLive:
				if t.ExternalID != "" || t.retrying() {
					return opCleanup
				}
			}
		}
	case StatusCancelled:
		switch t.Status {
		case TargetLive:
			return opEnd
		case TargetReady:
			return opCancel
		case TargetPending:
			if t.ExternalID == "" {
				return opMarkCancelled
			}
			return opCancel
		case TargetFailed:
			switch t.Step {
			case StepProvision, StepGoLive:
				if t.ExternalID == "" {
					return opMarkCancelled
				}
				return opCancel
			}
			return opForOver(t, retryDue)
		}
	case StatusEnded:
		return opForOver(t, retryDue)
	}
	return opNone
}

// opForOver: once a livestream is over, only an end or a cancellation
// that failed is tried again, on time.
func opForOver(t *Target, retryDue bool) op {
	if t.Status != TargetFailed || !retryDue {
		return opNone
	}
	switch t.Step {
	case StepEnd:
		return opEnd
	case StepCancel:
		return opCancel
	}
	return opNone
}

// stepOf is the step an op's failure is recorded under.
func stepOf(o op) Step {
	switch o {
	case opProvision, opProvisionGoLive:
		return StepProvision
	case opGoLive:
		return StepGoLive
	case opEnd:
		return StepEnd
	}
	return StepCancel
}

// errClaimLost: another run took the livestream over (this one outlived
// its lease); this run stops.
var errClaimLost = apperr.E(apperr.Conflict, apperr.CodeLivestreamBusy, "the livestream is being changed elsewhere; try again in a moment")

// claim takes the livestream for one run, moving it to next. It is one
// conditional write: of any number of runs that read the same version,
// exactly one wins; the others get a conflict and must do nothing.
func (s *Service) claim(ctx context.Context, ls *Livestream, next Status, now time.Time) (string, error) {
	return s.claimUntil(ctx, ls, next, now, now.Add(s.cfg.Lease))
}

// claimUntil is claim with a lease that lasts until until.
func (s *Service) claimUntil(ctx context.Context, ls *Livestream, next Status, now, until time.Time) (string, error) {
	prev := *ls
	owner := newOwner()
	ls.Status, ls.ClaimOwner, ls.ClaimUntil = next, owner, until
	ls.DueAt = ls.ClaimUntil // if this run dies, the scheduler resumes after the lease
	ls.UpdatedAt = now
	if err := s.cfg.Repo.Save(ctx, ls, Guard{Version: prev.Version, Now: now}); err != nil {
		*ls = prev
		return "", err
	}
	return owner, nil
}

// release writes the livestream's settled status and next due time and
// gives the claim up.
func (s *Service) release(ctx context.Context, ls *Livestream, owner string, now time.Time) error {
	phase := ls.Status
	ls.Status = s.settle(ls, phase, now)
	ls.ClaimOwner, ls.ClaimUntil = "", time.Time{}
	ls.UpdatedAt = now
	ls.DueAt = s.dueAt(ls, now)
	wctx, cancel := writeContext(ctx)
	defer cancel()
	if err := s.cfg.Repo.Save(wctx, ls, Guard{Owner: owner}); err != nil {
		if IsConflict(err) {
			return errClaimLost
		}
		return err
	}
	s.cfg.Logger.Info("livestream moved on", slog.String("tenant", ls.Tenant), slog.String("livestream", ls.ID),
		slog.String("from", string(phase)), slog.String("status", string(ls.Status)))
	return nil
}

// settle is the livestream's status once a run in phase is done with its
// targets (the status rules of the package doc).
func (s *Service) settle(ls *Livestream, phase Status, now time.Time) Status {
	anyLive := false
	for _, t := range ls.Targets {
		if t.Status == TargetLive {
			anyLive = true
		}
	}
	switch phase {
	case StatusStarting, StatusLive, StatusFailed:
		if phase == StatusFailed && !ls.EndedAt.IsZero() {
			return StatusFailed
		}
		if anyLive {
			if ls.StartedAt.IsZero() {
				ls.StartedAt = now
			}
			return StatusLive
		}
		return StatusFailed
	case StatusEnding:
		ls.EndedAt = now
		if ls.StartedAt.IsZero() {
			return StatusFailed // it never went live anywhere
		}
		return StatusEnded
	}
	return phase
}

// dueAt is when the scheduler should next look at the livestream: its
// claim's end, its start or end, or a target's retry; zero when nothing is
// ever due again.
func (s *Service) dueAt(ls *Livestream, now time.Time) time.Time {
	var due time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	if ls.ClaimOwner != "" {
		consider(ls.ClaimUntil)
	}
	switch ls.Status {
	case StatusScheduled:
		consider(ls.ScheduledStart)
		consider(nextCheck(ls))
	case StatusLive:
		consider(ls.ScheduledEnd)
	case StatusFailed:
		if ls.EndedAt.IsZero() {
			consider(ls.ScheduledEnd)
		}
	}
	for i := range ls.Targets {
		t := &ls.Targets[i]
		at := now
		if t.retrying() {
			at = t.NextAttemptAt
		}
		if opFor(ls.Status, ls, t, at) != opNone {
			consider(at)
		}
	}
	return due
}

// plan is what a scheduler run at now does with the livestream: the phase
// to claim it in, or false when nothing is due.
func (s *Service) plan(ls *Livestream, now time.Time) (Status, bool) {
	if ls.claimed(now) {
		return "", false
	}
	if ls.ClaimOwner != "" {
		return ls.Status, true // a run died holding it: resume where it stopped
	}
	switch ls.Status {
	case StatusScheduled:
		if dueBy(ls.ScheduledStart, now) {
			return StatusStarting, true
		}
	case StatusLive:
		if dueBy(ls.ScheduledEnd, now) {
			return StatusEnding, true
		}
	case StatusFailed:
		if ls.EndedAt.IsZero() && dueBy(ls.ScheduledEnd, now) {
			return StatusEnding, true
		}
	}
	for i := range ls.Targets {
		if opFor(ls.Status, ls, &ls.Targets[i], now) != opNone {
			return ls.Status, true
		}
	}
	return "", false
}

// drive does what the livestream's phase asks of each target, all targets
// at once, and records each target's result as soon as it is known (so a
// run that dies is resumed without repeating what was done). creds may
// hold credentials already fetched, by platform.
func (s *Service) drive(ctx context.Context, ls *Livestream, owner string, now time.Time, creds map[platform.ID]connection.Credentials) error {
	type result struct {
		t      Target
		sealed []byte
		err    error
	}
	results := make([]*result, len(ls.Targets))
	var wg sync.WaitGroup
	for i := range ls.Targets {
		o := opFor(ls.Status, ls, &ls.Targets[i], now)
		if o == opNone {
			continue
		}
		c, have := creds[ls.Targets[i].Platform]
		wg.Go(func() {
			r := &result{t: ls.Targets[i]}
			var cp *connection.Credentials
			if have {
				cp = &c
			}
			r.sealed, r.err = s.work(ctx, ls, i, &r.t, o, owner, now, cp)
			results[i] = r
		})
	}
	wg.Wait()
	var lost error
	for i, r := range results {
		if r == nil {
			continue
		}
		ls.Targets[i] = r.t
		if r.sealed != nil {
			if ls.SealedKeys == nil {
				ls.SealedKeys = map[platform.ID][]byte{}
			}
			ls.SealedKeys[r.t.Platform] = r.sealed
		}
		if errors.Is(r.err, errClaimLost) {
			lost = errClaimLost
		}
	}
	return lost
}

// work does op o to target t (a copy of ls.Targets[i]) and records each
// step's result with a write of the target alone, under the claim. It
// returns the newly sealed stream key, if any, and errClaimLost when the
// claim is gone. Other write failures are logged: release writes the
// whole livestream again.
func (s *Service) work(ctx context.Context, ls *Livestream, i int, t *Target, o op, owner string, now time.Time, creds *connection.Credentials) ([]byte, error) {
	var sealedOut []byte
	record := func(sealed []byte) error {
		t.UpdatedAt = now
		wctx, cancel := writeContext(ctx)
		defer cancel()
		err := s.cfg.Repo.SaveTarget(wctx, ls.Tenant, ls.ID, i, t, sealed, owner)
		switch {
		case IsConflict(err):
			return errClaimLost
		case err != nil:
			s.cfg.Logger.Warn("recording a target failed; the run's last write records it", slog.String("livestream", ls.ID),
				slog.String("platform", string(t.Platform)), slog.String("error", err.Error()))
		}
		return nil
	}
	if o == opMarkCancelled {
		// Nothing exists at the platform; a failure that came before stays
		// in LastError.
		t.Status, t.Step, t.Attempts, t.NextAttemptAt = TargetCancelled, "", 0, time.Time{}
		s.releaseQuota(ctx, ls, t, 0)
		return nil, record(nil)
	}
	p := t.Platform
	bc := s.cfg.Broadcasters[p]
	if bc == nil {
		s.fail(ctx, ls, t, stepOf(o), apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "%s is not configured here", p), now)
		return nil, record(nil)
	}
	if creds == nil {
		c, err := s.cfg.Tokens.Token(ctx, ls.Tenant, p)
		if err != nil {
			if o == opCleanup {
				s.cleanedUp(ls, t, err)
				return nil, record(nil)
			}
			s.fail(ctx, ls, t, stepOf(o), err, now)
			return nil, record(nil)
		}
		creds = &c
	}
	token := creds.Bearer()
	key, err := s.openKey(ctx, ls, p)
	if err != nil && (o == opProvision || o == opProvisionGoLive) && t.UserIngest {
		s.fail(ctx, ls, t, StepProvision, err, now)
		return nil, record(nil)
	}
	if err != nil {
		// The key only keeps it out of the platform's error messages here;
		// the call does not need it, and the client redacts the token.
		s.cfg.Logger.Warn("opening a stream key failed", slog.String("livestream", ls.ID), slog.String("platform", string(p)),
			slog.String("error", err.Error()))
		key = ""
	}
	call := func(err error) error { return platform.Redact(err, token, key) }

	if o == opProvision || o == opProvisionGoLive {
		sealed, newKey, err := s.provision(ctx, ls, t, bc, token, key)
		if err != nil {
			s.fail(ctx, ls, t, StepProvision, call(err), now)
			return nil, record(nil)
		}
		if sealed != nil {
			sealedOut, key = sealed, newKey
		}
		s.succeed(t, TargetReady)
		if err := record(sealedOut); err != nil || o == opProvision {
			return sealedOut, err
		}
		o = opGoLive
	}

	b := platform.Broadcast{ExternalID: t.ExternalID, WatchURL: t.WatchURL, IngestURL: t.IngestURL, StreamKey: key, Extra: t.Extra}
	// A go-live or an end is recorded by the run's release, not at once: a
	// successor that repeats it after this run died does no harm (both are
	// harmless to repeat at every platform; see the package doc), and at
	// the second many livestreams are due, one write fewer each keeps the
	// requests on time.
	recordNow := o != opGoLive && o != opEnd
	switch o {
	case opGoLive:
		settle := s.settling(t, quotaCosts(bc).GoLive)
		if err := goLive(platform.WithFromReserve(ctx, settle), bc, token, b); err != nil {
			s.fail(ctx, ls, t, StepGoLive, call(err), now)
		} else {
			s.succeed(t, TargetLive)
			s.settled(ctx, ls, t, settle) // spent now: the ledger counted it
		}
	case opEnd:
		settle := s.settling(t, 0)
		if err := end(platform.WithFromReserve(ctx, settle), bc, token, b); err != nil {
			s.fail(ctx, ls, t, StepEnd, call(err), now)
		} else {
			s.succeed(t, TargetEnded)
			s.settled(ctx, ls, t, settle)
		}
	case opCancel:
		if err := cancelAt(ctx, bc, token, b); err != nil {
			s.fail(ctx, ls, t, StepCancel, call(err), now)
		} else {
			s.succeed(t, TargetCancelled)
			s.releaseQuota(ctx, ls, t, 0)
		}
	case opCleanup:
		var err error
		if t.ExternalID != "" {
			err = call(cancelAt(ctx, bc, token, b))
		}
		s.cleanedUp(ls, t, err)
		s.releaseQuota(ctx, ls, t, 0) // the livestream is over: nothing more is spent for it
	}
	if !recordNow {
		t.UpdatedAt = now
		return sealedOut, nil
	}
	return sealedOut, record(nil)
}

// provision sets target t up at its platform and seals the stream key the
// platform gave, returning it sealed and in the clear (for the calls that
// follow to keep out of errors); nil for an ingest the user supplied, which
// is sealed already. An id the platform gives with a failure is kept: the
// platform holds it.
func (s *Service) provision(ctx context.Context, ls *Livestream, t *Target, bc platform.Broadcaster, token, userKey string) ([]byte, string, error) {
	spec := platform.BroadcastSpec{
		Title: ls.Title, Description: ls.Description,
		ScheduledStart: ls.ScheduledStart, ScheduledEnd: ls.ScheduledEnd,
		Privacy: t.Privacy, RequestID: ls.ID + "/" + string(t.Platform), Destination: t.Destination,
		MadeForKids: t.MadeForKids, AutoStop: t.AutoStop,
	}
	sharedNote := ""
	if t.UserIngest {
		spec.IngestURL, spec.StreamKey = t.IngestURL, userKey
	} else {
		// Another livestream at the same time has the kept ingest: this one
		// gets its own (the platform's one-off stream and key), and the kept
		// one is not read.
		other, err := s.sharesKept(ctx, ls, bc, t.Platform)
		if err != nil {
			return nil, "", err
		}
		if other != nil {
			sharedNote = fmt.Sprintf("another livestream on this account (%s, %q) overlaps this one and streams to the account's kept key; "+
				"one key carries one encoder's picture, so this livestream has its own key, for this time only", other.ID, trunc.String(other.Title, 60))
		} else if spec.Ingest, err = s.keptIngest(ctx, ls.Tenant, bc, t.Platform, token, ls.Title); err != nil {
			return nil, "", err
		}
	}
	b, err := bc.Provision(ctx, token, spec)
	if spec.Ingest != nil && platform.ReasonOf(err) == platform.ReasonNotFound {
		// The platform no longer has the kept ingest (deleted by the user):
		// keep a new one, once. The encoder's key changes this one time.
		s.forgetIngest(ctx, ls.Tenant, t.Platform, spec.Ingest.ID)
		if spec.Ingest, err = s.keptIngest(ctx, ls.Tenant, bc, t.Platform, token, ls.Title); err != nil {
			return nil, "", err
		}
		b, err = bc.Provision(ctx, token, spec)
	}
	if b.ExternalID != "" {
		t.ExternalID = b.ExternalID
	}
	if err != nil {
		return nil, "", platform.Redact(err, b.StreamKey)
	}
	t.WatchURL, t.IngestURL, t.Extra, t.StableKey, t.KeyNote = b.WatchURL, b.IngestURL, b.Extra, b.StableKey, b.KeyNote
	if sharedNote != "" {
		t.StableKey, t.KeyNote = false, sharedNote
	}
	if t.UserIngest {
		return nil, "", nil
	}
	sealed, err := s.seal(ctx, ls, t.Platform, b.StreamKey)
	if err != nil {
		// Without its key the broadcast is of no use: remove it, and try
		// again later.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		_ = cancelAt(cctx, bc, token, b)
		cancel()
		t.ExternalID = ""
		return nil, "", err
	}
	return sealed, b.StreamKey, nil
}

// cleanedUp ends a failed target's story when its livestream is over: no
// more retries, its failure kept. A cancellation that failed is only
// logged: what the platform still holds never goes live.
func (s *Service) cleanedUp(ls *Livestream, t *Target, err error) {
	t.NextAttemptAt = time.Time{}
	if err != nil {
		s.cfg.Logger.Warn("cancelling a failed target after the end failed", slog.String("livestream", ls.ID),
			slog.String("platform", string(t.Platform)), slog.String("error", err.Error()))
	}
}

func (s *Service) succeed(t *Target, st TargetStatus) {
	t.Status, t.Step, t.Attempts, t.NextAttemptAt, t.LastError = st, "", 0, time.Time{}, nil
}

// fail records a failed step on t: its reason, and when to try again while
// retrying can help and attempts remain. A 401 to a token the connection
// service just gave marks the connection expired.
func (s *Service) fail(ctx context.Context, ls *Livestream, t *Target, step Step, err error, now time.Time) {
	if t.Status != TargetFailed || t.Step != step {
		t.Attempts = 0
	}
	t.Status, t.Step = TargetFailed, step
	t.Attempts++
	t.LastError = lastErrorOf(err, now)
	t.NextAttemptAt = time.Time{}
	if retryable(step, err) && t.Attempts < s.cfg.MaxAttempts {
		delay := s.cfg.RetryBase << (t.Attempts - 1)
		if delay > s.cfg.RetryCap || delay <= 0 {
			delay = s.cfg.RetryCap
		}
		if pe, ok := platform.AsError(err); ok && pe.RetryAfter > delay {
			delay = pe.RetryAfter
		}
		t.NextAttemptAt = now.Add(delay)
	}
	s.reportExpired(ctx, ls.Tenant, t.Platform, err)
	s.cfg.Logger.Warn("livestream target failed", slog.String("tenant", ls.Tenant), slog.String("livestream", ls.ID),
		slog.String("platform", string(t.Platform)), slog.String("step", string(step)), slog.String("code", t.LastError.Code),
		slog.String("message", t.LastError.Message), slog.Int("attempts", t.Attempts), slog.Bool("will_retry", !t.NextAttemptAt.IsZero()))
}

// retryable reports whether trying the step again later can help: the
// platform's failure is transient, rate limited or a used-up quota; a
// go-live the platform refuses in the broadcast's current state (YouTube
// until the encoder pushes); the connection is missing or expired (the
// user may reconnect); or a failure of ours.
func retryable(step Step, err error) bool {
	if pe, ok := platform.AsError(err); ok {
		return pe.Retryable() || (step == StepGoLive && pe.Reason == platform.ReasonConflict)
	}
	if e, ok := apperr.As(err); ok {
		switch e.Kind {
		case apperr.Unavailable, apperr.Internal, apperr.Conflict:
			return true
		}
		return false
	}
	return true
}

// lastErrorOf describes a failure for callers: the platform's reason as
// the code and its own words (already redacted), or the domain error's
// code and detail.
func lastErrorOf(err error, now time.Time) *LastError {
	le := &LastError{Code: "internal_error", Message: "something went wrong on our side; it is tried again", At: now}
	if pe, ok := platform.AsError(err); ok {
		le.Code = string(pe.Reason)
		le.Message = pe.Message
		if pe.Op != "" {
			le.Message = fmt.Sprintf("%s: %s", pe.Op, pe.Message)
		}
		return le
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Internal {
		le.Code, le.Message = string(e.Code), e.Detail
	}
	return le
}

// writeContext is for recording what already happened at a platform: it
// outlives a caller who went away, but not by much.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// goLive makes b live where the platform needs a call for it; a platform
// without one (no platform.GoLiver) goes live by itself when the encoder
// pushes, so there is nothing to do.
func goLive(ctx context.Context, bc platform.Broadcaster, token string, b platform.Broadcast) error {
	if g, ok := bc.(platform.GoLiver); ok {
		return g.GoLive(ctx, token, b)
	}
	return nil
}

// end ends b where the platform has a call for it; without one (no
// platform.Ender) the broadcast ends when the encoder stops.
func end(ctx context.Context, bc platform.Broadcaster, token string, b platform.Broadcast) error {
	if e, ok := bc.(platform.Ender); ok {
		return e.End(ctx, token, b)
	}
	return nil
}

// cancelAt cancels b where the platform holds something to cancel; without
// platform.Canceller nothing was created there that outlives the target.
func cancelAt(ctx context.Context, bc platform.Broadcaster, token string, b platform.Broadcast) error {
	if c, ok := bc.(platform.Canceller); ok {
		return c.Cancel(ctx, token, b)
	}
	return nil
}

// reportExpired marks the tenant's connection expired when err is the
// platform refusing its token.
func (s *Service) reportExpired(ctx context.Context, tenant string, p platform.ID, err error) {
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonExpiredToken {
		return
	}
	if rerr := s.cfg.Tokens.ReportUnauthorized(context.WithoutCancel(ctx), tenant, p, pe.Message); rerr != nil {
		s.cfg.Logger.Warn("marking a connection expired failed", slog.String("platform", string(p)), slog.String("error", rerr.Error()))
	}
}
