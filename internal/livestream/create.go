package livestream

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Limits a livestream is held to: YouTube's, the strictest of the
// platforms'.
const (
	MaxTitle       = 100  // characters
	MaxDescription = 5000 // bytes
	MaxTargets     = 4    // one per livestream platform
	maxStreamKey   = 512
	// MaxAhead is how far ahead a livestream may be scheduled, and how
	// long after its start it may end: Switchboard's own bound on what is
	// plausible, so a typo in the year is a clear 400, not a broadcast
	// created at every platform for the year 2206.
	MaxAhead = 366 * 24 * time.Hour
)

// CreateInput is a new livestream as a caller asks for it.
type CreateInput struct {
	Title, Description           string
	ScheduledStart, ScheduledEnd time.Time // ScheduledEnd zero: none
	Targets                      []TargetInput
}

// TargetInput is one platform to go out to. RTMPURL and StreamKey are for
// platforms whose API creates no ingest (Instagram): the user copies them
// from the platform. MadeForKids and AutoStop are YouTube's: MadeForKids
// is required there (the audience declaration is the caller's to make,
// never Switchboard's), AutoStop optional (default false, YouTube's own
// default).
type TargetInput struct {
	Platform, Privacy  string
	RTMPURL, StreamKey string
	// Destination is a place Destinations lists for the platform (a
	// Facebook Page id); "" or "me" is the account's own profile.
	Destination string
	MadeForKids *bool
	AutoStop    *bool
}

// UpdateInput changes a scheduled livestream; nil fields stay as they are.
// An empty Description removes it; a zero ScheduledEnd removes the end.
type UpdateInput struct {
	Title          *string
	Description    *string
	ScheduledStart *time.Time
	ScheduledEnd   *time.Time
	// Length, instead of ScheduledEnd, ends the livestream that long after
	// its (new) start; zero removes the end. A series' change applied in
	// place gives it, so an occurrence moved on its own keeps its time.
	Length *time.Duration
}

func invalid(code apperr.Code, format string, args ...any) error {
	return apperr.Errorf(apperr.Invalid, code, format, args...)
}

func unprocessable(code apperr.Code, format string, args ...any) error {
	return apperr.Errorf(apperr.Unprocessable, code, format, args...)
}

func checkTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return "", invalid(apperr.CodeInvalidTitle, "title is required")
	}
	if n := utf8.RuneCountInString(title); n > MaxTitle {
		return "", invalid(apperr.CodeInvalidTitle, "title is %d characters; YouTube takes at most %d", n, MaxTitle)
	}
	return title, nil
}

func checkDescription(d string) error {
	if len(d) > MaxDescription {
		return invalid(apperr.CodeInvalidDescription, "description is %d bytes; at most %d", len(d), MaxDescription)
	}
	return nil
}

