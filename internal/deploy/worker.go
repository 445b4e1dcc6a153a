package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// WorkerRepo is the storage the worker needs.
type WorkerRepo interface {
	Get(ctx context.Context, tenant, id string) (*Deployment, error)
	// Files reads a files deployment's archive pieces.
	Files(ctx context.Context, tenant, id string, chunks int) ([][]byte, error)
	// Claim takes the deployment for owner until leaseUntil when it is
	// queued, or building under a lease that has expired; it is then
	// building. A Conflict when it has ended or another worker's lease is
	// live; NotFound when there is no such deployment.
	Claim(ctx context.Context, tenant, id, owner string, now, leaseUntil time.Time) (*Deployment, error)
	// Save writes the worker's part of d (status, progress, steps, lease,
	// due time, url, error, log position) and, when lines are given, the
	// log item d.LogSeq holding them, in one write; only while owner holds
	// the lease and the deployment is building in the table: a Conflict
	// otherwise (canceled, or taken over).
	Save(ctx context.Context, d *Deployment, owner string, lines []LogLine) error
	// OwnedProject is the platform project Switchboard made under name for
	// the tenant in scope (the connection's team, "" for its own account),
	// "" when it made none; RecordProject records one.
	OwnedProject(ctx context.Context, tenant string, p platform.ID, scope, name string) (string, error)
	RecordProject(ctx context.Context, tenant string, p platform.ID, scope, name, projectID string) error
}

// WorkerConfig is what a Worker is built from.
type WorkerConfig struct {
	Repo        WorkerRepo
	Connections Connections
	Vault       vault.Sealer
	Deployers   map[platform.ID]platform.Deployer
	// Lease is how long a claim holds without being renewed; a worker that
	// dies is replaced this long after its last write.
	Lease time.Duration
	// PollInterval is the first wait between status polls (and retries);
	// it grows by half each time up to PollMax.
	PollInterval time.Duration
	PollMax      time.Duration
	// DeadlineMargin is how long before its invocation's deadline the
	// worker stops, saves and lets go, so the next pickup resumes.
	DeadlineMargin time.Duration
	// Instance names this process in leases.
	Instance string
	Now      func() time.Time
	// Sleep waits (tests pass one that moves a fake clock).
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Worker defaults.
const (
	DefaultLease          = 60 * time.Second
	DefaultPollInterval   = 2 * time.Second
	DefaultPollMax        = 15 * time.Second
	DefaultDeadlineMargin = 15 * time.Second
)

// Worker runs accepted deployments at their platforms.
type Worker struct{ cfg WorkerConfig }

// NewWorker builds a Worker, filling defaults.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.PollMax < cfg.PollInterval {
		cfg.PollMax = max(DefaultPollMax, cfg.PollInterval)
	}
	if cfg.DeadlineMargin <= 0 {
		cfg.DeadlineMargin = DefaultDeadlineMargin
	}
	if cfg.Instance == "" {
		cfg.Instance = "worker-" + randomHex(4)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = platform.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Outcome is what one Run did.
type Outcome string

const (
	OutcomeEnded   Outcome = "ended"   // the deployment reached a terminal status
	OutcomeSkipped Outcome = "skipped" // not this worker's to run: ended, held by another worker's live lease, or unknown
	OutcomePaused  Outcome = "paused"  // stopped before the invocation's deadline, saved and let go: the next pickup resumes
)

// Run claims deployment id and runs it until it ends or the invocation's
// deadline comes near. It is idempotent: a deployment ended or held by a
// live lease is skipped, so a stream record delivered again does not
// deploy twice, and a deployment another worker left resumes after the
// last step it recorded. The error is only for what could not be recorded
// (the table failed): the caller reports it, and the record comes again.
func (w *Worker) Run(ctx context.Context, tenant, id string) (Outcome, error) {
	log := w.cfg.Logger.With(slog.String("deployment", id))
	if !validID(id) {
		log.Warn("not a deployment id; skipped")
		return OutcomeSkipped, nil
	}
	owner := w.cfg.Instance + "/" + randomHex(6)
	now := w.cfg.Now().UTC()
	d, err := w.cfg.Repo.Claim(ctx, tenant, id, owner, now, now.Add(w.cfg.Lease))
	switch {
	case apperr.Is(err, apperr.NotFound):
		log.Warn("no such deployment; skipped")
		return OutcomeSkipped, nil
	case apperr.Is(err, apperr.Conflict):
		log.Info("ended already or held by another worker; skipped")
		return OutcomeSkipped, nil
	case err != nil:
		return "", fmt.Errorf("deploy: claiming %s: %w", id, err)
	}
	dep, configured := w.cfg.Deployers[d.Platform]
	r := &run{w: w, d: d, owner: owner, dep: dep, log: log.With(slog.String("platform", string(d.Platform)))}
	r.log.Info("deployment claimed", slog.String("status", string(d.Status)), slog.Int("steps_done", len(d.Steps)))
	work := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, dl.Add(-w.cfg.DeadlineMargin))
		defer cancel()
	}
	if !configured {
		return r.failed(work, &finalError{code: "platform_not_configured", message: fmt.Sprintf("deployments to %s are not configured here", d.Platform)})
	}
	return r.execute(work)
}

