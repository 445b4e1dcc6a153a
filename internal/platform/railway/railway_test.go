package railway_test

import (
	"encoding/json"
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
	fake.ValidateWith(loadSchema(t))
	t.Cleanup(func() {
		checkContract(t, fake)
		fake.Close()
	})
	opts = append([]railway.Option{railway.WithPolling(5*time.Millisecond, 5*time.Second)}, opts...)
	return railway.New(&http.Client{Timeout: 10 * time.Second}, fake.APIURL(), opts...), fake
}

func imageSpec(name string) platform.DeploySpec {
	return platform.DeploySpec{ProjectName: name, Image: "docker.io/library/nginx:1.27", TeamID: railwayfake.TeamWorkspace,
		Env: map[string]string{"PORT": "8080", "SECRET": "s3cr3t"}}
}

func TestDeployingAnImageWithPostgresRunsEveryStepToSuccessWithBuildLogs(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("shop")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	conn := deploytest.RunSteps(t, c, token, &spec, &p)
	if conn != "${{Postgres.DATABASE_URL}}" {
		t.Fatalf("connection string = %q, want the reference variable", conn)
	}
	if p.ProjectID == "" || p.EnvironmentID == "" || p.ServiceID == "" || p.DatabaseID == "" || p.DeploymentID == "" {
		t.Fatalf("progress = %+v", p)
	}
	if ws := fake.ProjectWorkspace(p.ProjectID); ws != railwayfake.TeamWorkspace {
		t.Errorf("the project is in workspace %q, want the spec's", ws)
	}
	vars := fake.DeploymentVars(p.DeploymentID)
	if !strings.Contains(vars["DATABASE_URL"], "@postgres.railway.internal:5432/") || vars["SECRET"] != "s3cr3t" {
		t.Errorf("the deployment was built with %v", vars)
	}
	if pub := vars["DATABASE_PUBLIC_URL"]; !strings.HasPrefix(pub, "postgresql://") || strings.Contains(pub, "railway.internal") {
		t.Errorf("DATABASE_PUBLIC_URL = %q: a build cannot reach the private network", pub)
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
		// app and Postgres
		t.Errorf("%d projects and %d services, want 1 and 2 (app and Postgres)", projects, services)
	}
}

func TestARepositorySourceIsGivenAsOwnerAndName(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := platform.DeploySpec{ProjectName: "from-git", Repo: "https://github.com/acme/site.git", Branch: "main", TeamID: railwayfake.PersonalWorkspace}
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
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonExpiredToken || !strings.HasPrefix(pe.Message, "Not Authorized") {
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
	spec := platform.DeploySpec{ProjectName: "files", Files: []platform.ProjectFile{{Path: "index.js", Data: []byte("console.log(1)")}}, TeamID: railwayfake.PersonalWorkspace}
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
	// The client hands out a reference Railway resolves at deploy time,
	// never the database's password: that is what keeps it out of errors.
	if !strings.HasPrefix(conn, "${{") {
		t.Fatalf("the database URL %q is not a reference", conn)
	}
	fake.FailNext("variableCollectionUpsert", http.StatusOK, "BAD_USER_INPUT", 1)
	errs := []error{c.SetEnv(deploytest.Context(t), token, spec, &p)}
	fake.RejectToken(token)
	errs = append(errs, c.EnsureProject(deploytest.Context(t), token, spec, &platform.DeployProgress{}))
	_, err := c.Status(deploytest.Context(t), token, p)
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

func TestWhoamiListsTheWorkspacesOfEachKindOfToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddOAuthToken("oauth-token-1", railwayfake.TeamWorkspace)
	fake.AddWorkspaceToken("ws-token-1", railwayfake.PersonalWorkspace)
	projectID := fake.AddProjectToken("project-token-1", "blog")
	ctx := deploytest.Context(t)
	cases := []struct {
		name, token, wantID string
		wantWorkspaces      []string
	}{
		{"account", token, "user-fake", []string{railwayfake.PersonalWorkspace, railwayfake.TeamWorkspace}},
		{"oauth", "oauth-token-1", "user-fake", []string{railwayfake.TeamWorkspace}},
		{"workspace", platform.TokenOfKind(railway.TokenWorkspace, "ws-token-1"), railwayfake.PersonalWorkspace, []string{railwayfake.PersonalWorkspace}},
		{"project", platform.TokenOfKind(railway.TokenProject, "project-token-1"), projectID, nil},
	}
	for _, tc := range cases {
		acc, err := c.Whoami(ctx, tc.token)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var ids []string
		for _, w := range acc.Workspaces {
			ids = append(ids, w.ID)
			if w.Name == "" {
				t.Errorf("%s: workspace %s has no name", tc.name, w.ID)
			}
		}
		if acc.ID != tc.wantID || strings.Join(ids, ",") != strings.Join(tc.wantWorkspaces, ",") {
			t.Errorf("%s: account %q with workspaces %v, want %q with %v", tc.name, acc.ID, ids, tc.wantID, tc.wantWorkspaces)
		}
	}
	if acc, _ := c.Whoami(ctx, platform.TokenOfKind(railway.TokenProject, "project-token-1")); acc.Name != "blog" || acc.Extra["environment_id"] == "" {
		t.Errorf("project token account = %+v", acc)
	}
	// `me` refuses workspace and project tokens: the client must not ask it.
	for _, r := range fake.Requests() {
		if r.Op == "me" && (r.Header.Get("Project-Access-Token") != "" || r.Header.Get("Authorization") == "Bearer ws-token-1") {
			t.Errorf("me was asked with a %s token", map[bool]string{true: "project", false: "workspace"}[r.Header.Get("Project-Access-Token") != ""])
		}
	}
}

func TestAProjectTokenGoesInItsOwnHeaderAndDeploysIntoItsProject(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	projectID := fake.AddProjectToken("project-token-2", "blog")
	tok := platform.TokenOfKind(railway.TokenProject, "project-token-2")
	spec := imageSpec("blog")
	spec.TeamID = ""
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, tok, &spec, &p)
	if p.ProjectID != projectID || fake.Calls("projectCreate") != 0 {
		t.Fatalf("project %s (want %s), projectCreate asked %d times", p.ProjectID, projectID, fake.Calls("projectCreate"))
	}
	if st, _ := deploytest.WaitTerminal(t, c, tok, p); st.Status != platform.DeployReady {
		t.Fatalf("state = %+v", st)
	}
	for _, r := range fake.Requests() {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Project-Access-Token") != "project-token-2" {
			t.Fatalf("%s sent Authorization %q and Project-Access-Token %q", r.Op, r.Header.Get("Authorization"), r.Header.Get("Project-Access-Token"))
		}
	}
	// A second deployment of the same name finds the service instead of
	// making another.
	var again platform.DeployProgress
	deploytest.RunSteps(t, c, tok, &spec, &again)
	if again.ServiceID != p.ServiceID || fake.Calls("serviceCreate") != 1 {
		t.Errorf("service %s then %s; serviceCreate asked %d times", p.ServiceID, again.ServiceID, fake.Calls("serviceCreate"))
	}
}

