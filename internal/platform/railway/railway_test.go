package railway_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/deploytest"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
)

const token = "railway-secret-token-91c2"

func setup(t *testing.T, opts ...railway.Option) (*railway.Client, *railwayfake.Server) {
	t.Helper()
	fake := railwayfake.New()
	t.Cleanup(func() {
		checkContract(t, fake)
		fake.Close()
	})
	opts = append([]railway.Option{railway.WithPolling(5*time.Millisecond, 5*time.Second)}, opts...)
	return railway.New(&http.Client{Timeout: 10 * time.Second}, fake.APIURL(), opts...), fake
}

func imageSpec(name string) platform.DeploySpec {
	return platform.DeploySpec{ProjectName: name, Image: "docker.io/library/nginx:1.27",
		Env: map[string]string{"PORT": "8080", "SECRET": "s3cr3t"}}
}

func TestDeployingAnImageWithPostgresRunsEveryStepToSuccessWithBuildLogs(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("shop")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	conn := deploytest.RunSteps(t, c, token, &spec, &p)
	if !strings.HasPrefix(conn, "postgresql://postgres:") {
		t.Fatalf("connection string = %q", conn)
	}
	if p.ProjectID == "" || p.EnvironmentID == "" || p.ServiceID == "" || p.DatabaseID == "" || p.DeploymentID == "" {
		t.Fatalf("progress = %+v", p)
	}
	vars := fake.DeploymentVars(p.DeploymentID)
	if vars["DATABASE_URL"] != conn || vars["SECRET"] != "s3cr3t" {
		t.Errorf("the deployment was built with %v", vars)
	}
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployReady || st.PlatformState != "SUCCESS" || st.URL != "https://shop-production.up.railway.app" {
		t.Fatalf("state = %+v", st)
	}
	all := deploytest.Joined(lines)
	for _, want := range []string{"Deployment queued", "RUN npm run build", "Deployment successful"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if strings.Count(all, "Deployment queued") != 1 || strings.Count(all, "RUN npm ci") != 1 {
		t.Errorf("a line came twice across cursors:\n%s", all)
	}
}

func TestResumingWithTheSameProgressCreatesNothingTwice(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("again")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	first := p
	deploytest.RunSteps(t, c, token, &spec, &p)
	if p.DeploymentID != first.DeploymentID || p.ServiceID != first.ServiceID || p.DatabaseID != first.DatabaseID {
		t.Errorf("progress changed: %+v -> %+v", first, p)
	}
	for _, op := range []string{"projectCreate", "serviceCreate", "serviceDomainCreate", "templateDeployV2", "serviceInstanceDeployV2"} {
		if got := fake.Calls(op); got != 1 {
			t.Errorf("%s called %d times, want 1", op, got)
		}
	}
	if projects, services := fake.Counts(); projects != 1 || services != 2 {
		t.Errorf("%d projects and %d services, want 1 and 2 (app and Postgres)", projects, services)
	}
}

func TestARepositorySourceIsGivenAsOwnerAndName(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := platform.DeploySpec{ProjectName: "from-git", Repo: "https://github.com/acme/site.git", Branch: "main"}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	for _, r := range fake.Requests() {
		if r.Op == "serviceCreate" {
			in := r.Variables["input"].(map[string]any)
			if in["source"].(map[string]any)["repo"] != "acme/site" || in["branch"] != "main" {
				t.Errorf("serviceCreate input = %v", in)
			}
		}
	}
}

func TestAFailedBuildEndsInErrorWithTheBuildLogsMessage(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailBuild("broken", "npm ERR! missing script: build")
	spec := imageSpec("broken")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployError || st.PlatformState != "FAILED" || st.Message != "npm ERR! missing script: build" {
		t.Fatalf("state = %+v", st)
	}
	if !strings.Contains(deploytest.Joined(lines), "stderr: npm ERR! missing script: build") {
		t.Errorf("logs:\n%s", deploytest.Joined(lines))
	}
}

func TestAnIdempotentQueryIsRetriedAfterA500OrAGraphQLProcessingError(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("retry")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	fake.FailNext("deployment", http.StatusInternalServerError, "", 1)
	fake.FailNext("deployment", http.StatusOK, "INTERNAL_SERVER_ERROR", 1)
	if _, err := c.Status(deploytest.Context(t), token, p); err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got := fake.Calls("deployment"); got != 3 {
		t.Errorf("deployment asked %d times, want 3", got)
	}
}

func TestAMutationIsNotRepeatedAfterAFailure(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("projectCreate", http.StatusBadGateway, "", 1)
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, imageSpec("once"), &p)
	if platform.ReasonOf(err) != platform.ReasonTransient || fake.Calls("projectCreate") != 1 {
		t.Fatalf("err = %v after %d calls", err, fake.Calls("projectCreate"))
	}
}