// run is one claim of one deployment.
type run struct {
	w         *Worker
	d         *Deployment
	owner     string
	dep       platform.Deployer
	log       *slog.Logger
	token     string
	spec      platform.DeploySpec
	secrets   []string // values never to keep in a log line
	refreshed bool     // the token was renewed after a refusal
	logFailed bool     // a failed log read was noted
	lastSave  time.Time
}

// errPaused: the invocation's time is up (or it was stopped).
var errPaused = errors.New("deploy: stopped before the invocation's deadline")

// errLost: the deployment changed under the worker (canceled, or taken
// over after the lease lapsed).
var errLost = errors.New("deploy: the deployment is no longer this worker's")

// errTimedOut: DEPLOYMENT_TIMEOUT_MS has passed.
var errTimedOut = errors.New("deploy: the deployment's time is up")

// finalError ends a deployment in error with a code and a message safe to
// show.
type finalError struct{ code, message string }

func (e *finalError) Error() string { return e.code + ": " + e.message }

func (r *run) now() time.Time { return r.w.cfg.Now().UTC() }

func (r *run) pastDeadline() bool { return !r.now().Before(r.d.Deadline) }

func (r *run) execute(ctx context.Context) (Outcome, error) {
	if r.pastDeadline() {
		return r.timeOut(ctx)
	}
	if err := r.fetchToken(ctx); err != nil {
		return r.failed(ctx, err)
	}
	if r.d.Source == SourceRollback {
		return r.rollback(ctx)
	}
	if err := r.loadSpec(ctx); err != nil {
		return r.failed(ctx, err)
	}
	for _, step := range buildSteps {
		if r.d.Done(step) {
			continue
		}
		if err := r.attempt(ctx, "step "+string(step), func(ctx context.Context) error { return r.runStep(ctx, step) }); err != nil {
			return r.failed(ctx, err)
		}
		r.d.markDone(step)
		if err := r.save(ctx, nil); err != nil {
			return r.failed(ctx, err)
		}
		r.log.Info("step done", slog.String("step", string(step)))
	}
	return r.poll(ctx)
}

// fetchToken reads the tenant's credentials for the platform (refreshed
// by the connections service when they are about to expire).
func (r *run) fetchToken(ctx context.Context) error {
	creds, err := r.w.cfg.Connections.Token(ctx, r.d.Tenant, r.d.Platform)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.Conflict {
			return &finalError{code: string(e.Code), message: e.Detail}
		}
		return err
	}
	r.useCredentials(creds)
	return nil
}

// useCredentials takes the token and the account scope to act in: the
// workspace the deployment names, else the connection's default.
func (r *run) useCredentials(creds connection.Credentials) {
	r.token = creds.Bearer()
	r.spec.TeamID = r.d.WorkspaceID
	if r.spec.TeamID == "" {
		r.spec.TeamID = teamOf(creds)
	}
	r.addSecret(r.token)
	r.addSecret(creds.APIKey)
	r.addSecret(creds.AccessToken)
}

func (r *run) addSecret(s string) {
	if len(s) >= 6 {
		r.secrets = append(r.secrets, s)
	}
}

