package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestEachPlatformReachesReadyWithBuildLogs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  deploy.Request
	}{
		{"vercel from files", deploy.Request{Platform: "vercel", ProjectName: "grace-site", Files: site(), Env: map[string]string{"API_BASE": "https://api.example.com"}}},
		{"vercel from a repository", deploy.Request{Platform: "vercel", ProjectName: "grace-git", Source: &deploy.GitSource{Repo: "https://github.com/acme/site", Branch: "main"}}},
		{"railway from a repository", deploy.Request{Platform: "railway", ProjectName: "grace api", Source: &deploy.GitSource{Repo: "https://github.com/acme/api", Branch: "main"}}},
		{"railway from an image", deploy.Request{Platform: "railway", ProjectName: "grace worker", Image: "ghcr.io/acme/worker:1.2.3"}},
		{"render from a repository", deploy.Request{Platform: "render", ProjectName: "grace-web", Source: &deploy.GitSource{Repo: "https://github.com/acme/web", Branch: "main"}, Env: map[string]string{"NODE_ENV": "production"}}},
		{"render from an image", deploy.Request{Platform: "render", ProjectName: "grace-img", Image: "docker.io/library/nginx:1.27"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(e.tenant)
			d := e.create(c.req)
			if d.Status != deploy.StatusQueued {
				t.Fatalf("accepted as %s", d.Status)
			}
			out, got := e.run(d.ID)
			if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady || got.Error != nil {
				t.Fatalf("%s: %s %+v", out, got.Status, got.Error)
			}
			if got.PlatformDeploymentID == "" || !strings.HasPrefix(got.URL, "https://") || got.EndedAt.IsZero() || !got.DueAt.IsZero() {
				t.Fatalf("ready without its platform facts: %+v", got)
			}
			lines := e.allLogs(d.ID)
			if len(lines) < 3 {
				t.Fatalf("build log %+v", lines)
			}
			for _, l := range lines {
				if l.At.IsZero() || l.Type == "" {
					t.Fatalf("log line %+v", l)
				}
			}
		})
	}
}

func TestAWorkerStoppedAfterEachStepResumesWithoutRepeatingAFinishedStep(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"EnsureProject", "SetEnv", "Upload", "StartDeployment", "Status"} {
		t.Run("after "+step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(e.tenant)
			d := e.create(deploy.Request{Platform: "vercel", ProjectName: "resume-site", Files: site(), Env: map[string]string{"A": "1"}})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			plain := e.deployers[vercel.ID]
			e.deployers[vercel.ID] = stopAfter{Deployer: plain, step: step, stop: cancel}
			e.rebuild()
			out, err := e.worker.Run(ctx, e.tenant, d.ID)
			if err != nil || out != deploy.OutcomePaused {
				t.Fatalf("first run: %s %v", out, err)
			}
			if got := e.get(d.ID); got.Status != deploy.StatusBuilding {
				t.Fatalf("after the stop: %s", got.Status)
			}
			before := map[string]int{}
			for _, op := range []string{"createProject", "createProjectEnv", "uploadFile", "createDeployment"} {
				before[op] = e.vercel.Calls(op)
			}

			e.deployers[vercel.ID] = plain
			e.rebuild()
			out, got := e.run(d.ID)
			if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
				t.Fatalf("second run: %s %s %+v", out, got.Status, got.Error)
			}
			// Every step ran exactly once in all: what the first run
			// finished, the second did not repeat. Vercel's first
			// createDeployment answers missing_files and makes nothing.
			want := map[string]int{"createProject": 1, "createProjectEnv": 1, "uploadFile": 3, "createDeployment": 2}
			for op, n := range want {
				if got := e.vercel.Calls(op); got != n {
					t.Errorf("%s called %d times (%d before the stop), want %d", op, got, before[op], n)
				}
			}
			if e.vercel.Projects() != 1 || e.vercel.Deployments() != 1 {
				t.Errorf("%d projects and %d deployments at Vercel, want 1 each", e.vercel.Projects(), e.vercel.Deployments())
			}
			// The log holds each platform line once.
			seen := map[string]int{}
			for _, l := range e.allLogs(d.ID) {
				if l.Type != "info" {
					seen[l.Type+" "+l.Text+" "+l.At.String()]++
				}
			}
			for line, n := range seen {
				if n > 1 {
					t.Errorf("log line %q kept %d times", line, n)
				}
			}
		})
	}
}