func TestA429IsWaitedOutForItsRetryAfter(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("me", http.StatusTooManyRequests, "", 1)
	start := time.Now()
	acc, err := c.Whoami(deploytest.Context(t), token)
	if err != nil || acc.ID != "user-fake" || acc.Name != "Fake Developer" {
		t.Fatalf("Whoami = %+v, %v", acc, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, before the 1 s Retry-After", waited)
	}
}

func TestNotAuthorizedIsAnExpiredTokenAndARateLimitErrorIsRateLimited(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	_, err := c.Whoami(deploytest.Context(t), token)
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonExpiredToken || pe.Message != "Not Authorized" {
		t.Fatalf("err = %v, want expired_token", err)
	}
	c2, fake2 := setup(t)
	fake2.FailNext("me", http.StatusOK, "RATE_LIMITED", 5)
	if _, err := c2.Whoami(deploytest.Context(t), token); platform.ReasonOf(err) != platform.ReasonRateLimited {
		t.Fatalf("err = %v, want rate_limited", err)
	}
}

func TestFilesAreRefusedUnlessTheUndocumentedUploadIsOptedIn(t *testing.T) {
	t.Parallel()
	spec := platform.DeploySpec{ProjectName: "files", Files: []platform.ProjectFile{{Path: "index.js", Data: []byte("console.log(1)")}}}
	err := railway.New(nil, "").Validate(spec)
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonUnsupported || pe.Message != "Railway documents no file upload; give a repository or an image" {
		t.Fatalf("Validate = %v", err)
	}
	c, fake := setup(t, railway.WithUndocumentedUpload(true))
	spec.Files = append(spec.Files, platform.ProjectFile{Path: "package.json", Data: []byte(`{}`)})
	spec.Env = map[string]string{"A": "b"}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if got := fake.DeploymentFiles(p.DeploymentID); strings.Join(got, ",") != "index.js,package.json" {
		t.Errorf("the uploaded deployment has files %v", got)
	}
	if fake.Calls("up") != 1 || fake.Calls("serviceInstanceDeployV2") != 0 {
		t.Errorf("up %d, deploy %d: the upload starts the deployment", fake.Calls("up"), fake.Calls("serviceInstanceDeployV2"))
	}
	if st, _ := deploytest.WaitTerminal(t, c, token, p); st.Status != platform.DeployReady {
		t.Errorf("state = %+v", st)
	}
}

func TestCancelRemovesABuildingDeployment(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	spec := imageSpec("cancel")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if err := c.Cancel(deploytest.Context(t), token, p); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Status(deploytest.Context(t), token, p); err != nil || st.Status != platform.DeployCanceled {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestRollbackMakesTheEarlierDeploymentActive(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("roll")
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	deploytest.WaitTerminal(t, c, token, first)
	second := first
	second.DeploymentID = ""
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &second); err != nil {
		t.Fatal(err)
	}
	deploytest.WaitTerminal(t, c, token, second)
	if fake.ActiveDeployment(first.ServiceID) != second.DeploymentID {
		t.Fatal("the second deployment is not active")
	}
	if err := c.Rollback(deploytest.Context(t), token, second, first.DeploymentID); err != nil {
		t.Fatal(err)
	}
	if got := fake.ActiveDeployment(first.ServiceID); got != first.DeploymentID {
		t.Errorf("active = %s, want %s", got, first.DeploymentID)
	}
}

func TestCheckNameNeedsNoCallBecauseRailwayNamesNeedNotBeUnique(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ok, sugg, err := c.CheckName(deploytest.Context(t), token, "", "My Project")
	if err != nil || !ok || sugg != "" {
		t.Fatalf("CheckName = %v %q %v", ok, sugg, err)
	}
	ok, sugg, err = c.CheckName(deploytest.Context(t), token, "", "  padded  ")
	if err != nil || ok || sugg != "padded" {
		t.Fatalf("CheckName(padded) = %v %q %v", ok, sugg, err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests were sent", n)
	}
}

func TestAURLWithoutAQueryStringGetsOne(t *testing.T) {
	t.Parallel()
	fake := railwayfake.New()
	defer fake.Close()
	c := railway.New(nil, fake.URL+railwayfake.GraphQLPath)
	if _, err := c.Whoami(deploytest.Context(t), token); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].URL; got != railwayfake.GraphQLPath+"?source=switchboard" {
		t.Errorf("request URL = %s", got)
	}
}

func TestNoErrorCarriesTheTokenOrTheConnectionString(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("leak")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	conn := deploytest.RunSteps(t, c, token, &spec, &p)
	fake.FailNext("variableCollectionUpsert", http.StatusOK, "BAD_USER_INPUT", 1)
	errs := []error{c.SetEnv(deploytest.Context(t), token, spec, &p)}
	fake.RejectToken(token)
	_, err := c.ProvisionDatabase(deploytest.Context(t), token, spec, &p)
	errs = append(errs, err)
	_, err = c.Status(deploytest.Context(t), token, p)
	errs = append(errs, err)
	_, err = railway.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/graphql/v2").Whoami(deploytest.Context(t), token)
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
