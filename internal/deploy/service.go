package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Repo is the storage the service needs (internal/store implements it).
type Repo interface {
	// LoadWindow reads the user's window of the named rate limit
	// (LimitDeployments or LimitRollbacks; one consistent read).
	LoadWindow(ctx context.Context, tenant, limit, user string) (ratelimit.State, error)
	// PutFiles stores a files deployment's archive pieces, before the
	// deployment itself; they expire on their own.
	PutFiles(ctx context.Context, tenant, id string, chunks [][]byte, expires time.Time) error
	// Accept writes the deployment, queued, and commits the decision of
	// its window (LimitOf(d)) in one transaction; a moved window is
	// ratelimit.ErrContended. The write is the hand-off: its INSERT on the
	// table's stream starts the worker.
	Accept(ctx context.Context, d *Deployment, st ratelimit.State, dec ratelimit.Decision, period time.Duration) error
	Get(ctx context.Context, tenant, id string) (*Deployment, error)
	List(ctx context.Context, tenant string, f ListFilter, cursor string, limit int) ([]*Deployment, string, error)
	Logs(ctx context.Context, tenant, id, cursor string, limit int) (LogPage, error)
	// Cancel ends a deployment that is queued or building as canceled; a
	// Conflict when it has ended already.
	Cancel(ctx context.Context, tenant, id string, now time.Time) (*Deployment, error)
}

// Connections is what the service and the worker need of the connections
// capability (*connection.Service).
type Connections interface {
	Get(ctx context.Context, tenant, platformID string) (*connection.Connection, error)
	Token(ctx context.Context, tenant string, platformID platform.ID) (connection.Credentials, error)
	// Renew gives credentials to retry with after the platform refused
	// the token: refreshed now where they can be.
	Renew(ctx context.Context, tenant string, platformID platform.ID, refused string) (connection.Credentials, error)
	// ConfirmRefusal asks the platform whether the credentials still
	// work after a refusal repeated with fresh ones: accepted means the
	// refusal was about the resource; otherwise the connection is marked
	// expired.
	ConfirmRefusal(ctx context.Context, tenant string, platformID platform.ID, message string) (accepted bool, err error)
}

// Config is what a Service is built from.
type Config struct {
	Repo        Repo
	Connections Connections
	Vault       vault.Sealer
	Deployers   map[platform.ID]platform.Deployer
	// Limit is the per-user sliding window (MAX_DEPLOYMENTS_PER_HOUR in an
	// hour by default).
	Limit ratelimit.Window
	// RollbackLimit is the per-user sliding window of rollbacks
	// (MAX_ROLLBACKS_PER_HOUR in an hour by default), apart from Limit:
	// a rollback repairs a broken site, so the deployments it took to
	// break it never stand in its way.
	RollbackLimit ratelimit.Window
	// Timeout is how long a deployment may run (DEPLOYMENT_TIMEOUT_MS).
	Timeout time.Duration
	// MaxFileBytes bounds the decoded size of a deployment's files; the
	// route's body limit already bounds it, this says so plainly.
	MaxFileBytes int64
	// QueueGrace is how long a queued deployment waits for the stream to
	// hand it to the worker before the sweep does.
	QueueGrace time.Duration
	// FilesKeptFor is how long the stored files outlive acceptance.
	FilesKeptFor time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
}

// Defaults.
const (
	DefaultMaxPerHour = 10
	// DefaultMaxRollbacksPerHour is generous: a rollback is how a user
	// repairs a site; the bound only stops a runaway client.
	DefaultMaxRollbacksPerHour = 60
	DefaultTimeout             = 300 * time.Second
	DefaultMaxFileBytes        = 5 << 20
	DefaultQueueGrace          = 2 * time.Minute
	DefaultFilesKept           = 7 * 24 * time.Hour
)

// The rate limits a deployment is accepted under, by name.
const (
	LimitDeployments = "deployments"
	LimitRollbacks   = "rollbacks"
)

// LimitOf names the rate limit d is accepted under: rollbacks have their
// own.
func LimitOf(d *Deployment) string {
	if d.Source == SourceRollback {
		return LimitRollbacks
	}
	return LimitDeployments
}