// crashingRepo stands for a worker process that dies: once crash is
// called, none of its writes reach the table.
type crashingRepo struct {
	deploy.WorkerRepo
	mu      sync.Mutex
	crashed bool
}

func (c *crashingRepo) crash() {
	c.mu.Lock()
	c.crashed = true
	c.mu.Unlock()
}

func (c *crashingRepo) Save(ctx context.Context, d *deploy.Deployment, owner string, lines []deploy.LogLine) error {
	c.mu.Lock()
	dead := c.crashed
	c.mu.Unlock()
	if dead {
		return apperr.E(apperr.Unavailable, "crashed", "the process is gone")
	}
	return c.WorkerRepo.Save(ctx, d, owner, lines)
}

func TestADeploymentLeftBuildingByACrashedWorkerIsSweptAndFinished(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "crash-site", Files: site()})

	crashing := &crashingRepo{WorkerRepo: e.store.Deployments()}
	ctx, cancel := context.WithCancel(context.Background())
	e.deployers[vercel.ID] = stopAfter{Deployer: e.deployers[vercel.ID], step: "StartDeployment", stop: func() { crashing.crash(); cancel() }}
	wcfg := e.wcfg
	wcfg.Repo = crashing
	e.rebuild()
	dead := deploy.NewWorker(wcfg)
	if _, err := dead.Run(ctx, e.tenant, d.ID); err == nil {
		t.Fatal("a worker that could not record its work reported success")
	}
	left := e.get(d.ID)
	if left.Status != deploy.StatusBuilding || left.LeaseOwner == "" || !left.Done(deploy.StepUpload) || left.Done(deploy.StepStart) {
		t.Fatalf("left as %s, steps %v", left.Status, left.Steps)
	}

	// The stream delivers the record again at once: the dead worker's lease
	// is live, so the record is acknowledged and nothing runs twice.
	if out, _ := e.run(d.ID); out != deploy.OutcomeSkipped {
		t.Fatalf("redelivery while the lease is live: %s", out)
	}
	// Nothing is due before the lease runs out.
	if rep, err := e.sweeper.Run(context.Background()); err != nil || rep.Kicked != 0 {
		t.Fatalf("early sweep: %+v %v", rep, err)
	}
	e.clock.Advance(deploy.DefaultLease + time.Second)
	rep, err := e.sweeper.Run(context.Background())
	if err != nil || rep.Found != 1 || rep.Kicked != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	ticket, err := e.store.Get(context.Background(), store.TenantPK(e.tenant), "DEPLOYKICK#"+d.ID+"#1")
	if err != nil || store.GetS(ticket, "type") != "deployment" || store.GetS(ticket, "id") != d.ID {
		t.Fatalf("resume ticket %v %v", ticket, err)
	}
	// The ticket's INSERT reaches the worker, which resumes.
	out, got := e.run(store.GetS(ticket, "id"))
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
		t.Fatalf("resumed: %s %s %+v", out, got.Status, got.Error)
	}
	// StartDeployment had run before the crash but was not recorded, so it
	// ran again: a lost answer can cost one extra platform deployment,
	// never a lost one. The steps recorded before did not repeat.
	if e.vercel.Calls("createProject") != 1 || e.vercel.Calls("uploadFile") != 3 {
		t.Fatalf("createProject %d, uploadFile %d", e.vercel.Calls("createProject"), e.vercel.Calls("uploadFile"))
	}
}