// loadSpec rebuilds the platform spec from the deployment: its sealed
// environment, the sealed DATABASE_URL of a database already provisioned,
// and the files when a step still needs them.
func (r *run) loadSpec(ctx context.Context) error {
	d := r.d
	r.spec.ProjectName, r.spec.Repo, r.spec.Branch, r.spec.Image, r.spec.Database = d.ProjectName, d.Repo, d.Branch, d.Image, d.Database
	if b := d.Build; b != nil {
		b.apply(&r.spec)
	}
	r.spec.Env = map[string]string{}
	if len(d.SealedEnv) > 0 {
		raw, err := r.w.cfg.Vault.Open(ctx, d.SealedEnv, EnvContext(d))
		if err != nil {
			return fmt.Errorf("deploy: opening the environment: %w", err)
		}
		if err := json.Unmarshal(raw, &r.spec.Env); err != nil {
			return &finalError{code: "internal_error", message: "the stored environment variables cannot be read"}
		}
		for _, v := range r.spec.Env {
			r.addSecret(v)
		}
	}
	if len(d.SealedDatabaseURL) > 0 {
		raw, err := r.w.cfg.Vault.Open(ctx, d.SealedDatabaseURL, DatabaseURLContext(d))
		if err != nil {
			return fmt.Errorf("deploy: opening the database URL: %w", err)
		}
		r.addDatabaseURL(string(raw))
	}
	if d.Source == SourceFiles && !d.Done(StepStart) {
		chunks, err := r.w.cfg.Repo.Files(ctx, d.Tenant, d.ID, d.Files.Chunks)
		if apperr.Is(err, apperr.NotFound) {
			return &finalError{code: "files_unavailable", message: "the deployment's files are no longer stored"}
		}
		if err != nil {
			return err
		}
		files, err := unpackFiles(chunks, d.Files)
		if err != nil {
			return &finalError{code: "files_unavailable", message: "the deployment's stored files are damaged"}
		}
		r.spec.Files = files
	}
	return nil
}

// addDatabaseURL gives the application its database as DATABASE_URL,
// unless the caller set DATABASE_URL itself.
func (r *run) addDatabaseURL(url string) {
	r.addSecret(url)
	if _, set := r.spec.Env["DATABASE_URL"]; !set {
		r.spec.Env["DATABASE_URL"] = url
	}
}

// ensureProject runs EnsureProject with the project Switchboard made under
// the name before (its record, so that a client adopts no project the user
// made), and records the project the step settled on.
func (r *run) ensureProject(ctx context.Context, p *platform.DeployProgress) error {
	d := r.d
	owned, err := r.w.cfg.Repo.OwnedProject(ctx, d.Tenant, d.Platform, r.spec.TeamID, d.ProjectName)
	if err != nil {
		return fmt.Errorf("deploy: reading the projects made under %q: %w", d.ProjectName, err)
	}
	r.spec.OwnedProjectID = owned
	if err := r.dep.EnsureProject(ctx, r.token, r.spec, p); err != nil {
		return err
	}
	if p.ProjectID == "" || p.ProjectID == owned {
		return nil
	}
	if err := r.w.cfg.Repo.RecordProject(ctx, d.Tenant, d.Platform, r.spec.TeamID, d.ProjectName, p.ProjectID); err != nil {
		return fmt.Errorf("deploy: recording project %q: %w", d.ProjectName, err)
	}
	return nil
}

// runStep runs one step at the platform; the deployer records what it
// made in the progress, which save keeps.
func (r *run) runStep(ctx context.Context, step Step) error {
	p := &r.d.Progress
	switch step {
	case StepProject:
		return r.ensureProject(ctx, p)
	case StepDatabase:
		url, err := r.dep.ProvisionDatabase(ctx, r.token, r.spec, p)
		if err != nil || url == "" {
			return err
		}
		sealed, err := r.w.cfg.Vault.Seal(ctx, []byte(url), DatabaseURLContext(r.d))
		if err != nil {
			return fmt.Errorf("deploy: sealing the database URL: %w", err)
		}
		r.d.SealedDatabaseURL = sealed
		r.addDatabaseURL(url)
		return nil
	case StepEnv:
		return r.dep.SetEnv(ctx, r.token, r.spec, p)
	case StepUpload:
		return r.dep.Upload(ctx, r.token, r.spec, p)
	case StepStart:
		return r.dep.StartDeployment(ctx, r.token, r.spec, p)
	}
	return fmt.Errorf("deploy: unknown step %q", step)
}