// Service is the deployments capability: acceptance under the rate limit,
// reading, cancel, rollback and name checks. The worker runs what it
// accepts.
type Service struct {
	cfg       Config
	taker     ratelimit.Taker
	rollbacks ratelimit.Taker // RollbackLimit's
}

// New builds a Service, filling defaults.
func New(cfg Config) *Service {
	if cfg.Limit.Limit <= 0 {
		cfg.Limit.Limit = DefaultMaxPerHour
	}
	if cfg.Limit.Period <= 0 {
		cfg.Limit.Period = time.Hour
	}
	if cfg.RollbackLimit.Limit <= 0 {
		cfg.RollbackLimit.Limit = DefaultMaxRollbacksPerHour
	}
	if cfg.RollbackLimit.Period <= 0 {
		cfg.RollbackLimit.Period = time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.QueueGrace <= 0 {
		cfg.QueueGrace = DefaultQueueGrace
	}
	if cfg.FilesKeptFor <= 0 {
		cfg.FilesKeptFor = DefaultFilesKept
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg}
	s.taker = ratelimit.Taker{Window: cfg.Limit, Now: s.now}
	s.rollbacks = ratelimit.Taker{Window: cfg.RollbackLimit, Now: s.now}
	return s
}

// Identity is the caller.
type Identity struct {
	Tenant string
	User   string
}

// now is the service's clock, in milliseconds: the precision the rate
// limit's window is stored in.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// Limits is the caller's rate limit now, from one read.
func (s *Service) Limits(ctx context.Context, who Identity) (_ ratelimit.Decision, err error) {
	defer func() { err = apperr.WithOp("deploy.Limits", err) }()
	st, err := s.cfg.Repo.LoadWindow(ctx, who.Tenant, LimitDeployments, who.User)
	if err != nil {
		return ratelimit.Decision{}, err
	}
	return s.cfg.Limit.Check(st, s.now()), nil
}

// Create validates a deployment, checks that the platform is connected,
// and accepts it under the caller's rate limit: the deployment item,
// queued, is written in the same transaction that records the acceptance
// in the window, and that write hands it to the worker. The decision is
// also returned when it refused (the error is then RateLimited).
func (s *Service) Create(ctx context.Context, who Identity, req Request) (_ *Deployment, _ ratelimit.Decision, err error) {
	defer func() { err = apperr.WithOp("deploy.Create", err) }()
	spec, _, source, err := s.validate(req, s.cfg.MaxFileBytes)
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	p := platform.ID(req.Platform)
	conn, err := s.connected(ctx, who.Tenant, p)
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	if err := checkWorkspace(conn, req.WorkspaceID); err != nil {
		return nil, ratelimit.Decision{}, err
	}
	// The decision's first read, before anything is written: a caller past
	// the limit is refused with nothing stored.
	st, err := s.cfg.Repo.LoadWindow(ctx, who.Tenant, LimitDeployments, who.User)
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	now := s.now()
	if pre := s.cfg.Limit.Decide(st, now); !pre.Allowed {
		return nil, pre, s.limited(pre, LimitDeployments)
	}
	d := &Deployment{
		ID: NewID(now), Tenant: who.Tenant, User: who.User, Platform: p, ProjectName: spec.ProjectName, Source: source,
		Repo: spec.Repo, Branch: spec.Branch, Image: spec.Image, Database: spec.Database, Status: StatusQueued,
		Build: req.Build, WorkspaceID: req.WorkspaceID,
	}
	if len(spec.Env) > 0 {
		raw, err := json.Marshal(spec.Env)
		if err != nil {
			return nil, ratelimit.Decision{}, fmt.Errorf("deploy: encoding env: %w", err)
		}
		if d.SealedEnv, err = s.cfg.Vault.Seal(ctx, raw, EnvContext(d)); err != nil {
			return nil, ratelimit.Decision{}, fmt.Errorf("deploy: sealing env: %w", err)
		}
	}
	if source == SourceFiles {
		chunks, set, err := packFiles(spec.Files)
		if err != nil {
			return nil, ratelimit.Decision{}, err
		}
		d.Files = set
		// Stored before the deployment: when the deployment's INSERT
		// reaches the worker, its files are there. Refused or abandoned
		// requests leave pieces that expire.
		if err := s.cfg.Repo.PutFiles(ctx, d.Tenant, d.ID, chunks, now.Add(s.cfg.FilesKeptFor)); err != nil {
			return nil, ratelimit.Decision{}, err
		}
	}
	dec, err := s.accept(ctx, d, st)
	if err != nil {
		return nil, dec, err
	}
	return d, dec, nil
}

// accept runs the rate-limit decision from st and commits d with it.
func (s *Service) accept(ctx context.Context, d *Deployment, st ratelimit.State) (ratelimit.Decision, error) {
	taker := s.taker
	if LimitOf(d) == LimitRollbacks {
		taker = s.rollbacks
	}
	load := func(ctx context.Context) (ratelimit.State, error) {
		return s.cfg.Repo.LoadWindow(ctx, d.Tenant, LimitOf(d), d.User)
	}
	commit := func(ctx context.Context, st ratelimit.State, dec ratelimit.Decision) error {
		at := dec.At
		d.CreatedAt, d.UpdatedAt = at, at
		d.Deadline = at.Add(s.cfg.Timeout)
		d.DueAt = at.Add(s.cfg.QueueGrace)
		return s.cfg.Repo.Accept(ctx, d, st, dec, taker.Window.Period)
	}
	dec, err := taker.Take(ctx, st, load, commit)
	if err != nil {
		return dec, err
	}
	if !dec.Allowed {
		return dec, s.limited(dec, LimitOf(d))
	}
	s.cfg.Logger.Info("deployment accepted", slog.String("deployment", d.ID), slog.String("platform", string(d.Platform)),
		slog.String("source", string(d.Source)), slog.Int("remaining", dec.Remaining))
	return dec, nil
}

// limited is the 429 for a refused decision of the named limit.
func (s *Service) limited(dec ratelimit.Decision, limit string) error {
	e := apperr.Errorf(apperr.RateLimited, apperr.CodeRateLimited,
		"at most %d %s are accepted per user in any hour; the next slot frees up at %s",
		dec.Limit, limit, dec.ResetAt.UTC().Format(time.RFC3339))
	e.RetryAfter = dec.RetryAfter
	return e
}

// connected checks that the tenant's connection to the platform is usable
// now, from the stored connection (no platform call), and returns it: 409
// otherwise.
func (s *Service) connected(ctx context.Context, tenant string, p platform.ID) (*connection.Connection, error) {
	d, _ := registry.Lookup(string(p))
	c, err := s.cfg.Connections.Get(ctx, tenant, string(p))
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeNotConnected, "%s is not connected; connect it first", d.Name)
	}
	if err != nil {
		return nil, err
	}
	switch c.Status {
	case connection.StatusConnected:
		return c, nil
	case connection.StatusExpired:
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeConnectionExpired, "the %s connection has expired; reconnect it", d.Name)
	case connection.StatusDisconnected:
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeNotConnected, "%s is disconnected; connect it first", d.Name)
	default:
		return nil, apperr.Errorf(apperr.Conflict, apperr.CodeConnectionError, "the %s connection is in error; reconnect it", d.Name)
	}
}