// checkSchedule: the start in the future (give or take the grace), the end
// after the start.
func (s *Service) checkSchedule(start, end time.Time, now time.Time, startChanged bool) error {
	if start.IsZero() {
		return invalid(apperr.CodeInvalidSchedule, "scheduledStart is required")
	}
	if startChanged && start.Before(now.Add(-s.cfg.StartGrace)) {
		return unprocessable(apperr.CodeInvalidSchedule, "scheduledStart %s is in the past", start.UTC().Format(time.RFC3339))
	}
	if start.After(now.Add(MaxAhead)) {
		return invalid(apperr.CodeInvalidSchedule, "scheduledStart %s is more than a year ahead; a livestream is scheduled at most a year out", start.UTC().Format(time.RFC3339))
	}
	if !end.IsZero() && !end.After(start) {
		return unprocessable(apperr.CodeInvalidSchedule, "scheduledEnd must be after scheduledStart")
	}
	if end.After(start.Add(MaxAhead)) {
		return invalid(apperr.CodeInvalidSchedule, "scheduledEnd %s is more than a year after scheduledStart", end.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkTargets validates the targets and builds them, with the keys users
// supplied by platform.
func (s *Service) checkTargets(in []TargetInput) ([]Target, map[platform.ID]string, error) {
	if len(in) == 0 || len(in) > MaxTargets {
		return nil, nil, invalid(apperr.CodeInvalidTargets, "a livestream has 1 to %d targets, one per platform; this one has %d", MaxTargets, len(in))
	}
	targets := make([]Target, 0, len(in))
	keys := map[platform.ID]string{}
	seen := map[string]bool{}
	var err error
	for _, ti := range in {
		d, ok := registry.Lookup(ti.Platform)
		switch {
		case !ok:
			return nil, nil, platform.Unknown(apperr.Invalid, ti.Platform)
		case d.Kind != platform.KindLivestream:
			return nil, nil, registry.WrongKind(apperr.Invalid, d, platform.KindLivestream)
		case s.cfg.Broadcasters[d.ID] == nil:
			return nil, nil, unprocessable(apperr.CodePlatformNotConfigured, "%s is not configured here", d.Name)
		case seen[ti.Platform]:
			return nil, nil, invalid(apperr.CodeInvalidTargets, "%s is a target twice: one target per platform", d.Name)
		}
		seen[ti.Platform] = true
		switch ti.Privacy {
		case "", "public", "unlisted", "private":
		default:
			return nil, nil, invalid(apperr.CodeInvalidPrivacy, "privacy of the %s target must be public, unlisted or private", d.Name)
		}
		t := Target{Platform: d.ID, Privacy: ti.Privacy, Status: TargetPending}
		if t.Destination, err = s.checkDestination(d, ti.Destination); err != nil {
			return nil, nil, err
		}
		if err := checkYouTubeChoices(d, ti, &t); err != nil {
			return nil, nil, err
		}
		rtmp, key := strings.TrimSpace(ti.RTMPURL), strings.TrimSpace(ti.StreamKey)
		manual := d.Supports(platform.CapBroadcastManual)
		switch {
		case manual && (rtmp == "" || key == ""):
			return nil, nil, unprocessable(apperr.CodeIngestRequired, "%s: %s", d.Name, d.Notes)
		case !manual && (rtmp != "" || key != ""):
			return nil, nil, unprocessable(apperr.CodeIngestNotAccepted,
				"%s creates its own ingest: rtmpUrl and streamKey are only for platforms whose API cannot (Instagram)", d.Name)
		case manual:
			u, err := url.Parse(rtmp)
			if err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
				return nil, nil, invalid(apperr.CodeInvalidIngest, "the %s rtmpUrl must be an rtmp:// or rtmps:// URL", d.Name)
			}
			if len(key) > maxStreamKey || strings.ContainsAny(key, " \t\r\n") {
				return nil, nil, invalid(apperr.CodeInvalidIngest, "the %s streamKey must be at most %d characters without spaces", d.Name, maxStreamKey)
			}
			t.IngestURL, t.UserIngest = rtmp, true
			keys[d.ID] = key
		}
		targets = append(targets, t)
	}
	return targets, keys, nil
}

// checkYouTubeChoices takes a YouTube target's audience declaration
// (required) and auto-stop choice (default false) onto t, and refuses them
// on any other platform, which has no such setting.
func checkYouTubeChoices(d platform.Descriptor, ti TargetInput, t *Target) error {
	if r, _ := registry.Registration(string(d.ID)); !r.AudienceSettings {
		if ti.MadeForKids != nil || ti.AutoStop != nil {
			return unprocessable(apperr.CodeOptionNotAccepted, "madeForKids and autoStop are YouTube settings; %s takes neither", d.Name)
		}
		return nil
	}
	if ti.MadeForKids == nil {
		// Evidence: PLATFORMS.md YouTube (status.selfDeclaredMadeForKids); COPPA and YouTube's audience setting.
		return invalid(apperr.CodeMadeForKidsRequired, "the YouTube target needs madeForKids (true or false): YouTube requires "+
			"every broadcast to declare whether it is made for kids (COPPA; YouTube's audience setting), which turns off "+
			"comments, personalized ads, notifications and more for its viewers; the declaration is the channel owner's "+
			"legal responsibility, so Switchboard never chooses it")
	}
	kids := *ti.MadeForKids
	t.MadeForKids = &kids
	// YouTube's default is false; true ends the broadcast for good when the
	// encoder drops (PLATFORMS.md YouTube, enableAutoStop).
	t.AutoStop = ti.AutoStop != nil && *ti.AutoStop
	return nil
}

// Create schedules a livestream: it checks the request and that every
// target's platform is connected (changing nothing when either fails),
// stores it, and sets up every target at its platform at once. A target
// the platform refuses is failed with the platform's reason, and retried
// while retrying can help; when every target is refused for good, nothing
// is kept and the refusal is the answer.
func (s *Service) Create(ctx context.Context, tenant, user string, in CreateInput) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.Create", err) }()
	return s.create(ctx, tenant, user, in, "", "")
}

// create is Create with the livestream's id given (a series' occurrence:
// an existing id is a conflict, and nothing is done) or made (id "").
func (s *Service) create(ctx context.Context, tenant, user string, in CreateInput, id, seriesID string) (*Livestream, error) {
	now := s.now()
	if id == "" {
		id = newID(now)
	}
	title, err := checkTitle(in.Title)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := s.checkSchedule(in.ScheduledStart, in.ScheduledEnd, now, true); err != nil {
		return nil, err
	}
	targets, userKeys, err := s.checkTargets(in.Targets)
	if err != nil {
		return nil, err
	}
	creds, err := s.credentials(ctx, tenant, targets)
	if err != nil {
		return nil, err
	}
	s.defaultDestinations(targets, in.Targets, creds)
	if err := s.checkManaged(ctx, targets, creds); err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, targets, in.ScheduledStart.UTC(), now); err != nil {
		return nil, err
	}

	ls := &Livestream{
		Tenant: tenant, ID: id, SeriesID: seriesID, Title: title, Description: in.Description,
		ScheduledStart: in.ScheduledStart.UTC(), Status: StatusScheduled,
		CreatedAt: now, UpdatedAt: now, CreatedBy: user, Targets: targets,
		SealedKeys: map[platform.ID][]byte{},
	}
	if !in.ScheduledEnd.IsZero() {
		ls.ScheduledEnd = in.ScheduledEnd.UTC()
	}
	for p, key := range userKeys {
		sealed, err := s.seal(ctx, ls, p, key)
		if err != nil {
			return nil, err
		}
		ls.SealedKeys[p] = sealed
	}
	// Stored first, under this request's claim, so that nothing set up at a
	// platform is ever unrecorded: if this request dies, the scheduler
	// finishes the set-up when the claim runs out.
	owner := newOwner()
	ls.ClaimOwner, ls.ClaimUntil = owner, now.Add(s.cfg.Lease)
	ls.DueAt = ls.ClaimUntil
	s.reserveQuota(ctx, ls)
	if err := s.cfg.Repo.Create(ctx, ls); err != nil {
		for i := range ls.Targets {
			s.releaseQuota(ctx, ls, &ls.Targets[i], 0) // nothing was stored: nothing is scheduled
		}
		return nil, err
	}
	if err := s.drive(ctx, ls, owner, now, creds); err != nil {
		return nil, err
	}
	if refusal := refusedEverywhere(ls); refusal != nil {
		wctx, cancel := writeContext(ctx)
		defer cancel()
		if err := s.cfg.Repo.Delete(wctx, ls.Tenant, ls.ID, owner); err != nil {
			return nil, err
		}
		for i := range ls.Targets {
			s.releaseQuota(ctx, ls, &ls.Targets[i], 0)
		}
		return nil, refusal
	}
	if err := s.release(ctx, ls, owner, now); err != nil {
		return nil, err
	}
	return ls, nil
}