func TestTheSweepEndsWhatNoWorkerCouldFinishLongAfterItsDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "railway", ProjectName: "never", Image: "nginx:1"})
	e.clock.Advance(deploy.DefaultTimeout + 11*time.Minute)
	rep, err := e.sweeper.Run(context.Background())
	if err != nil || rep.Expired != 1 {
		t.Fatalf("sweep: %+v %v", rep, err)
	}
	got := e.get(d.ID)
	if got.Status != deploy.StatusTimedOut || got.Error == nil || got.Error.Code != "timed_out" {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	if out, _ := e.run(d.ID); out != deploy.OutcomeSkipped {
		t.Fatalf("a timed-out deployment ran: %s", out)
	}
}

func TestARedeliveredRecordDoesNotDeployTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "render", ProjectName: "twice", Image: "nginx:1"})
	var wg sync.WaitGroup
	outs := make([]deploy.Outcome, 3)
	for i := range outs {
		wg.Go(func() {
			out, err := e.worker.Run(context.Background(), e.tenant, d.ID)
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			outs[i] = out
		})
	}
	wg.Wait()
	ended := 0
	for _, o := range outs {
		if o == deploy.OutcomeEnded {
			ended++
		}
	}
	if ended != 1 || e.render.Calls("createService") != 1 {
		t.Fatalf("outcomes %v, createService %d", outs, e.render.Calls("createService"))
	}
	if out, got := e.run(d.ID); out != deploy.OutcomeSkipped || got.Status != deploy.StatusReady {
		t.Fatalf("after it ended: %s %s", out, got.Status)
	}
}

func TestPlatformFailuresThatPassAreRetriedUntilTheDeploymentSucceeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		req   deploy.Request
		fail  func(e *env)
		calls func(e *env) (string, int)
	}{
		{"vercel 500 then 429 with Retry-After on create deployment",
			deploy.Request{Platform: "vercel", ProjectName: "flaky", Files: site()},
			func(e *env) {
				e.vercel.FailNext("createProject", http.StatusInternalServerError, "", 2)
				e.vercel.FailNext("createDeployment", http.StatusTooManyRequests, "", 1)
			},
			func(e *env) (string, int) { return "createDeployment", e.vercel.Calls("createDeployment") }},
		{"railway 429 and a 5xx on the deploy",
			deploy.Request{Platform: "railway", ProjectName: "flaky", Image: "nginx:1"},
			func(e *env) {
				e.railway.FailNext("serviceInstanceDeployV2", http.StatusTooManyRequests, "", 1)
				e.railway.FailNext("serviceInstanceDeployV2", http.StatusBadGateway, "", 1)
			},
			func(e *env) (string, int) {
				return "serviceInstanceDeployV2", e.railway.Calls("serviceInstanceDeployV2")
			}},
		{"render 429 without Retry-After on create service, status polls failing",
			deploy.Request{Platform: "render", ProjectName: "flaky", Image: "nginx:1"},
			func(e *env) {
				e.render.FailNext("createService", http.StatusTooManyRequests, "", 1)
				e.render.FailNext("getDeploy", http.StatusServiceUnavailable, "", 4)
			},
			func(e *env) (string, int) { return "createService", e.render.Calls("createService") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.wcfg.PollInterval = 10 * time.Millisecond
			e.rebuild()
			e.connect(e.tenant)
			d := e.create(c.req)
			c.fail(e)
			start := e.clock.Now()
			out, got := e.run(d.ID)
			if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
				t.Fatalf("%s %s %+v", out, got.Status, got.Error)
			}
			if op, n := c.calls(e); n != 2 && n != 3 {
				t.Fatalf("%s called %d times", op, n)
			}
			notes := 0
			for _, l := range e.allLogs(d.ID) {
				if l.Type == "info" && strings.Contains(l.Text, "trying again") {
					notes++
				}
			}
			if notes == 0 {
				t.Fatal("the retries are not told in the log")
			}
			// The 429's Retry-After (Render: its Ratelimit-Reset) was waited
			// out: the worker's own backoff alone is far shorter here.
			if waited := e.clock.Now().Sub(start); waited < time.Second {
				t.Fatalf("waited only %s", waited)
			}
		})
	}
}