// checkWorkspace holds a named workspace to the ones the connection
// records, where it records any (Railway): a deployment goes only where
// the connection may act.
func checkWorkspace(c *connection.Connection, ws string) error {
	if ws == "" || len(c.Workspaces) == 0 {
		return nil
	}
	ids := make([]string, len(c.Workspaces))
	for i, w := range c.Workspaces {
		if w.ID == ws {
			return nil
		}
		ids[i] = w.ID
	}
	return invalid(apperr.CodeInvalidWorkspace, "workspaceId %q is not one this %s connection may use: use one of %s (GET /connections/%s lists them)",
		clip(ws), c.Platform, strings.Join(ids, ", "), c.Platform)
}

// EnvContext binds a deployment's sealed environment to its tenant,
// platform and id.
func EnvContext(d *Deployment) vault.EncryptionContext {
	return vault.Context(d.Tenant, string(d.Platform), vault.PurposeEnvVars, d.ID)
}

// DatabaseURLContext binds a deployment's sealed DATABASE_URL likewise.
func DatabaseURLContext(d *Deployment) vault.EncryptionContext {
	return vault.Context(d.Tenant, string(d.Platform), vault.PurposeDatabaseURL, d.ID)
}

// notFound is the one answer for an unknown deployment and another
// tenant's.
func notFound() error {
	return apperr.E(apperr.NotFound, apperr.CodeDeploymentNotFound, "no such deployment")
}