// credentials fetches every target's credentials; a platform that is not
// connected (or whose connection expired) fails the whole request with a
// conflict naming each such target.
func (s *Service) credentials(ctx context.Context, tenant string, targets []Target) (map[platform.ID]connection.Credentials, error) {
	out := map[platform.ID]connection.Credentials{}
	var missing []map[string]string
	var details []string
	for _, t := range targets {
		c, err := s.cfg.Tokens.Token(ctx, tenant, t.Platform)
		if err == nil {
			out[t.Platform] = c
			continue
		}
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.Conflict {
			return nil, err
		}
		missing = append(missing, map[string]string{"platform": string(t.Platform), "code": string(e.Code), "detail": e.Detail})
		details = append(details, e.Detail)
	}
	if len(missing) > 0 {
		e := apperr.E(apperr.Conflict, apperr.CodeTargetNotConnected, "not every target can be used: "+strings.Join(details, "; "))
		e.Fields = map[string]any{"targets": missing}
		return nil, e
	}
	return out, nil
}

// refusedEverywhere is the answer when no target could be set up and
// none will be retried, and nothing was left at any platform; nil
// otherwise.
func refusedEverywhere(ls *Livestream) error {
	var refused []map[string]string
	var details []string
	for _, t := range ls.Targets {
		if t.Status != TargetFailed || t.retrying() || t.ExternalID != "" {
			return nil
		}
		refused = append(refused, map[string]string{"platform": string(t.Platform), "code": t.LastError.Code, "message": t.LastError.Message})
		details = append(details, fmt.Sprintf("%s: %s", t.Platform, t.LastError.Message))
	}
	kind, code := apperr.Unprocessable, apperr.CodeTargetsRefused
	if allExpired(ls.Targets) {
		kind, code = apperr.Conflict, apperr.CodeConnectionExpired
	}
	e := apperr.E(kind, code, "no target could be set up, so nothing was scheduled: "+strings.Join(details, "; "))
	e.Fields = map[string]any{"targets": refused}
	return e
}