// attempt runs call until it succeeds or fails for good. A transient or
// rate-limited failure is noted in the log and tried again after a
// growing wait, or the platform's Retry-After when that is longer, until
// the deployment's time is up. A refused token is renewed once (an OAuth
// token is refreshed now) and the call tried again; refused again, the
// connection decides: if the platform still answers who the account is,
// the refusal was about the resource and the deployment fails with a
// permission error naming it (Railway's "Not Authorized" means either:
// PLATFORMS.md Railway); otherwise the connection is marked expired.
func (r *run) attempt(ctx context.Context, what string, call func(ctx context.Context) error) error {
	wait := r.w.cfg.PollInterval
	for {
		err := call(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errPaused
		}
		pe, ok := platform.AsError(err)
		if !ok {
			return err
		}
		switch {
		case pe.Reason == platform.ReasonExpiredToken && !r.refreshed:
			r.refreshed = true
			before := r.token
			creds, rerr := r.w.cfg.Connections.Renew(ctx, r.d.Tenant, r.d.Platform, before)
			if rerr != nil {
				if e, ok := apperr.As(rerr); ok && e.Kind == apperr.Conflict {
					return &finalError{code: string(e.Code), message: e.Detail}
				}
				return rerr
			}
			r.useCredentials(creds)
			if r.token != before {
				continue
			}
			return r.refused(ctx, pe, err)
		case pe.Reason == platform.ReasonExpiredToken:
			return r.refused(ctx, pe, err)
		case pe.Reason == platform.ReasonTransient || pe.Reason == platform.ReasonRateLimited:
			pause := max(wait, pe.RetryAfter)
			if !r.now().Add(pause).Before(r.d.Deadline) {
				return errTimedOut
			}
			r.log.Warn("platform call failed; trying again", slog.String("what", what), slog.String("reason", string(pe.Reason)),
				slog.Int("status", pe.Status), slog.Duration("wait", pause))
			// Noting it also saves what the step made so far.
			note := r.redact(fmt.Sprintf("%s failed (%s); trying again in %s", what, pe.Error(), pause.Round(time.Millisecond)))
			if serr := r.save(ctx, []pendingLine{{line: LogLine{At: r.now(), Type: string(platform.LogInfo), Text: note}}}); serr != nil {
				return serr
			}
			if serr := r.w.cfg.Sleep(ctx, pause); serr != nil {
				return errPaused
			}
			wait = min(wait*2, r.w.cfg.PollMax)
		default:
			return err
		}
	}
}

// refused ends a call the platform refused with fresh credentials: a
// permission error naming what was refused while the connection still
// works, else the refusal (the connection is then marked expired).
func (r *run) refused(ctx context.Context, pe *platform.Error, err error) error {
	accepted, cerr := r.w.cfg.Connections.ConfirmRefusal(ctx, r.d.Tenant, r.d.Platform, pe.Message)
	switch {
	case cerr != nil:
		r.log.Warn("checking the connection after a refusal failed", slog.String("error", cerr.Error()))
		return err
	case accepted:
		d, _ := registry.Lookup(string(r.d.Platform))
		return &finalError{code: "permission_denied", message: r.redact(fmt.Sprintf(
			"%s refused to %s: %s. The connection still works, so the account may not act on that: deploy to a workspace the connection lists, or reconnect and grant access to it",
			d.Name, pe.Op, pe.Message))}
	}
	return err
}