// Get reads one of the tenant's deployments.
func (s *Service) Get(ctx context.Context, tenant, id string) (_ *Deployment, err error) {
	defer func() { err = apperr.WithOp("deploy.Get", err) }()
	if !validID(id) {
		return nil, notFound()
	}
	d, err := s.cfg.Repo.Get(ctx, tenant, id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound()
	}
	return d, err
}

// List pages through the tenant's deployments that f matches, newest
// first. A filter value that no deployment can have is Invalid.
func (s *Service) List(ctx context.Context, tenant string, f ListFilter, cursor string, limit int) (_ []*Deployment, _ string, err error) {
	defer func() { err = apperr.WithOp("deploy.List", err) }()
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		names := make([]string, len(Statuses))
		for i, st := range Statuses {
			names[i] = string(st)
		}
		return nil, "", invalid(apperr.CodeInvalidQuery, "status must be one of %s", strings.Join(names, ", "))
	}
	if f.Platform != "" {
		if d, ok := registry.Lookup(string(f.Platform)); !ok || d.Kind != platform.KindDeploy {
			return nil, "", invalid(apperr.CodeInvalidQuery, "platform must be one of %s", strings.Join(s.deployPlatforms(), ", "))
		}
	}
	if utf8Len(f.ProjectName) > MaxProjectName {
		return nil, "", invalid(apperr.CodeInvalidQuery, "projectName is at most %d characters", MaxProjectName)
	}
	return s.cfg.Repo.List(ctx, tenant, f, cursor, limit)
}

// logItemsPerPage bounds a log page: each item holds up to
// maxLinesPerItem lines.
const logItemsPerPage = 10

// Logs is a page of a deployment's log after cursor ("" for the start).
func (s *Service) Logs(ctx context.Context, tenant, id, cursor string) (_ LogPage, err error) {
	defer func() { err = apperr.WithOp("deploy.Logs", err) }()
	if _, err := s.Get(ctx, tenant, id); err != nil {
		return LogPage{}, err
	}
	return s.cfg.Repo.Logs(ctx, tenant, id, cursor, logItemsPerPage)
}

// Cancel stops a deployment. A queued one is canceled before any worker
// starts it (a rollback too; a rollback that has started is 409). A building one is canceled at the platform first when it has
// a platform deployment there (a platform that says it has already
// finished makes this a 409, and the worker records how it ended); the
// worker notices the cancellation at its next write and cancels at the
// platform whatever it started meanwhile. An ended deployment is 409.
func (s *Service) Cancel(ctx context.Context, tenant, id string) (_ *Deployment, err error) {
	defer func() { err = apperr.WithOp("deploy.Cancel", err) }()
	d, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if d.Status.Terminal() {
		return nil, ended(d)
	}
	if d.Status == StatusBuilding && d.Source == SourceRollback {
		// One platform call that may have been made already: saying
		// canceled could be untrue.
		return nil, apperr.E(apperr.Conflict, apperr.CodeRollbackInProgress, "a rollback cannot be canceled once it has started; it ends in moments")
	}
	if d.Status == StatusBuilding && d.Progress.DeploymentID != "" {
		if err := s.cancelAtPlatform(ctx, d); err != nil {
			return nil, err
		}
	}
	out, err := s.cfg.Repo.Cancel(ctx, tenant, id, s.now())
	if apperr.Is(err, apperr.Conflict) {
		// It ended meanwhile.
		if cur, gerr := s.Get(ctx, tenant, id); gerr == nil {
			return nil, ended(cur)
		}
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("deployment canceled", slog.String("deployment", id), slog.String("was", string(d.Status)))
	return out, nil
}

func ended(d *Deployment) error {
	return apperr.Errorf(apperr.Conflict, apperr.CodeDeploymentEnded, "the deployment has already ended (%s)", d.Status)
}

func (s *Service) cancelAtPlatform(ctx context.Context, d *Deployment) error {
	dep, ok := s.cfg.Deployers[d.Platform]
	if !ok {
		return apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "deployments to %s are not configured here", d.Platform)
	}
	return s.withToken(ctx, d.Tenant, d.Platform, func(token string, _ connection.Credentials) error {
		err := dep.Cancel(ctx, token, d.Progress)
		if pe, ok := platform.AsError(err); ok && !pe.Retryable() && pe.Reason != platform.ReasonExpiredToken {
			// The platform will not cancel it: it has finished, most
			// likely. The worker records how it ended.
			e := apperr.Wrap(apperr.Conflict, apperr.CodeCancelRefused, fmt.Sprintf("%s did not cancel it: %s", d.Platform, pe.Message), err)
			e.Fields = map[string]any{"platform": string(d.Platform), "reason": string(pe.Reason)}
			return e
		}
		return err
	})
}