func TestAPlatformFailureEndsInErrorWithItsReason(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		req      deploy.Request
		fail     func(e *env)
		code     string
		contains string
	}{
		{"a vercel build that fails", deploy.Request{Platform: "vercel", ProjectName: "broken", Files: site()},
			func(e *env) { e.vercel.FailBuild("broken", "Module not found: Can't resolve 'react'") }, "build_failed", "Module not found"},
		{"a railway build that fails", deploy.Request{Platform: "railway", ProjectName: "broken", Image: "nginx:1"},
			func(e *env) { e.railway.FailBuild("broken", "npm ERR! missing script: build") }, "build_failed", "missing script"},
		{"render refusing the service", deploy.Request{Platform: "render", ProjectName: "refused", Image: "nginx:1"},
			func(e *env) { e.render.FailNext("createService", http.StatusBadRequest, "", 1) }, "invalid_request", "fake failure"},
		{"vercel refusing the token", deploy.Request{Platform: "vercel", ProjectName: "revoked", Files: site()},
			func(e *env) { e.vercel.RejectToken(vercelToken) }, "connection_expired", "Not authorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(e.tenant)
			d := e.create(c.req)
			c.fail(e)
			out, got := e.run(d.ID)
			if out != deploy.OutcomeEnded || got.Status != deploy.StatusError || got.Error == nil {
				t.Fatalf("%s %s %+v", out, got.Status, got.Error)
			}
			if got.Error.Code != c.code || !strings.Contains(got.Error.Message, c.contains) || got.Error.At.IsZero() {
				t.Fatalf("error %+v, want code %s and %q", got.Error, c.code, c.contains)
			}
		})
	}
}

func TestAConnectionRefusedMidwayIsMarkedExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "revoked", Files: site()})
	e.vercel.RejectToken(vercelToken)
	if _, got := e.run(d.ID); got.Status != deploy.StatusError {
		t.Fatalf("%s", got.Status)
	}
	c, err := e.conns.Get(context.Background(), e.tenant, "vercel")
	if err != nil || c.Status != "expired" {
		t.Fatalf("connection %+v %v", c, err)
	}
}

// stuck never finishes building.
type stuck struct{ platform.Deployer }

func (stuck) Status(context.Context, string, platform.DeployProgress) (platform.DeployState, error) {
	return platform.DeployState{Status: platform.DeployBuilding, PlatformState: "BUILDING"}, nil
}

func TestADeploymentThatOutlastsItsTimeoutIsTimedOutAndCanceledAtThePlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.cfg.Timeout = time.Minute
	e.deployers[vercel.ID] = stuck{e.deployers[vercel.ID]}
	e.rebuild()
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "slow", Files: site()})
	start := e.clock.Now()
	out, got := e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusTimedOut || got.Error == nil || got.Error.Code != "timed_out" {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	if !strings.Contains(got.Error.Message, "1 minutes") || !strings.Contains(got.Error.Message, "canceled at vercel") {
		t.Fatalf("message %q", got.Error.Message)
	}
	if e.vercel.Calls("cancelDeployment") != 1 {
		t.Fatalf("cancelDeployment %d", e.vercel.Calls("cancelDeployment"))
	}
	if took := e.clock.Now().Sub(start); took > time.Minute+time.Second {
		t.Fatalf("ended %s after it started, its timeout is a minute", took)
	}
}

func TestTheWorkerStopsBeforeTheInvocationsDeadlineAndTheNextPickupResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	// Real waits: the invocation's deadline is real time. The margin is
	// what the worker leaves itself to save and let go.
	e.wcfg.DeadlineMargin = 2 * time.Second
	e.wcfg.Sleep = nil
	e.wcfg.PollInterval = 40 * time.Millisecond
	e.deployers[vercel.ID] = stuck{e.deployers[vercel.ID]}
	e.rebuild()
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "deadline", Files: site()})
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	out, err := e.worker.Run(ctx, e.tenant, d.ID)
	if err != nil || out != deploy.OutcomePaused {
		t.Fatalf("%s %v", out, err)
	}
	if ctx.Err() != nil {
		t.Fatal("the worker ran into the invocation's deadline")
	}
	got := e.get(d.ID)
	if got.Status != deploy.StatusBuilding || !got.Done(deploy.StepStart) || got.LeaseUntil.After(e.clock.Now()) {
		t.Fatalf("paused as %s, steps %v, lease until %v", got.Status, got.Steps, got.LeaseUntil)
	}
	if rep, _ := e.sweeper.Run(context.Background()); rep.Kicked != 1 {
		t.Fatalf("the sweep did not pick it up: %+v", rep)
	}
}