// poll follows the platform's deployment until it ends, keeping its new
// log lines as they come.
func (r *run) poll(ctx context.Context) (Outcome, error) {
	interval := r.w.cfg.PollInterval
	pace := time.Duration(0)
	if paced, ok := r.dep.(platform.Paced); ok {
		pace = paced.PollEvery() // few requests an hour: poll no more often
		interval = max(interval, pace)
	}
	for {
		if r.pastDeadline() {
			return r.timeOut(ctx)
		}
		var st platform.DeployState
		if err := r.attempt(ctx, "reading the deployment's status", func(ctx context.Context) error {
			var err error
			st, err = r.dep.Status(ctx, r.token, r.d.Progress)
			return err
		}); err != nil {
			return r.failed(ctx, err)
		}
		lines := r.fetchLogs(ctx)
		if st.URL != "" {
			r.d.URL = st.URL
		}
		switch st.Status {
		case platform.DeployReady:
			return r.finish(ctx, StatusReady, nil, lines)
		case platform.DeployError:
			msg := st.Message
			if msg == "" {
				msg = "the build failed"
			}
			return r.finish(ctx, StatusError, &ErrorInfo{Code: "build_failed", Message: r.redact(msg)}, lines)
		case platform.DeployCanceled:
			return r.finish(ctx, StatusCanceled, nil, lines)
		}
		if len(lines) > 0 || r.now().Sub(r.lastSave) >= r.w.cfg.Lease/2 {
			if err := r.save(ctx, lines); err != nil {
				return r.failed(ctx, err)
			}
		}
		wait := min(interval, max(0, r.d.Deadline.Sub(r.now())))
		if err := r.w.cfg.Sleep(ctx, wait); err != nil {
			return r.failed(ctx, errPaused)
		}
		interval = max(min(interval*3/2, r.w.cfg.PollMax), pace)
	}
}

// pendingLine is a log line with the platform's cursor after it.
type pendingLine struct {
	line   LogLine
	cursor string
}

// maxLogPages bounds the log pages read per poll.
const maxLogPages = 10

// fetchLogs reads the platform's new log lines. A failure here does not
// fail the deployment: the lines are read again at the next poll.
func (r *run) fetchLogs(ctx context.Context) []pendingLine {
	var out []pendingLine
	cursor := r.d.LogCursor
	pages := maxLogPages
	if _, ok := r.dep.(platform.Paced); ok {
		pages = 1 // the rest comes at the next poll
	}
	for range pages {
		lines, next, err := r.dep.Logs(ctx, r.token, r.d.Progress, cursor)
		if err != nil {
			if !r.logFailed && ctx.Err() == nil {
				r.logFailed = true
				r.log.Warn("reading build logs failed; trying again at the next poll", slog.String("error", err.Error()))
			}
			break
		}
		for _, l := range lines {
			c := l.Cursor
			if c == "" {
				c = next
			}
			out = append(out, pendingLine{line: LogLine{At: l.At.UTC(), Type: string(l.Type), Text: r.redact(l.Text)}, cursor: c})
		}
		if len(lines) == 0 || next == cursor {
			break
		}
		cursor = next
	}
	return out
}

// maxLineBytes bounds one kept log line.
const maxLineBytes = 4 << 10