func TestTheFakeRefusesAnOAuthTokensProjectCreateWithoutAWorkspaceAsRailwayDoes(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddOAuthToken("oauth-token-3", railwayfake.TeamWorkspace)
	status, errs := postGraphQL(t, fake, "oauth-token-3",
		`{"query":"mutation($input: ProjectCreateInput!) { projectCreate(input: $input) { id } }","variables":{"input":{"name":"x"}}}`)
	if status != http.StatusOK || len(errs) != 1 || !strings.Contains(errs[0].Message, "workspaceId") || errs[0].Extensions.Code == "" {
		t.Fatalf("status %d, errors %+v", status, errs)
	}
	if n := fake.ProjectsNamed("x"); n != 0 {
		t.Errorf("%d projects were made", n)
	}
	// The client's Postgres template deploy into a project of the grant
	// without the workspace is refused too.
	spec := imageSpec("tpl")
	var p platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), "oauth-token-3", spec, &p); err != nil {
		t.Fatal(err)
	}
	spec.TeamID, spec.Database = "", platform.DatabasePostgres
	if _, err := c.ProvisionDatabase(deploytest.Context(t), "oauth-token-3", spec, &p); err == nil || !strings.Contains(err.Error(), "workspaceId") {
		t.Errorf("a template deploy without a workspace: %v", err)
	}
}

func TestEveryCreateCarriesTheWorkspaceAndNoneIsMadeWithoutOne(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddOAuthToken("oauth-token-4", railwayfake.TeamWorkspace)
	spec := imageSpec("shop")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, "oauth-token-4", &spec, &p)
	for _, r := range fake.Requests() {
		if r.Op == "projectCreate" || r.Op == "templateDeployV2" {
			if in := r.Variables["input"].(map[string]any); in["workspaceId"] != railwayfake.TeamWorkspace {
				t.Errorf("%s input = %v", r.Op, in)
			}
		}
	}
	spec.TeamID = ""
	err := c.EnsureProject(deploytest.Context(t), "oauth-token-4", spec, &platform.DeployProgress{})
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonInvalid || !strings.Contains(pe.Message, "workspace") {
		t.Fatalf("EnsureProject without a workspace = %v", err)
	}
	if fake.Calls("projectCreate") != 1 {
		t.Errorf("projectCreate asked %d times", fake.Calls("projectCreate"))
	}
}

func TestNotAuthorizedOnAWorkspaceOutsideTheGrantNamesTheWorkspace(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddOAuthToken("oauth-token-5", railwayfake.TeamWorkspace)
	spec := imageSpec("elsewhere")
	spec.TeamID = railwayfake.PersonalWorkspace
	err := c.EnsureProject(deploytest.Context(t), "oauth-token-5", spec, &platform.DeployProgress{})
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonExpiredToken || !strings.Contains(pe.Message, "workspace "+railwayfake.PersonalWorkspace) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Whoami(deploytest.Context(t), "oauth-token-5"); err != nil {
		t.Errorf("me no longer answers: %v", err)
	}
}