func TestCancelStopsAQueuedDeploymentBeforeItStartsAndABuildingOneAtThePlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx := context.Background()

	queued := e.create(deploy.Request{Platform: "vercel", ProjectName: "never-started", Files: site()})
	got, err := e.svc.Cancel(ctx, e.tenant, queued.ID)
	if err != nil || got.Status != deploy.StatusCanceled {
		t.Fatalf("cancel queued: %+v %v", got, err)
	}
	if out, _ := e.run(queued.ID); out != deploy.OutcomeSkipped || e.vercel.Calls("createProject") != 0 {
		t.Fatalf("a canceled deployment ran: %s", out)
	}

	building := e.create(deploy.Request{Platform: "vercel", ProjectName: "stopped", Files: site()})
	wctx, stop := context.WithCancel(ctx)
	plain := e.deployers[vercel.ID]
	e.deployers[vercel.ID] = stopAfter{Deployer: plain, step: "StartDeployment", stop: stop}
	e.rebuild()
	if out, err := e.worker.Run(wctx, e.tenant, building.ID); err != nil || out != deploy.OutcomePaused {
		t.Fatalf("%s %v", out, err)
	}
	got, err = e.svc.Cancel(ctx, e.tenant, building.ID)
	if err != nil || got.Status != deploy.StatusCanceled || e.vercel.Calls("cancelDeployment") != 1 {
		t.Fatalf("cancel building: %+v %v, cancelDeployment %d", got, err, e.vercel.Calls("cancelDeployment"))
	}
	e.deployers[vercel.ID] = plain
	e.rebuild()
	if out, got := e.run(building.ID); out != deploy.OutcomeSkipped || got.Status != deploy.StatusCanceled {
		t.Fatalf("after cancel: %s %s", out, got.Status)
	}
	if _, err := e.svc.Cancel(ctx, e.tenant, building.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("canceling an ended deployment: %v", err)
	}
}

func TestACancelWhileTheWorkerRunsCancelsWhatItStartsAtThePlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "raced", Files: site()})
	// The cancel lands while the worker is uploading, before it has a
	// platform deployment to cancel.
	e.deployers[vercel.ID] = stopAfter{Deployer: e.deployers[vercel.ID], step: "Upload", stop: func() {
		if _, err := e.svc.Cancel(context.Background(), e.tenant, d.ID); err != nil {
			t.Errorf("cancel: %v", err)
		}
	}}
	e.rebuild()
	out, got := e.run(d.ID)
	if got.Status != deploy.StatusCanceled || out == deploy.OutcomePaused {
		t.Fatalf("%s %s", out, got.Status)
	}
	// The worker noticed at its next write, before starting a deployment.
	if e.vercel.Calls("createDeployment") != 0 {
		t.Fatalf("createDeployment %d after the cancel", e.vercel.Calls("createDeployment"))
	}
}