// redact removes every secret the run knows (token, environment values,
// DATABASE_URL) and every URL's userinfo from text a platform gave, and
// bounds its length: a build may print its environment or a clone URL,
// and no secret is kept in plaintext.
func (r *run) redact(text string) string {
	text = logging.RedactURLUserinfo(text)
	for _, s := range r.secrets {
		if strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	if len(text) > maxLineBytes {
		cut := maxLineBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

// Log items hold at most this many lines and bytes of text.
const (
	maxLinesPerItem = 200
	maxBytesPerItem = 200 << 10
)

// save writes the run's state with lines (as many log items as they
// need), renewing the lease.
func (r *run) save(ctx context.Context, lines []pendingLine) error {
	return r.persist(ctx, lines, r.w.cfg.Lease)
}

// persist writes the state; leaseFor 0 lets the lease go (the sweep finds
// the deployment due at once).
func (r *run) persist(ctx context.Context, lines []pendingLine, leaseFor time.Duration) error {
	now := r.now()
	d := r.d
	d.UpdatedAt = now
	if !d.Status.Terminal() {
		d.LeaseUntil = now.Add(leaseFor)
		d.DueAt = d.LeaseUntil
	}
	if d.Progress.DeploymentID != "" {
		d.PlatformDeploymentID = d.Progress.DeploymentID
	}
	if d.URL == "" {
		d.URL = d.Progress.URL
	}
	if len(lines) == 0 {
		return r.write(ctx, nil)
	}
	for len(lines) > 0 {
		n, size := 0, 0
		for n < len(lines) && n < maxLinesPerItem && size+len(lines[n].line.Text) <= maxBytesPerItem {
			size += len(lines[n].line.Text)
			n++
		}
		n = max(n, 1)
		chunk := make([]LogLine, n)
		for i := range n {
			chunk[i] = lines[i].line
		}
		prevCursor := d.LogCursor
		d.LogSeq++
		if c := lines[n-1].cursor; c != "" {
			d.LogCursor = c
		}
		if err := r.write(ctx, chunk); err != nil {
			d.LogSeq--
			d.LogCursor = prevCursor
			return err
		}
		lines = lines[n:]
	}
	return nil
}

func (r *run) write(ctx context.Context, lines []LogLine) error {
	err := r.w.cfg.Repo.Save(ctx, r.d, r.owner, lines)
	for try := 0; try < 2 && apperr.Is(err, apperr.Unavailable) && ctx.Err() == nil; try++ {
		// Busy (another write of the item in flight, a throttle): once more.
		_ = r.w.cfg.Sleep(ctx, 100*time.Millisecond)
		err = r.w.cfg.Repo.Save(ctx, r.d, r.owner, lines)
	}
	if apperr.Is(err, apperr.Conflict) {
		return errLost
	}
	if err != nil {
		return fmt.Errorf("deploy: saving %s: %w", r.d.ID, err)
	}
	r.lastSave = r.now()
	return nil
}

// detached is a context for the last writes after ctx has ended.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// finish ends the deployment with status.
func (r *run) finish(ctx context.Context, status Status, info *ErrorInfo, lines []pendingLine) (Outcome, error) {
	now := r.now()
	r.d.Status, r.d.Error, r.d.EndedAt = status, info, now
	if info != nil && info.At.IsZero() {
		info.At = now
	}
	r.d.LeaseOwner, r.d.LeaseUntil, r.d.DueAt = "", time.Time{}, time.Time{}
	wctx, cancel := detached(ctx)
	defer cancel()
	if err := r.save(wctx, lines); err != nil {
		if errors.Is(err, errLost) {
			return r.lost(wctx)
		}
		return "", err
	}
	attrs := []any{slog.String("status", string(status))}
	if info != nil {
		attrs = append(attrs, slog.String("code", info.Code))
	}
	r.log.Info("deployment ended", attrs...)
	return OutcomeEnded, nil
}

// failed decides what an error means for the deployment.
func (r *run) failed(ctx context.Context, err error) (Outcome, error) {
	var fe *finalError
	pe, isPlatform := platform.AsError(err)
	switch {
	case errors.Is(err, errLost):
		wctx, cancel := detached(ctx)
		defer cancel()
		return r.lost(wctx)
	case errors.Is(err, errTimedOut):
		return r.timeOut(ctx)
	case errors.Is(err, errPaused) || ctx.Err() != nil:
		return r.pause(ctx, nil)
	case errors.As(err, &fe):
		return r.finish(ctx, StatusError, &ErrorInfo{Code: fe.code, Message: fe.message}, nil)
	case isPlatform && !pe.Retryable():
		// The platform refused on the merits: its reason and words.
		code := string(pe.Reason)
		if pe.Reason == platform.ReasonExpiredToken {
			code = "connection_expired"
		}
		msg := fmt.Sprintf("%s: %s", pe.Op, pe.Message)
		if pe.Message == "" {
			msg = fmt.Sprintf("%s could not %s (%s)", pe.Platform, pe.Op, pe.Reason)
		}
		return r.finish(ctx, StatusError, &ErrorInfo{Code: code, Message: r.redact(msg)}, nil)
	case isPlatform:
		// Retryable (a quota): waiting would outlast the deployment.
		return r.finish(ctx, StatusError, &ErrorInfo{Code: string(pe.Reason), Message: r.redact(pe.Op + ": " + pe.Message)}, nil)
	default:
		// Ours (the table, the vault): let go and report it, so the record
		// comes again or the sweep resumes it.
		r.log.Error("deployment paused by a failure of ours", slog.String("error", err.Error()))
		return r.pause(ctx, err)
	}
}

// pause saves what was done and lets the lease go: the sweep finds the
// deployment due at once and resumes it.
func (r *run) pause(ctx context.Context, cause error) (Outcome, error) {
	wctx, cancel := detached(ctx)
	defer cancel()
	err := r.persist(wctx, nil, 0)
	if errors.Is(err, errLost) {
		return r.lost(wctx)
	}
	if err != nil {
		return "", errors.Join(cause, err)
	}
	r.log.Info("deployment paused; it resumes at the next pickup", slog.Int("steps_done", len(r.d.Steps)))
	if cause != nil {
		return "", cause
	}
	return OutcomePaused, nil
}

// lost handles a deployment that changed under the worker: canceled (then
// whatever the worker started at the platform is canceled there too), or
// taken over by another worker.
func (r *run) lost(ctx context.Context) (Outcome, error) {
	cur, err := r.w.cfg.Repo.Get(ctx, r.d.Tenant, r.d.ID)
	if err != nil {
		return "", fmt.Errorf("deploy: reading %s back: %w", r.d.ID, err)
	}
	if cur.Status == StatusCanceled && r.d.Progress.DeploymentID != "" && r.d.Source != SourceRollback && r.dep != nil {
		if cerr := r.dep.Cancel(ctx, r.token, r.d.Progress); cerr != nil {
			r.log.Warn("canceling at the platform after a cancel request failed", slog.String("error", cerr.Error()))
		}
		r.log.Info("deployment canceled while it ran; canceled at the platform too")
		return OutcomeEnded, nil
	}
	r.log.Info("deployment changed under the worker; left to its new state", slog.String("status", string(cur.Status)))
	return OutcomeSkipped, nil
}

// timeOut ends a deployment that has run out of time, canceling it at
// the platform where it was started (best effort: the platform's refusal
// is told in the error message).
func (r *run) timeOut(ctx context.Context) (Outcome, error) {
	wctx, cancel := detached(ctx)
	defer cancel()
	secs := int64(r.d.Deadline.Sub(r.d.CreatedAt) / time.Second)
	msg := fmt.Sprintf("the deployment did not finish within %s (DEPLOYMENT_TIMEOUT_MS)", describeTimeout(secs))
	started := r.d.Progress.DeploymentID != "" && r.dep != nil && r.d.Source != SourceRollback
	if started && r.token == "" {
		_ = r.fetchToken(wctx) // a deployment resumed after its time: cancel it with a fresh token
	}
	if started && r.token != "" {
		if err := r.dep.Cancel(wctx, r.token, r.d.Progress); err != nil {
			reason := err.Error()
			if pe, ok := platform.AsError(err); ok {
				reason = pe.Message
			}
			msg += fmt.Sprintf("; canceling it at %s failed: %s", r.d.Platform, r.redact(reason))
		} else {
			msg += fmt.Sprintf("; it was canceled at %s", r.d.Platform)
		}
	}
	return r.finish(wctx, StatusTimedOut, &ErrorInfo{Code: "timed_out", Message: msg}, nil)
}

// rollback makes the platform deployment rolled back to current again.
// Where the platform's rollback is a new deployment (a RollbackFollower:
// Render), that deployment is recorded and followed like a build until it
// is live or fails; the record then points at it.
func (r *run) rollback(ctx context.Context) (Outcome, error) {
	if f, ok := r.dep.(platform.RollbackFollower); ok {
		if !r.d.Done(StepRollback) {
			if err := r.attempt(ctx, "roll back", func(ctx context.Context) error {
				return f.StartRollback(ctx, r.token, &r.d.Progress, r.d.RollbackTo)
			}); err != nil {
				return r.failed(ctx, err)
			}
			r.d.markDone(StepRollback)
			line := pendingLine{line: LogLine{At: r.now(), Type: string(platform.LogInfo),
				Text: fmt.Sprintf("%s is deploying %s again as deployment %s (rollback to %s)", r.d.Platform, r.d.RollbackTo, r.d.Progress.DeploymentID, r.d.RollbackOf)}}
			if err := r.save(ctx, []pendingLine{line}); err != nil {
				return r.failed(ctx, err)
			}
		}
		return r.poll(ctx)
	}
	if !r.d.Done(StepRollback) {
		if err := r.attempt(ctx, "roll back", func(ctx context.Context) error {
			return r.dep.Rollback(ctx, r.token, r.d.Progress, r.d.RollbackTo)
		}); err != nil {
			return r.failed(ctx, err)
		}
		r.d.markDone(StepRollback)
	}
	r.d.PlatformDeploymentID = r.d.RollbackTo
	line := pendingLine{line: LogLine{At: r.now(), Type: string(platform.LogInfo),
		Text: fmt.Sprintf("%s made deployment %s current again (rollback to %s)", r.d.Platform, r.d.RollbackTo, r.d.RollbackOf)}}
	return r.finish(ctx, StatusReady, nil, []pendingLine{line})
}