// withToken calls fn with the tenant's token for the platform. A token the
// platform refuses is renewed once and fn tried again; refused again, the
// connection is marked expired only if the platform will not say who the
// account is either. Platform failures become what a caller should see.
func (s *Service) withToken(ctx context.Context, tenant string, p platform.ID, fn func(token string, creds connection.Credentials) error) error {
	creds, err := s.cfg.Connections.Token(ctx, tenant, p)
	if err != nil {
		return err
	}
	err = fn(creds.Bearer(), creds)
	if pe, ok := platform.AsError(err); ok && pe.Reason == platform.ReasonExpiredToken {
		// One refusal does not condemn a connection: renew the token once
		// and try again, as the worker does (PLATFORMS.md Railway, "Refresh
		// once and retry"; an access token may also simply have died early).
		fresh, rerr := s.cfg.Connections.Renew(ctx, tenant, p, creds.Bearer())
		switch {
		case rerr != nil:
			s.cfg.Logger.Warn("renewing a refused token failed", slog.String("platform", string(p)), slog.String("error", rerr.Error()))
		case fresh.Bearer() != creds.Bearer():
			err = fn(fresh.Bearer(), fresh)
		}
	}
	if err == nil {
		return nil
	}
	if _, isApp := apperr.As(err); isApp {
		return err
	}
	pe, ok := platform.AsError(err)
	if !ok {
		return err
	}
	if pe.Reason == platform.ReasonExpiredToken {
		// The connection is expired only when the platform refuses to say
		// who the account is too; otherwise the refusal was about what the
		// call acted on (Railway's "Not Authorized" means either).
		accepted, cerr := s.cfg.Connections.ConfirmRefusal(ctx, tenant, p, pe.Message)
		if cerr != nil {
			s.cfg.Logger.Warn("checking a connection after a refusal failed", slog.String("platform", string(p)), slog.String("error", cerr.Error()))
		}
		if accepted {
			denied := *pe
			denied.Reason = platform.ReasonPermission
			err = &denied
		}
	}
	e := platform.ToAppError(err)
	if ae, ok := apperr.As(e); ok && ae.Kind == apperr.Unprocessable {
		// A refusal on the merits here is the platform's failure to do
		// what the route promises, not the caller's input.
		ae.Kind = apperr.Upstream
	}
	return e
}