func TestADatabaseIsProvisionedAndItsURLIsGivenToTheAppButStoredOnlySealed(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"railway", "render"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(e.tenant)
			d := e.create(deploy.Request{Platform: p, ProjectName: "with-db", Source: &deploy.GitSource{Repo: "https://github.com/acme/app", Branch: "main"},
				Database: ptr("postgres"), Env: map[string]string{"SESSION_SECRET": "very-secret-session-value"}})
			_, got := e.run(d.ID)
			if got.Status != deploy.StatusReady || len(got.SealedDatabaseURL) == 0 {
				t.Fatalf("%s %+v", got.Status, got.Error)
			}
			var env map[string]string
			switch p {
			case "railway":
				// What the deployment sees: Railway resolves the reference
				// variables the service holds.
				env = e.railway.DeploymentVars(got.PlatformDeploymentID)
				if ref := e.railway.ServiceVars(got.Progress.ServiceID)["DATABASE_URL"]; ref != "${{Postgres.DATABASE_URL}}" {
					t.Errorf("the service's DATABASE_URL is %q, not the reference", ref)
				}
			case "render":
				env = e.render.DeployEnv(got.PlatformDeploymentID)
			}
			url := env["DATABASE_URL"]
			if !strings.HasPrefix(url, "postgresql://") || env["SESSION_SECRET"] != "very-secret-session-value" {
				t.Fatalf("the app's environment %v", env)
			}
			assertNoPlaintext(t, e, url, "very-secret-session-value", railwayToken, renderKey)
		})
	}
}

// assertNoPlaintext fails when a secret appears in any stored item or in
// the logs.
func assertNoPlaintext(t *testing.T, e *env, secrets ...string) {
	t.Helper()
	for _, it := range e.rawItems() {
		raw := fmt.Sprint(it)
		for _, s := range secrets {
			if strings.Contains(raw, s) {
				t.Fatalf("item %s/%s holds a secret in plaintext", store.GetS(it, "pk"), store.GetS(it, "sk"))
			}
		}
	}
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatal("the logs hold a secret")
		}
	}
}

// cloneSecret is a Git credential a build prints in a clone URL, which
// Switchboard never saw: only the URL's shape says it is a secret.
const cloneSecret = "ghs_cloneSecret0123456789"

// echoing is a platform whose build prints its environment and a clone URL
// with credentials.
type echoing struct {
	platform.Deployer
	spec *platform.DeploySpec
}

func (e echoing) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	*e.spec = spec
	return e.Deployer.SetEnv(ctx, token, spec, p)
}

func (e echoing) Logs(ctx context.Context, token string, p platform.DeployProgress, after string) ([]platform.LogLine, string, error) {
	lines, cursor, err := e.Deployer.Logs(ctx, token, p, after)
	if err == nil && after == "" {
		lines = append(lines, platform.LogLine{At: time.Now(), Type: platform.LogStdout,
			Text: fmt.Sprintf("env: API_KEY=%s token=%s clone=https://x-access-token:%s@github.com/acme/site", e.spec.Env["API_KEY"], token, cloneSecret)})
	}
	return lines, cursor, err
}

func TestSecretsABuildPrintsAreRedactedFromTheKeptLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.deployers[vercel.ID] = echoing{Deployer: e.deployers[vercel.ID], spec: &platform.DeploySpec{}}
	e.rebuild()
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "echo", Files: site(), Env: map[string]string{"API_KEY": "sk_live_abcdef123456"}})
	if _, got := e.run(d.ID); got.Status != deploy.StatusReady {
		t.Fatalf("%s", got.Status)
	}
	found := false
	for _, l := range e.allLogs(d.ID) {
		if strings.HasPrefix(l.Text, "env: ") {
			found = true
			if l.Text != "env: API_KEY=[REDACTED] token=[REDACTED] clone=https://[REDACTED]@github.com/acme/site" {
				t.Fatalf("kept %q", l.Text)
			}
		}
	}
	if !found {
		t.Fatal("the echoed line is missing")
	}
	assertNoPlaintext(t, e, "sk_live_abcdef123456", vercelToken, cloneSecret)
}

