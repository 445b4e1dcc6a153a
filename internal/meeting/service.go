package meeting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/series"
	"github.com/switchboard-dev/switchboard/internal/trunc"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Repo is the meeting storage the service needs.
type Repo interface {
	// Create stores a new meeting; an id already taken is an error.
	Create(ctx context.Context, m *Meeting) error
	// Get reads one of the tenant's meetings; none is a NotFound error.
	Get(ctx context.Context, tenant, id string) (*Meeting, error)
	// List pages through the tenant's meetings, newest first.
	List(ctx context.Context, tenant, cursor string, limit int) ([]*Meeting, string, error)
	// SetTarget replaces the meeting's target t.Platform with t when the
	// stored target's status is from and, with whileOpen, the meeting is
	// not cancelled. Otherwise it changes nothing and returns an error
	// wrapping ErrChanged. Sealed links in t are written; links stored
	// before are never removed.
	SetTarget(ctx context.Context, tenant, id string, t Target, from TargetStatus, whileOpen bool) error
	// Change records a change of the meeting's details: it writes m's
	// title, start, duration and time zone, its Revision, and
	// ChangingUntil, when the stored meeting exists, is not cancelled,
	// has revision m.Revision-1 and no change running at now (its
	// ChangingUntil not after now). Otherwise it changes nothing and
	// returns an error wrapping ErrChanged.
	Change(ctx context.Context, m *Meeting, now time.Time) error
	// EndChange clears ChangingUntil if the meeting is still at revision
	// rev; otherwise it does nothing.
	EndChange(ctx context.Context, tenant, id string, rev int) error
	// Cancel sets the meeting's cancelledAt to at unless it is set, and
	// returns the meeting as it is then; none is a NotFound error.
	Cancel(ctx context.Context, tenant, id string, at time.Time) (*Meeting, error)
}

// Connections gives a tenant's platform credentials: the connection
// service.
type Connections interface {
	Token(ctx context.Context, tenant string, p platform.ID) (connection.Credentials, error)
	ReportUnauthorized(ctx context.Context, tenant string, p platform.ID, message string) error
}

// Clients are the meeting platforms' clients.
type Clients interface {
	// Meeter is the client of a platform that is the same for every
	// tenant: zoom, google-meet, microsoft-teams, and jitsi's public rooms.
	Meeter(p platform.ID) (platform.Meeter, bool)
	// JaaS is a Jitsi client that signs with a tenant's 8x8 JaaS
	// credentials (AppID, KeyID, PrivateKey).
	JaaS(creds connection.Credentials) (platform.Meeter, error)
}

// Config is what a Service is built from.
type Config struct {
	Repo        Repo
	Connections Connections
	Clients     Clients
	Vault       vault.Sealer
	// Series keeps recurring meetings; nil: none are offered.
	Series SeriesRepo
	Logger *slog.Logger
	Now    func() time.Time

	CallTimeout  time.Duration // bounds one platform call (20 s; the HTTP function has 29)
	StalePending time.Duration // a target pending longer was abandoned by a crashed create (2 min)
}

// Service is the meetings capability.
type Service struct {
	cfg    Config
	series *series.Engine[CreateInput] // nil when cfg.Series is
}

// New builds a Service, filling defaults.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 20 * time.Second
	}
	if cfg.StalePending == 0 {
		cfg.StalePending = 2 * time.Minute
	}
	s := &Service{cfg: cfg}
	if cfg.Series != nil {
		s.series = s.seriesEngine()
	}
	return s
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// writeTimeout bounds recording one outcome. Outcomes are recorded even
// when the request's context has ended: a meeting made at a platform must
// not be forgotten because the caller went away.
const writeTimeout = 5 * time.Second

// plan is how one target will be created.
type plan struct {
	platform platform.ID
	meeter   platform.Meeter
	token    string
	// secretJoin: the join link is a credential (8x8 JaaS), kept sealed.
	secretJoin bool
	// err: no usable credentials or client; the target fails with it.
	err error
}

// Create validates a meeting request, stores the meeting and creates it on
// every target at once (see the package comment).
func (s *Service) Create(ctx context.Context, tenant, user string, in CreateInput) (_ *Meeting, err error) {
	defer func() { err = apperr.WithOp("meeting.Create", err) }()
	return s.create(ctx, tenant, user, in, "", "")
}