func allExpired(ts []Target) bool {
	for _, t := range ts {
		if t.LastError == nil || t.LastError.Code != string(platform.ReasonExpiredToken) {
			return false
		}
	}
	return true
}

// Update changes the title, description or schedule of a livestream that
// is still scheduled, then takes the change to every target's platform
// that can take one (platform.Updater). The change is saved first, under
// a claim of this request (so no run starts or changes the livestream
// meanwhile, and a change or cancellation through the API answers
// livestream_busy), and a platform that refuses or fails never undoes it:
// each target's PlatformUpdate says whether its platform has the change,
// in part, not at all and why, or cannot take one (Restream, Instagram).
// The scheduler follows the new schedule either way (see the package doc).
func (s *Service) Update(ctx context.Context, tenant, id string, in UpdateInput) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.Update", err) }()
	if in.Title == nil && in.Description == nil && in.ScheduledStart == nil && in.ScheduledEnd == nil && in.Length == nil {
		return nil, invalid(apperr.CodeInvalidBody, "name at least one of title, description, scheduledStart and scheduledEnd")
	}
	for range 3 {
		now := s.now()
		ls, err := s.Get(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if err := changeable(ls, now, "changed"); err != nil {
			return nil, err
		}
		if in.Title != nil {
			if ls.Title, err = checkTitle(*in.Title); err != nil {
				return nil, err
			}
		}
		descriptionRemoved := false
		if in.Description != nil {
			if err := checkDescription(*in.Description); err != nil {
				return nil, err
			}
			descriptionRemoved = *in.Description == "" && ls.Description != ""
			ls.Description = *in.Description
		}
		startChanged := in.ScheduledStart != nil && !in.ScheduledStart.Equal(ls.ScheduledStart)
		if in.ScheduledStart != nil {
			ls.ScheduledStart = in.ScheduledStart.UTC()
		}
		switch {
		case in.ScheduledEnd != nil:
			ls.ScheduledEnd = time.Time{}
			if !in.ScheduledEnd.IsZero() {
				ls.ScheduledEnd = in.ScheduledEnd.UTC()
			}
		case in.Length != nil:
			ls.ScheduledEnd = time.Time{}
			if *in.Length > 0 {
				ls.ScheduledEnd = ls.ScheduledStart.Add(*in.Length)
			}
		}
		if err := s.checkSchedule(ls.ScheduledStart, ls.ScheduledEnd, now, startChanged); err != nil {
			return nil, err
		}
		ls.UpdatedAt = now
		// Saved with this request's claim, so that the platforms are told
		// while nothing else changes it; if this request dies, the claim
		// runs out and the scheduler carries on with the saved change.
		owner := newOwner()
		ls.ClaimOwner, ls.ClaimUntil = owner, now.Add(s.cfg.Lease)
		ls.DueAt = ls.ClaimUntil
		before := slices.Clone(ls.Targets)
		if startChanged {
			// The reserve moves to the new start's day first, so what is
			// saved says where it is; a conflict below moves it back.
			s.moveQuota(ctx, ls, ls.ScheduledStart)
		}
		err = s.cfg.Repo.Save(ctx, ls, Guard{Version: ls.Version, Now: now})
		if err != nil && startChanged {
			for i := range ls.Targets {
				if b := before[i]; b.QuotaReserved > 0 {
					s.moveQuotaOf(ctx, ls, &ls.Targets[i], b.QuotaReservedFor)
				}
			}
		}
		if IsConflict(err) {
			continue // changed meanwhile: look again
		}
		if err != nil {
			return nil, err
		}
		s.tellPlatforms(ctx, ls, now, startChanged, descriptionRemoved)
		if err := s.release(ctx, ls, owner, now); err != nil {
			return nil, err
		}
		return ls, nil
	}
	return nil, errClaimLost
}