func TestRollbackMakesAnEarlierDeploymentCurrentAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx := context.Background()
	first := e.create(deploy.Request{Platform: "vercel", ProjectName: "rolling", Files: site()})
	_, first = e.run(first.ID)
	second := e.create(deploy.Request{Platform: "vercel", ProjectName: "rolling", Files: site()[:1]})
	_, second = e.run(second.ID)
	if e.vercel.LiveDeployment(second.Progress.ProjectID) != second.PlatformDeploymentID {
		t.Fatal("the second deployment is not live")
	}
	rb, dec, err := e.svc.Rollback(ctx, e.who, first.ID)
	if err != nil || rb.Status != deploy.StatusQueued || rb.RollbackOf != first.ID || rb.Source != deploy.SourceRollback || dec.Limit != deploy.DefaultMaxRollbacksPerHour || dec.Remaining != deploy.DefaultMaxRollbacksPerHour-1 {
		t.Fatalf("rollback: %+v %+v %v", rb, dec, err)
	}
	out, got := e.run(rb.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady || got.PlatformDeploymentID != first.PlatformDeploymentID {
		t.Fatalf("%s %+v", out, got)
	}
	if e.vercel.LiveDeployment(first.Progress.ProjectID) != first.PlatformDeploymentID {
		t.Fatal("the first deployment is not live again")
	}
	// Only a ready deployment can be rolled back to.
	failed := e.create(deploy.Request{Platform: "vercel", ProjectName: "rolling", Files: site()})
	if _, err := e.svc.Cancel(ctx, e.tenant, failed.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Rollback(ctx, e.who, failed.ID); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("rollback to a canceled deployment: %v", err)
	}
}

func TestARollbackIsNeverRefusedByTheDeploymentLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx := context.Background()
	good := e.create(deploy.Request{Platform: "vercel", ProjectName: "repair", Files: site()})
	_, good = e.run(good.ID)
	for range deploy.DefaultMaxPerHour - 1 { // the rest of the hour's deployments, spent breaking the site
		e.create(deploy.Request{Platform: "vercel", ProjectName: "repair", Files: site()[:1]})
	}
	if _, _, err := e.svc.Create(ctx, e.who, deploy.Request{Platform: "vercel", ProjectName: "repair", Files: site()}); !apperr.Is(err, apperr.RateLimited) {
		t.Fatalf("a deployment past the limit: %v", err)
	}
	rb, dec, err := e.svc.Rollback(ctx, e.who, good.ID)
	if err != nil || !dec.Allowed || rb.Source != deploy.SourceRollback {
		t.Fatalf("a rollback with no deployments left: %+v %v", dec, err)
	}
	// The rollback took nothing from the deployments' window.
	if lim, err := e.svc.Limits(ctx, e.who); err != nil || lim.Remaining != 0 || lim.Limit != deploy.DefaultMaxPerHour {
		t.Fatalf("deployment limits after the rollback: %+v %v", lim, err)
	}
	// Rollbacks have a window of their own, which a runaway client does reach.
	e.cfg.RollbackLimit = ratelimit.Window{Limit: 2, Period: time.Hour}
	e.rebuild()
	if _, _, err := e.svc.Rollback(ctx, e.who, good.ID); err != nil {
		t.Fatalf("the second rollback: %v", err)
	}
	_, _, err = e.svc.Rollback(ctx, e.who, good.ID)
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.RateLimited || !strings.Contains(ae.Detail, "2 rollbacks") {
		t.Fatalf("a third rollback in the hour with a limit of 2: %v", err)
	}
}

func TestRailwayTakesFilesOnlyThroughTheUndocumentedUploadWhenItIsOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	req := deploy.Request{Platform: "railway", ProjectName: "uploaded", Files: site()}
	if _, _, err := e.svc.Create(context.Background(), e.who, req); !apperr.Is(err, apperr.Unprocessable) {
		t.Fatalf("files to Railway with the upload off: %v", err)
	}
	e.deployers[railway.ID] = railway.New(&http.Client{Timeout: 10 * time.Second}, e.railway.APIURL(), railway.WithUndocumentedUpload(true))
	e.rebuild()
	d := e.create(req)
	out, got := e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	files := e.railway.DeploymentFiles(got.PlatformDeploymentID)
	if len(files) != len(site()) || e.railway.Calls("up") != 1 || e.railway.Calls("serviceInstanceDeployV2") != 0 {
		t.Fatalf("files %v, up %d, deploys %d", files, e.railway.Calls("up"), e.railway.Calls("serviceInstanceDeployV2"))
	}
}
