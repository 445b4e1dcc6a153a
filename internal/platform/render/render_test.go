package render_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/deploytest"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
)

const token = "rnd_secretApiKey4242"

func setup(t *testing.T) (*render.Client, *renderfake.Server) {
	t.Helper()
	fake := renderfake.New()
	t.Cleanup(func() {
		checkContract(t, fake)
		fake.Close()
	})
	return render.New(&http.Client{Timeout: 10 * time.Second}, fake.APIURL(), render.WithPolling(5*time.Millisecond, 5*time.Second)), fake
}

func repoSpec(name string) platform.DeploySpec {
	return platform.DeploySpec{ProjectName: name, Repo: "https://github.com/acme/site", Branch: "main",
		Env: map[string]string{"NODE_ENV": "production", "SECRET": "s3cr3t"}}
}

func TestDeployingARepositoryRunsEveryStepToLiveWithBuildLogs(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("site")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if p.ServiceID == "" || p.DeploymentID == "" || p.URL != "https://site.onrender.com" || p.Extra["ownerId"] != renderfake.OwnerID {
		t.Fatalf("progress = %+v", p)
	}
	if fake.Calls("createDeploy") != 0 || fake.Calls("updateEnvVars") != 0 {
		t.Errorf("the service's first deploy carries the variables: no other deploy or env call is needed")
	}
	if env := fake.DeployEnv(p.DeploymentID); env["SECRET"] != "s3cr3t" {
		t.Errorf("the first deploy was built with %v", env)
	}
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployReady || st.PlatformState != "live" || st.URL != "https://site.onrender.com" {
		t.Fatalf("state = %+v", st)
	}
	all := deploytest.Joined(lines)
	for _, want := range []string{"Running build command", "Build successful", "Your service is live"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if strings.Count(all, "Build successful") != 1 {
		t.Errorf("a line came twice across cursors:\n%s", all)
	}
}

func TestAPostgresDatabaseIsProvisionedAndTheServiceRedeployedWithIt(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("with-db")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	conn := deploytest.RunSteps(t, c, token, &spec, &p)
	if !strings.HasPrefix(conn, "postgresql://app:") || p.DatabaseID == "" {
		t.Fatalf("connection string %q, progress %+v", conn, p)
	}
	if fake.Calls("getPostgres") < 3 || fake.Calls("getPostgresConnectionInfo") != 1 {
		t.Errorf("getPostgres %d, connection-info %d", fake.Calls("getPostgres"), fake.Calls("getPostgresConnectionInfo"))
	}
	if fake.Calls("createDeploy") != 1 {
		t.Fatalf("createDeploy called %d times: the variables changed after the first deploy, so it deploys once more", fake.Calls("createDeploy"))
	}
	if env := fake.DeployEnv(p.DeploymentID); env["DATABASE_URL"] != conn {
		t.Errorf("the deploy followed was built with %v", env)
	}
}

func TestResumingWithTheSameProgressCreatesNothingTwice(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("again")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	first := p
	deploytest.RunSteps(t, c, token, &spec, &p)
	if p.ServiceID != first.ServiceID || p.DeploymentID != first.DeploymentID || p.DatabaseID != first.DatabaseID {
		t.Errorf("progress changed: %+v -> %+v", first, p)
	}
	for op, want := range map[string]int{"createService": 1, "createPostgres": 1, "createDeploy": 1, "updateEnvVars": 1} {
		if got := fake.Calls(op); got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
}

func TestAnImageIsDeployedWithTheImageRuntime(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := platform.DeploySpec{ProjectName: "img", Image: "docker.io/library/nginx:1.27"}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	for _, r := range fake.Requests() {
		if r.Op == "createService" && (!strings.Contains(string(r.Body), `"imagePath":"docker.io/library/nginx:1.27"`) ||
			!strings.Contains(string(r.Body), `"runtime":"image"`)) {
			t.Errorf("createService body %s", r.Body)
		}
	}
}

func TestFilesAreRefusedWithThePlainReason(t *testing.T) {
	t.Parallel()
	c := render.New(nil, "")
	err := c.Validate(platform.DeploySpec{ProjectName: "x", Files: []platform.ProjectFile{{Path: "index.html"}}})
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonUnsupported ||
		pe.Message != "Render takes no file upload: deploy from a Git repository (source.repo) or a registry image (image)" {
		t.Fatalf("Validate = %v", err)
	}
}

func TestAFailedBuildEndsInErrorWithTheBuildLogsMessage(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailBuild("broken", "npm ERR! Missing script: \"build\"")
	spec := repoSpec("broken")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployError || st.PlatformState != "build_failed" || st.Message != "npm ERR! Missing script: \"build\"" {
		t.Fatalf("state = %+v", st)
	}
	if !strings.Contains(deploytest.Joined(lines), "stderr: npm ERR!") {
		t.Errorf("logs:\n%s", deploytest.Joined(lines))
	}
}

func TestAnIdempotentReadIsRetriedAfterA500(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("retry")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	fake.FailNext("getDeploy", http.StatusInternalServerError, "", 1)
	if _, err := c.Status(deploytest.Context(t), token, p); err != nil {
		t.Fatal(err)
	}
	if fake.Calls("getDeploy") != 2 {
		t.Errorf("getDeploy called %d times", fake.Calls("getDeploy"))
	}
}

func TestACreateIsNotRepeatedAfterA500(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("createService", http.StatusServiceUnavailable, "", 1)
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, repoSpec("once"), &p)
	if platform.ReasonOf(err) != platform.ReasonTransient || fake.Calls("createService") != 1 {
		t.Fatalf("err = %v after %d calls", err, fake.Calls("createService"))
	}
}

func TestA429IsWaitedOutUsingRatelimitResetWithJitter(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("getUser", http.StatusTooManyRequests, "", 1)
	start := time.Now()
	acc, err := c.Whoami(deploytest.Context(t), token)
	if err != nil || acc.ID != renderfake.OwnerID || acc.Name != "Fake Developer" || acc.Extra["ownerId"] != renderfake.OwnerID {
		t.Fatalf("Whoami = %+v, %v", acc, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond || waited > 3*time.Second {
		t.Errorf("retried after %v: want Ratelimit-Reset (1 s) plus up to 1 s of jitter", waited)
	}
	// A reset longer than the caller waits in-line goes to the worker.
	fake.RatelimitReset = 60
	fake.FailNext("getUser", http.StatusTooManyRequests, "", 1)
	_, err = c.Whoami(deploytest.Context(t), token)
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonRateLimited || pe.RetryAfter < 60*time.Second || pe.RetryAfter > 76*time.Second {
		t.Fatalf("err = %v (retry after %v)", err, pe.RetryAfter)
	}
}

func TestARefusedAPIKeyIsAnExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	_, err := c.Whoami(deploytest.Context(t), token)
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonExpiredToken || pe.Message != "unauthorized" {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelStopsABuildingDeploy(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	spec := repoSpec("cancel")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if err := c.Cancel(deploytest.Context(t), token, p); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Status(deploytest.Context(t), token, p); err != nil || st.Status != platform.DeployCanceled {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestRollbackRunsTheEarlierDeploysBuildAgain(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("roll")
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	deploytest.WaitTerminal(t, c, token, first)
	second := first
	second.Extra = map[string]string{"ownerId": first.Extra["ownerId"], "render.redeploy": "1"}
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &second); err != nil {
		t.Fatal(err)
	}
	deploytest.WaitTerminal(t, c, token, second)
	if fake.LiveBuild(first.ServiceID) != second.DeploymentID {
		t.Fatal("the second deploy is not live")
	}
	if err := c.Rollback(deploytest.Context(t), token, second, first.DeploymentID); err != nil {
		t.Fatal(err)
	}
	if fake.Calls("rollbackDeploy") != 1 {
		t.Fatal("no rollback was asked")
	}
}

func TestCheckNameListsTheOwnersServicesAndSuggestsAFreeName(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ok, sugg, err := c.CheckName(deploytest.Context(t), token, "", "shop")
	if err != nil || !ok || sugg != "" {
		t.Fatalf("free: %v %q %v", ok, sugg, err)
	}
	spec := repoSpec("shop")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	ok, sugg, err = c.CheckName(deploytest.Context(t), token, renderfake.OwnerID, "shop")
	if err != nil || ok || sugg != "shop-2" {
		t.Fatalf("taken: %v %q %v", ok, sugg, err)
	}
}

func TestNoErrorCarriesTheAPIKeyOrTheConnectionString(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("leak")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	conn := deploytest.RunSteps(t, c, token, &spec, &p)
	fake.FailNext("getPostgresConnectionInfo", http.StatusBadRequest, "bad", 1)
	_, err := c.ProvisionDatabase(deploytest.Context(t), token, spec, &p)
	errs := []error{err}
	fake.RejectToken(token)
	errs = append(errs, c.SetEnv(deploytest.Context(t), token, platform.DeploySpec{Env: map[string]string{"X": conn}}, &p))
	_, err = c.Status(deploytest.Context(t), token, p)
	errs = append(errs, err)
	_, err = render.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/v1").Whoami(deploytest.Context(t), token)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("a failing call succeeded")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), token) || strings.Contains(e.Error(), conn) {
				t.Errorf("error %q carries a secret", e)
			}
		}
	}
}