func TestAProjectWhoseCreateAnswerWasLostIsFoundAgainNotMadeTwice(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.DropAnswer("projectCreate", 1)
	spec := imageSpec("lost")
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, spec, &p)
	if platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("first EnsureProject = %v, want a transient failure", err)
	}
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); err != nil {
		t.Fatal(err)
	}
	if n := fake.ProjectsNamed("lost"); n != 1 || p.ProjectID == "" || fake.Calls("projectCreate") != 1 {
		t.Errorf("%d projects named lost, %d projectCreate calls, progress %+v", n, fake.Calls("projectCreate"), p)
	}
}

func TestAServiceReusedByALaterDeploymentIsPointedAtItsNewSource(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("site")
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	spec.OwnedProjectID = first.ProjectID // the deploy worker's record
	var next platform.DeployProgress
	spec.Image = "docker.io/library/nginx:1.28"
	deploytest.RunSteps(t, c, token, &spec, &next)
	if fake.Calls("projectCreate") != 1 || fake.Calls("serviceCreate") != 1 || fake.Calls("serviceDomainCreate") != 1 {
		t.Errorf("creates: project %d, service %d, domain %d", fake.Calls("projectCreate"), fake.Calls("serviceCreate"), fake.Calls("serviceDomainCreate"))
	}
	found := false
	for _, r := range fake.Requests() {
		if r.Op == "serviceConnect" {
			found = r.Variables["input"].(map[string]any)["image"] == "docker.io/library/nginx:1.28"
		}
	}
	if !found || next.DeploymentID == first.DeploymentID {
		t.Errorf("the reused service was not pointed at the new image (deployment %s)", next.DeploymentID)
	}
}

func TestAReusedProjectKeepsItsOneDatabase(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("db-twice")
	spec.Database = platform.DatabasePostgres
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	spec.OwnedProjectID = first.ProjectID
	var next platform.DeployProgress
	spec.Env = map[string]string{"PORT": "8080"}
	if conn := deploytest.RunSteps(t, c, token, &spec, &next); conn != "${{Postgres.DATABASE_URL}}" || next.DatabaseID != first.DatabaseID {
		t.Errorf("second deployment: %q, database %s (first %s)", conn, next.DatabaseID, first.DatabaseID)
	}
	if fake.Calls("templateDeployV2") != 1 {
		t.Errorf("templateDeployV2 asked %d times", fake.Calls("templateDeployV2"))
	}
}

func TestAWorkflowNotFoundRightAfterTheTemplateDeployKeepsPolling(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.WorkflowLag = 2
	spec := imageSpec("lag")
	spec.Database = platform.DatabasePostgres
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	// NotFound twice, Running twice, then Complete: five polls, and the
	// service found only after Complete.
	if got := fake.Calls("workflowStatus"); got != 5 || p.DatabaseID == "" {
		t.Errorf("workflowStatus asked %d times (want 5), database %q", got, p.DatabaseID)
	}
}

func TestTheClientPacesTheWorkersPollsForRailwaysHourlyLimit(t *testing.T) {
	t.Parallel()
	var d platform.Deployer = railway.New(nil, "")
	paced, ok := d.(platform.Paced)
	if !ok || paced.PollEvery() < 15*time.Second {
		t.Fatalf("the Railway client does not pace polls slowly enough for 100 requests an hour")
	}
}

func TestAProjectMadeBeforeButDeletedAtRailwayIsMadeAnew(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := imageSpec("gone")
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	fake.DeleteProject(first.ProjectID)
	spec.OwnedProjectID = first.ProjectID
	var next platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &next)
	if next.ProjectID == "" || next.ProjectID == first.ProjectID || fake.Calls("projectCreate") != 2 {
		t.Errorf("project %q after %q was deleted; projectCreate asked %d times", next.ProjectID, first.ProjectID, fake.Calls("projectCreate"))
	}
}

func TestAServiceWhoseCreateAnswerWasLostIsFoundAgainNotMadeTwice(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.DropAnswer("serviceCreate", 1)
	spec := imageSpec("lost-service")
	var p platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("first EnsureProject = %v, want a transient failure", err)
	}
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); err != nil {
		t.Fatal(err)
	}
	if _, services := fake.Counts(); services != 1 || p.ServiceID == "" || fake.Calls("serviceCreate") != 1 {
		t.Errorf("%d services, %d serviceCreate calls, progress %+v", services, fake.Calls("serviceCreate"), p)
	}
}

func TestTheFakeRefusesADocumentRailwaysSchemaDoesNotAllow(t *testing.T) {
	t.Parallel()
	fake := railwayfake.New() // not setup: this request breaks the contract on purpose
	defer fake.Close()
	fake.ValidateWith(loadSchema(t))
	status, errs := postGraphQL(t, fake, token, `{"query":"query { me { id handle } }"}`)
	if status != http.StatusBadRequest || len(errs) != 1 || errs[0].Extensions.Code != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("status %d, errors %+v", status, errs)
	}
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// postGraphQL sends a raw GraphQL body to the fake with a bearer token and
// returns the status and the errors in Railway's shape.
func postGraphQL(t *testing.T, fake *railwayfake.Server, bearer, body string) (int, []gqlError) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fake.APIURL(), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out.Errors
}