// changeable: only a scheduled livestream that no run holds is changed,
// started or cancelled through the API.
func changeable(ls *Livestream, now time.Time, what string) error {
	if ls.claimed(now) {
		return errClaimLost
	}
	if ls.Status != StatusScheduled {
		return apperr.Errorf(apperr.Conflict, apperr.CodeLivestreamNotScheduled, "the livestream is %s: only a scheduled livestream can be %s", ls.PublicStatus(), what)
	}
	return nil
}

// Start starts a scheduled livestream now, as the scheduler would at its
// scheduled start.
func (s *Service) Start(ctx context.Context, tenant, id string) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.Start", err) }()
	return s.transition(ctx, tenant, id, StatusStarting, func(ls *Livestream, now time.Time) error {
		return changeable(ls, now, "started")
	})
}

// End ends a live livestream now, as the scheduler would at its scheduled
// end.
func (s *Service) End(ctx context.Context, tenant, id string) (_ *Livestream, err error) {
	defer func() { err = apperr.WithOp("livestream.End", err) }()
	return s.transition(ctx, tenant, id, StatusEnding, func(ls *Livestream, now time.Time) error {
		if ls.claimed(now) {
			return errClaimLost
		}
		if ls.Status != StatusLive {
			return apperr.Errorf(apperr.Conflict, apperr.CodeLivestreamNotLive, "the livestream is %s: only a live livestream can be ended", ls.PublicStatus())
		}
		return nil
	})
}

// Cancel cancels a livestream at every platform: live targets are ended,
// the others cancelled. A platform that fails is recorded on its target and
// retried; the livestream is cancelled regardless and never starts.
func (s *Service) Cancel(ctx context.Context, tenant, id string) (err error) {
	defer func() { err = apperr.WithOp("livestream.Cancel", err) }()
	_, err = s.transition(ctx, tenant, id, StatusCancelled, func(ls *Livestream, now time.Time) error {
		if ls.claimed(now) {
			return errClaimLost
		}
		switch {
		case ls.Status == StatusScheduled || ls.Status == StatusLive:
			return nil
		case ls.Status == StatusFailed && ls.EndedAt.IsZero():
			return nil
		}
		return apperr.Errorf(apperr.Conflict, apperr.CodeLivestreamOver, "the livestream is already %s", ls.PublicStatus())
	})
	return err
}

// transition moves a livestream to phase for a caller of the API, when
// allowed says it may, and does the work the phase asks of its targets.
func (s *Service) transition(ctx context.Context, tenant, id string, phase Status, allowed func(*Livestream, time.Time) error) (*Livestream, error) {
	now := s.now()
	ls, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if err := allowed(ls, now); err != nil {
		return nil, err
	}
	owner, err := s.claim(ctx, ls, phase, now)
	if IsConflict(err) {
		return nil, errClaimLost // another run or request got there first
	}
	if err != nil {
		return nil, err
	}
	if err := s.drive(ctx, ls, owner, now, nil); err != nil {
		return nil, err
	}
	if err := s.release(ctx, ls, owner, now); err != nil {
		return nil, err
	}
	return ls, nil
}