// create is Create of the meeting id (a new one when ""), an occurrence
// of the series seriesID when that is not "". A meeting id that exists
// already is a conflict (series.IsConflict): nothing is called.
func (s *Service) create(ctx context.Context, tenant, user string, in CreateInput, id, seriesID string) (*Meeting, error) {
	now := s.now()
	sp, err := validate(in, now)
	if err != nil {
		return nil, err
	}
	plans := s.plans(ctx, tenant, sp.platforms)
	var wg sync.WaitGroup
	if err := notConnected(plans); err != nil {
		return nil, err
	}
	if id == "" {
		if id, err = NewID(now); err != nil {
			return nil, apperr.Wrap(apperr.Internal, apperr.CodeInternalError, "", fmt.Errorf("meeting id: %w", err))
		}
	}
	m := &Meeting{Tenant: tenant, ID: id, SeriesID: seriesID, Title: sp.title, Start: sp.start, Duration: sp.duration, TimeZone: sp.timeZone,
		CreatedBy: user, CreatedAt: now}
	for _, pl := range plans {
		t := Target{Platform: pl.platform, Status: TargetPending, UpdatedAt: now}
		if pl.err != nil {
			t.Status, t.LastError = TargetFailed, lastErrorOf(pl.err, now)
			s.logFailure("meeting target not created", m, pl.platform, pl.err)
		}
		m.Targets = append(m.Targets, t)
	}
	if err := s.cfg.Repo.Create(ctx, m); err != nil {
		return nil, err
	}
	errs := make([]error, len(plans))
	for i, pl := range plans {
		if pl.err == nil {
			wg.Go(func() { errs[i] = s.createAt(ctx, m, pl) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	s.logOutcome("meeting created", out)
	return out, nil
}

// logOutcome logs a meeting's id, status and each target's status (never
// a link).
func (s *Service) logOutcome(msg string, m *Meeting) {
	attrs := []any{slog.String("meeting_id", m.ID), slog.String("status", string(m.Status))}
	for _, t := range m.Targets {
		attrs = append(attrs, slog.String("target_"+string(t.Platform), string(t.Status)))
	}
	s.cfg.Logger.Info(msg, attrs...)
}

// prepare finds a target's credentials and client. A platform that needs
// no account (Jitsi) makes public rooms without a connection, or connected
// without credentials; connected with a key it signs (JaaS).
func (s *Service) prepare(ctx context.Context, tenant string, p platform.ID) plan {
	pl := plan{platform: p}
	creds, err := s.cfg.Connections.Token(ctx, tenant, p)
	if d, _ := registry.Lookup(string(p)); d.Accepts(platform.AuthNone) {
		switch {
		case err == nil && len(creds.Secret) > 0:
			pl.meeter, pl.err = s.cfg.Clients.JaaS(creds)
			pl.secretJoin = true
			return pl
		case err == nil || errors.Is(err, connection.ErrNotConnected) || errors.Is(err, connection.ErrNoCredentials):
			err = nil // public rooms need no account
		}
	}
	if err != nil {
		pl.err = err
		return pl
	}
	m, ok := s.cfg.Clients.Meeter(p)
	if !ok {
		pl.err = apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "no %s client is configured here", p)
		return pl
	}
	pl.meeter, pl.token = m, creds.Bearer()
	return pl
}

// plans prepares every platform's target at once.
func (s *Service) plans(ctx context.Context, tenant string, ps []platform.ID) []plan {
	plans := make([]plan, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { plans[i] = s.prepare(ctx, tenant, p) })
	}
	wg.Wait()
	return plans
}

// notConnected refuses a meeting when a target's connection cannot be
// used (apperr Conflict from the connection service): the user must
// connect or reconnect first, so nothing is created anywhere.
func notConnected(plans []plan) error {
	var names, details []string
	for _, pl := range plans {
		if pl.err == nil || !apperr.Is(pl.err, apperr.Conflict) {
			continue
		}
		names = append(names, string(pl.platform))
		e, _ := apperr.As(pl.err)
		details = append(details, e.Detail)
	}
	if len(names) == 0 {
		return nil
	}
	e := apperr.E(apperr.Conflict, apperr.CodeTargetNotConnected, strings.Join(details, "; ")+". Nothing was created.")
	e.Fields = map[string]any{"platforms": names}
	return e
}

// createAt creates the meeting at one target and records the outcome.
func (s *Service) createAt(ctx context.Context, m *Meeting, pl plan) error {
	spec := platform.MeetingSpec{Title: m.Title, Start: m.Start, Duration: m.Duration, TimeZone: m.TimeZone,
		RequestID: m.ID + ":" + string(pl.platform)}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	made, err := pl.meeter.CreateMeeting(cctx, pl.token, spec)
	cancel()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	now := s.now()
	// A failure may still name what the platform made (a Calendar event
	// whose conference is not ready): keep its id, so DELETE removes it.
	t := Target{Platform: pl.platform, ExternalID: made.ExternalID, Extra: made.Extra, UpdatedAt: now}
	if err != nil {
		t.Status, t.LastError = TargetFailed, lastErrorOf(err, now)
		s.logFailure("meeting target not created", m, pl.platform, err)
		s.reportUnauthorized(wctx, m.Tenant, pl.platform, err)
	} else {
		t.Status = TargetReady
		s.keepLinks(wctx, m, &t, made, pl.secretJoin)
	}
	err = s.record(wctx, m, t, TargetPending, true)
	if errors.Is(err, ErrChanged) {
		return s.createdWhileCancelled(wctx, m, t)
	}
	return err
}

// keepLinks puts the links in t: the host link always sealed, the join
// link sealed when it is a credential and plain otherwise. A link that
// cannot be sealed is not kept; without its join link a target is of no
// use, so it fails.
func (s *Service) keepLinks(ctx context.Context, m *Meeting, t *Target, made platform.Meeting, secretJoin bool) {
	if made.HostURL != "" {
		env, err := s.cfg.Vault.Seal(ctx, []byte(made.HostURL), LinkContext(m.Tenant, t.Platform, m.ID, LinkHost))
		if err != nil {
			s.logFailure("sealing a host link failed", m, t.Platform, err)
			t.LastError = &LastError{Code: "seal_failed", Message: "the host link could not be stored encrypted, so it was not kept", At: t.UpdatedAt}
		}
		t.SealedHost = env
	}
	if !secretJoin {
		t.JoinURL = made.JoinURL
		return
	}
	env, err := s.cfg.Vault.Seal(ctx, []byte(made.JoinURL), LinkContext(m.Tenant, t.Platform, m.ID, LinkJoin))
	if err != nil {
		s.logFailure("sealing a join link failed", m, t.Platform, err)
		t.Status = TargetFailed
		t.LastError = &LastError{Code: "seal_failed", Message: "the join link could not be stored encrypted, so it was not kept; create the meeting again", At: t.UpdatedAt}
		return
	}
	t.SealedJoin = env
}

// createdWhileCancelled handles an outcome that could not be recorded
// because the meeting was cancelled meanwhile: what was made is deleted
// again, and the target says so.
func (s *Service) createdWhileCancelled(ctx context.Context, m *Meeting, t Target) error {
	cur, err := s.cfg.Repo.Get(ctx, m.Tenant, m.ID)
	if err != nil {
		return err
	}
	stored, ok := cur.Target(t.Platform)
	if !ok || (stored.Status != TargetPending && stored.Status != TargetCancelled) {
		return nil // recorded by another writer; nothing of ours to add
	}
	if t.ExternalID != "" {
		t = s.deleteAt(ctx, m, t)
	} else if t.Status == TargetReady {
		t.Status = TargetCancelled // a Jitsi room: nothing to delete
	}
	return s.record(ctx, m, t, stored.Status, false)
}

// record writes a target's outcome, retrying a store that is briefly
// unavailable. An outcome that still cannot be written is logged with its
// external id (never a link), so an operator can find what was made.
func (s *Service) record(ctx context.Context, m *Meeting, t Target, from TargetStatus, whileOpen bool) error {
	var err error
	for attempt := range 3 {
		err = s.cfg.Repo.SetTarget(ctx, m.Tenant, m.ID, t, from, whileOpen)
		if err == nil || errors.Is(err, ErrChanged) || !apperr.Is(err, apperr.Unavailable) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	if err != nil && !errors.Is(err, ErrChanged) {
		s.cfg.Logger.Error("recording a meeting target failed", slog.String("meeting_id", m.ID), slog.String("platform", string(t.Platform)),
			slog.String("target_status", string(t.Status)), slog.String("external_id", t.ExternalID), slog.String("error", err.Error()))
	}
	return err
}

// Get reads one of the tenant's meetings, with its JaaS join links opened.
func (s *Service) Get(ctx context.Context, tenant, id string) (_ *Meeting, err error) {
	defer func() { err = apperr.WithOp("meeting.Get", err) }()
	if !ValidID(id) {
		return nil, notFound(id)
	}
	m, err := s.cfg.Repo.Get(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.openJoinLinks(ctx, m); err != nil {
		return nil, err
	}
	m.Status = m.StatusAt(s.now())
	return m, nil
}

// listOpenConcurrency bounds the vault calls of one page.
const listOpenConcurrency = 8

// listFilterRounds bounds the pages one filtered list reads to fill its
// page; past it the page is short and its cursor goes on.
const listFilterRounds = 20

// List pages through the tenant's meetings, newest first; with a status,
// only those whose status (StatusAt now) is it. A status no meeting can
// have is Invalid. A status is computed from the targets and the clock,
// so the filter reads pages until its page is full.
func (s *Service) List(ctx context.Context, tenant string, status Status, cursor string, limit int) (_ []*Meeting, _ string, err error) {
	defer func() { err = apperr.WithOp("meeting.List", err) }()
	if status != "" && !slices.Contains(Statuses, status) {
		names := make([]string, len(Statuses))
		for i, st := range Statuses {
			names[i] = string(st)
		}
		return nil, "", apperr.Errorf(apperr.Invalid, apperr.CodeInvalidQuery, "status must be one of %s", strings.Join(names, ", "))
	}
	now := s.now()
	var list []*Meeting
	for round := 1; ; round++ {
		page, next, err := s.cfg.Repo.List(ctx, tenant, cursor, limit-len(list))
		if err != nil {
			return nil, "", err
		}
		for _, m := range page {
			if m.Status = m.StatusAt(now); status == "" || m.Status == status {
				list = append(list, m)
			}
		}
		cursor = next
		if status == "" || len(list) == limit || next == "" || round == listFilterRounds {
			break
		}
	}
	errs := make([]error, len(list))
	sem := make(chan struct{}, listOpenConcurrency)
	var wg sync.WaitGroup
	for i, m := range list {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = s.openJoinLinks(ctx, m)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, "", err
	}
	return list, cursor, nil
}

// openJoinLinks fills JoinURL of targets whose join link is sealed.
func (s *Service) openJoinLinks(ctx context.Context, m *Meeting) error {
	for i := range m.Targets {
		t := &m.Targets[i]
		if len(t.SealedJoin) == 0 {
			continue
		}
		pt, err := s.cfg.Vault.Open(ctx, t.SealedJoin, LinkContext(m.Tenant, t.Platform, m.ID, LinkJoin))
		if err != nil {
			if errors.Is(err, vault.ErrKeyring) {
				return apperr.Wrap(apperr.Unavailable, apperr.CodeVaultUnavailable, "the meeting's links cannot be decrypted right now; try again shortly", err)
			}
			return apperr.Wrap(apperr.Internal, apperr.CodeOpenFailed, "", fmt.Errorf("meeting %s %s join link: %w", m.ID, t.Platform, err))
		}
		t.JoinURL = string(pt)
	}
	return nil
}

// Cancel cancels a meeting at every platform (see the package comment).
func (s *Service) Cancel(ctx context.Context, tenant, id string) (err error) {
	defer func() { err = apperr.WithOp("meeting.Cancel", err) }()
	if !ValidID(id) {
		return notFound(id)
	}
	m, err := s.cfg.Repo.Get(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	now := s.now()
	if m.CancelledAt.IsZero() {
		if m.StatusAt(now) == StatusEnded {
			return apperr.Errorf(apperr.Conflict, apperr.CodeMeetingEnded, "the meeting ended at %s; there is nothing left to cancel", m.End().Format(time.RFC3339))
		}
		if m, err = s.cfg.Repo.Cancel(ctx, tenant, id, now); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return notFound(id)
			}
			return err
		}
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CallTimeout+writeTimeout)
	defer cancel()
	errs := make([]error, len(m.Targets))
	var wg sync.WaitGroup
	for i, t := range m.Targets {
		from := t.Status
		switch {
		case t.Status == TargetPending && now.Sub(m.CreatedAt) < s.cfg.StalePending:
			// Its create is still running: it sees the cancellation when
			// it records the outcome, and deletes what it made.
		case t.Status == TargetPending:
			t.Status, t.UpdatedAt = TargetCancelled, now
			t.Note = "its creation never finished (Switchboard stopped before the platform answered); if " +
				nameOf(t.Platform) + " shows this meeting, delete it there"
			wg.Go(func() { errs[i] = s.record(wctx, m, t, from, false) })
		case t.Status == TargetCancelled || t.ExternalID == "":
			// Cancelled already, or it failed before anything was made.
		default:
			wg.Go(func() { errs[i] = s.record(wctx, m, s.deleteAt(wctx, m, t), from, false) })
		}
	}
	wg.Wait()
	for i, err := range errs {
		if errors.Is(err, ErrChanged) {
			errs[i] = nil // another writer recorded this target meanwhile
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.cfg.Logger.Info("meeting cancelled", slog.String("meeting_id", m.ID))
	return nil
}

// deleteAt deletes a target's meeting at its platform and returns the
// target as it is then: cancelled, or unchanged with lastError. A
// platform whose API cannot delete a meeting is not called.
func (s *Service) deleteAt(ctx context.Context, m *Meeting, t Target) Target {
	d, _ := registry.Lookup(string(t.Platform))
	if !d.Supports(platform.CapMeetingDelete) {
		t.Status, t.UpdatedAt, t.Note = TargetCancelled, s.now(), noDeleteNote(d)
		return t
	}
	creds, err := s.cfg.Connections.Token(ctx, m.Tenant, t.Platform)
	if err == nil {
		meeter, ok := s.cfg.Clients.Meeter(t.Platform)
		deleter, canDelete := meeter.(platform.MeetingDeleter)
		switch {
		case !ok:
			err = apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "no %s client is configured here", t.Platform)
		case !canDelete:
			// The capability is derived from the client's type, so this is
			// a client configured here unlike the registration's: it has no
			// delete call, as for a platform without the capability.
			t.Status, t.UpdatedAt, t.Note = TargetCancelled, s.now(), noDeleteNote(d)
			return t
		default:
			dctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
			err = deleter.DeleteMeeting(dctx, creds.Bearer(), platform.Meeting{ExternalID: t.ExternalID, Extra: t.Extra})
			cancel()
			s.reportUnauthorized(ctx, m.Tenant, t.Platform, err)
		}
	}
	t.UpdatedAt = s.now()
	if err != nil {
		s.logFailure("meeting target not deleted", m, t.Platform, err)
		t.LastError = lastErrorOf(err, t.UpdatedAt)
		return t
	}
	t.Status, t.LastError = TargetCancelled, nil
	return t
}

// noDeleteNote says why a target was cancelled without a call.
func noDeleteNote(d platform.Descriptor) string {
	if r, _ := registry.Registration(string(d.ID)); r.NoDeleteNote != "" {
		return r.NoDeleteNote
	}
	return d.Name + "'s API has no call that deletes a meeting, so nothing was sent"
}

// reportUnauthorized tells the connection service that the platform
// refused a token it had just given: the connection is then expired.
func (s *Service) reportUnauthorized(ctx context.Context, tenant string, p platform.ID, err error) {
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonExpiredToken {
		return
	}
	if rerr := s.cfg.Connections.ReportUnauthorized(ctx, tenant, p, pe.Message); rerr != nil {
		s.cfg.Logger.Warn("reporting a refused token failed", slog.String("platform", string(p)), slog.String("error", rerr.Error()))
	}
}

func (s *Service) logFailure(msg string, m *Meeting, p platform.ID, err error) {
	s.cfg.Logger.Warn(msg, slog.String("meeting_id", m.ID), slog.String("platform", string(p)),
		slog.String("reason", reasonOf(err)), slog.String("error", err.Error()))
}

func reasonOf(err error) string {
	if r := platform.ReasonOf(err); r != "" {
		return string(r)
	}
	if e, ok := apperr.As(err); ok {
		return string(e.Code)
	}
	return "internal_error"
}

// lastErrorOf is what a target shows of a failure: the platform's reason
// and words, or Switchboard's code and detail.
func lastErrorOf(err error, at time.Time) *LastError {
	if pe, ok := platform.AsError(err); ok {
		code, msg := string(pe.Reason), pe.Message
		if code == "" {
			code = "platform_error"
		}
		if msg == "" {
			msg = fmt.Sprintf("%s could not %s", nameOf(pe.Platform), pe.Op)
		}
		if pe.Reason == platform.ReasonExpiredToken {
			msg += " (the connection is now expired: reconnect the account)"
		}
		return &LastError{Code: code, Message: trunc.String(msg, 500), At: at}
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.Internal && e.Detail != "" {
		return &LastError{Code: string(e.Code), Message: trunc.String(e.Detail, 500), At: at}
	}
	return &LastError{Code: "internal_error", Message: "Switchboard failed on its side; its logs name the cause by meeting id", At: at}
}

// nameOf is a platform's name for messages.
func nameOf(p platform.ID) string {
	if d, ok := registry.Lookup(string(p)); ok {
		return d.Name
	}
	return string(p)
}

func notFound(id string) error {
	return apperr.Errorf(apperr.NotFound, apperr.CodeMeetingNotFound, "there is no meeting %q", trunc.String(id, 40))
}
