package livestream

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// tellPlatforms takes a saved change of ls (held under this request's
// claim) to every target's platform at once and records on each target
// what became of it (Target.PlatformUpdate). A platform that fails never
// undoes the change: its target says why, and the same change sent again
// tries again. startMoved and descriptionRemoved say what the change did.
func (s *Service) tellPlatforms(ctx context.Context, ls *Livestream, now time.Time, startMoved, descriptionRemoved bool) {
	var wg sync.WaitGroup
	for i := range ls.Targets {
		t := &ls.Targets[i]
		wg.Go(func() {
			t.PlatformUpdate = s.tellPlatform(ctx, ls, t, now, startMoved, descriptionRemoved)
			t.PlatformUpdate.At = now
			t.UpdatedAt = now
		})
	}
	wg.Wait()
}

// tellPlatform takes the change to t's platform and says what became of
// it.
func (s *Service) tellPlatform(ctx context.Context, ls *Livestream, t *Target, now time.Time, startMoved, descriptionRemoved bool) *PlatformUpdate {
	p := t.Platform
	name := string(p)
	if d, ok := registry.Lookup(name); ok {
		name = d.Name
	}
	up, ok := s.cfg.Broadcasters[p].(platform.Updater)
	switch {
	case !ok:
		return &PlatformUpdate{Status: UpdateUnsupported, Message: registry.NoLivestreamUpdateNote(p)}
	case t.Status != TargetReady || t.ExternalID == "":
		return &PlatformUpdate{Status: UpdateNotSetUp, Message: fmt.Sprintf(
			"nothing is set up at %s yet: it is set up with the new title, description and schedule", name)}
	}
	if refusal := s.updateQuotaRefusal(ctx, p, name, now); refusal != nil {
		return refusal
	}
	failed := func(err error) *PlatformUpdate {
		le := lastErrorOf(err, now)
		s.reportExpired(ctx, ls.Tenant, p, err)
		s.cfg.Logger.Warn("a livestream change did not reach its platform", slog.String("tenant", ls.Tenant),
			slog.String("livestream", ls.ID), slog.String("platform", string(p)), slog.String("code", le.Code),
			slog.String("message", le.Message))
		return &PlatformUpdate{Status: UpdateFailed, Code: le.Code, Message: le.Message}
	}
	creds, err := s.cfg.Tokens.Token(ctx, ls.Tenant, p)
	if err != nil {
		return failed(err)
	}
	token := creds.Bearer()
	key, err := s.openKey(ctx, ls, p)
	if err != nil {
		// The key only keeps it out of the platform's error messages here.
		key = ""
	}
	// What the platform was last told may be older than this change: an
	// earlier one that did not reach it, or that it took only in part.
	if prev := t.PlatformUpdate; prev != nil && prev.Status != UpdateApplied {
		startMoved = true
	}
	b := platform.Broadcast{ExternalID: t.ExternalID, WatchURL: t.WatchURL, IngestURL: t.IngestURL, StreamKey: key, Extra: t.Extra}
	kept, err := up.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{
		Title: ls.Title, Description: ls.Description, ScheduledStart: ls.ScheduledStart, ScheduledEnd: ls.ScheduledEnd,
		StartMoved: startMoved, DescriptionRemoved: descriptionRemoved,
	})
	if err != nil {
		return failed(platform.Redact(err, token, key))
	}
	if kept != "" {
		return &PlatformUpdate{Status: UpdatePartial, Message: kept}
	}
	return &PlatformUpdate{Status: UpdateApplied}
}

// updateQuotaRefusal is the answer when a metered platform's quota left
// today cannot pay for the change without eating into what today's
// go-lives reserved: the change is not sent. nil when it can be (or the
// platform is not metered, or its ledger cannot be read: the quota itself
// is the platform's to keep).
func (s *Service) updateQuotaRefusal(ctx context.Context, p platform.ID, name string, now time.Time) *PlatformUpdate {
	q, c, ok, err := s.quotaOf(ctx, p, now)
	if err != nil || !ok || c.Update <= q.Free() {
		return nil
	}
	return &PlatformUpdate{Status: UpdateFailed, Code: string(platform.ReasonQuota), Message: fmt.Sprintf(
		"the change was not sent to %s: its daily API quota (shared by every user of this service) has %d of %d units left "+
			"today, %d of them reserved for the go-lives scheduled before it resets at %s, and a change costs %d; send the "+
			"change again after the reset", name, max(q.Left(), 0), q.Limit, min(q.Reserved, max(q.Left(), 0)),
		q.Reset.UTC().Format(time.RFC3339), c.Update)}
}