// Rollback makes deployment id, which must have become ready, the
// platform's current deployment again. It is a new deployment (source
// rollback) run by the worker, accepted under the rollbacks' own generous
// limit (RollbackLimit), never the deployments' one: a user who spent
// their deployments breaking a site can always repair it. Its
// platformDeploymentId is the one rolled back to.
func (s *Service) Rollback(ctx context.Context, who Identity, id string) (_ *Deployment, _ ratelimit.Decision, err error) {
	defer func() { err = apperr.WithOp("deploy.Rollback", err) }()
	target, err := s.Get(ctx, who.Tenant, id)
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	desc, _ := registry.Lookup(string(target.Platform))
	switch {
	case target.Status != StatusReady || target.PlatformDeploymentID == "":
		return nil, ratelimit.Decision{}, apperr.Errorf(apperr.Conflict, apperr.CodeNotRollbackable,
			"only a deployment that became ready can be rolled back to; this one is %s", target.Status)
	case !desc.Supports(platform.CapDeployRollback):
		return nil, ratelimit.Decision{}, apperr.Errorf(apperr.Conflict, apperr.CodeRollbackUnsupported, "%s cannot roll back through its API", desc.Name)
	}
	if _, ok := s.cfg.Deployers[target.Platform]; !ok {
		return nil, ratelimit.Decision{}, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "deployments to %s are not configured here", desc.Name)
	}
	if _, err := s.connected(ctx, who.Tenant, target.Platform); err != nil {
		return nil, ratelimit.Decision{}, err
	}
	st, err := s.cfg.Repo.LoadWindow(ctx, who.Tenant, LimitRollbacks, who.User)
	if err != nil {
		return nil, ratelimit.Decision{}, err
	}
	now := s.now()
	if pre := s.cfg.RollbackLimit.Decide(st, now); !pre.Allowed {
		return nil, pre, s.limited(pre, LimitRollbacks)
	}
	progress := target.Progress
	progress.DeploymentID = target.PlatformDeploymentID
	d := &Deployment{
		ID: NewID(now), Tenant: who.Tenant, User: who.User, Platform: target.Platform, ProjectName: target.ProjectName,
		Source: SourceRollback, RollbackOf: target.ID, RollbackTo: target.PlatformDeploymentID, Status: StatusQueued,
		Progress: progress, URL: target.URL, WorkspaceID: target.WorkspaceID,
	}
	dec, err := s.accept(ctx, d, st)
	if err != nil {
		return nil, dec, err
	}
	return d, dec, nil
}

// Availability is whether a project name is free at the platform.
type Availability struct {
	Name       string
	Available  bool
	Suggestion string
}

// CheckName asks the platform, through the tenant's connection, whether a
// project may take the name there: in workspace when one is named (it must
// be one the connection may use, as for Create), else in the connection's
// default scope.
func (s *Service) CheckName(ctx context.Context, tenant, platformID, name, workspace string) (_ Availability, err error) {
	defer func() { err = apperr.WithOp("deploy.CheckName", err) }()
	d, ok := registry.Lookup(platformID)
	switch {
	case !ok:
		return Availability{}, platform.Unknown(apperr.NotFound, platformID)
	case d.Kind != platform.KindDeploy:
		return Availability{}, registry.WrongKind(apperr.NotFound, d, platform.KindDeploy)
	}
	if strings.TrimSpace(name) == "" || utf8Len(name) > MaxProjectName {
		return Availability{}, invalid(apperr.CodeInvalidQuery, "name is required, at most %d characters", MaxProjectName)
	}
	dep, ok := s.cfg.Deployers[d.ID]
	if !ok {
		return Availability{}, apperr.Errorf(apperr.NotImplemented, apperr.CodePlatformNotConfigured, "deployments to %s are not configured here", d.Name)
	}
	if workspace != "" {
		conn, err := s.connected(ctx, tenant, d.ID)
		if err != nil {
			return Availability{}, err
		}
		if err := checkWorkspace(conn, workspace); err != nil {
			return Availability{}, err
		}
	}
	out := Availability{Name: name}
	err = s.withToken(ctx, tenant, d.ID, func(token string, creds connection.Credentials) error {
		scope := workspace
		if scope == "" {
			scope = teamOf(creds)
		}
		var err error
		out.Available, out.Suggestion, err = dep.CheckName(ctx, token, scope, name)
		return err
	})
	return out, err
}

// teamOf is the account scope a connection acts in by default (Vercel's
// team, Railway's default workspace).
func teamOf(creds connection.Credentials) string { return creds.Extra[connection.ExtraTeam] }

func utf8Len(s string) int { return len([]rune(s)) }
