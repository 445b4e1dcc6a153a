package vercel_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/deploytest"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
)

const token = "vercel-secret-token-7f3a"

// setup starts a fake and a client; when the test ends, every request the
// client sent is held to Vercel's description.
func setup(t *testing.T, opts ...vercel.Option) (*vercel.Client, *vercelfake.Server) {
	t.Helper()
	fake := vercelfake.New()
	t.Cleanup(func() {
		checkContract(t, fake)
		fake.Close()
	})
	return vercel.New(&http.Client{Timeout: 10 * time.Second}, fake.URL, opts...), fake
}

func site(name string) platform.DeploySpec {
	return platform.DeploySpec{
		ProjectName: name,
		Files: []platform.ProjectFile{
			{Path: "index.html", Data: []byte("<h1>hello</h1>")},
			{Path: "about/index.html", Data: []byte("<h1>about</h1>")},
			{Path: "copy.html", Data: []byte("<h1>hello</h1>")}, // same digest as index.html
			{Path: "empty.txt", Data: nil},
		},
		Env: map[string]string{"API_URL": "https://api.example.com", "SECRET": "s3cr3t"},
	}
}

func texts(lines []platform.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s: %s\n", l.Type, l.Text)
	}
	return b.String()
}

func TestDeployingFilesRunsEveryStepToReadyWithBuildLogs(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("my-site")
	var p platform.DeployProgress
	if conn := deploytest.RunSteps(t, c, token, &spec, &p); conn != "" {
		t.Fatalf("Vercel makes no database, yet ProvisionDatabase answered %q", conn)
	}
	if p.ProjectID == "" || p.DeploymentID == "" || p.URL != "" {
		t.Fatalf("progress = %+v: the protected per-deployment URL is never kept", p)
	}
	env := fake.DeploymentEnv(p.DeploymentID)
	if env["API_URL"] != "https://api.example.com" || env["SECRET"] != "s3cr3t" {
		t.Errorf("the first build saw env %v: the variables must be set before it", env)
	}
	if got := fake.Calls("uploadFile"); got != 3 {
		t.Errorf("uploads = %d, want 3 (four files, two with the same content)", got)
	}
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployReady || st.URL != "https://my-site.vercel.app" {
		t.Fatalf("state = %+v", st)
	}
	all := texts(lines)
	for _, want := range []string{"state: QUEUED", "command: Running \"npm run build\"", "stdout: Build Completed", "state: READY"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if strings.Count(all, "state: READY") != 1 || strings.Count(all, "state: QUEUED") != 1 {
		t.Errorf("a log line came twice across cursors:\n%s", all)
	}
	for _, l := range lines {
		if l.At.IsZero() || l.Cursor == "" {
			t.Errorf("line %+v lacks a time or a cursor", l)
		}
	}
}

func TestResumingWithTheSameProgressCreatesNoSecondProjectOrDeployment(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("resumed")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	first := p
	deploytest.RunSteps(t, c, token, &spec, &p)
	if p.ProjectID != first.ProjectID || p.DeploymentID != first.DeploymentID {
		t.Errorf("progress changed on resume: %+v -> %+v", first, p)
	}
	// createDeployment: the one Vercel answered missing_files, then the one it made.
	for op, want := range map[string]int{"createProject": 1, "createDeployment": 2, "uploadFile": 3} {
		if got := fake.Calls(op); got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
}

func TestAProjectCreatedByAnUnansweredCreateIsAdoptedNotDuplicated(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("lost-answer")
	fake.LoseAnswers("createProject", 1)
	var p platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("the lost answer: %v, want transient", err)
	}
	// The worker saved the progress and tries again: Vercel answers 409.
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); err != nil {
		t.Fatal(err)
	}
	if p.ProjectID == "" || fake.Projects() != 1 || fake.Calls("createProject") != 2 {
		t.Errorf("progress %+v, %d projects, %d creates", p, fake.Projects(), fake.Calls("createProject"))
	}
	// Without the record of the unanswered create, the same project is
	// not assumed to be Switchboard's.
	var fresh platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &fresh); platform.ReasonOf(err) != platform.ReasonConflict {
		t.Errorf("a fresh attempt adopted the project: %v", err)
	}
}

func TestMissingFilesAreUploadedAndTheDeploymentAskedForOnceMore(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("missing")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	fake.ForgetFiles() // Vercel no longer has them
	var p2 platform.DeployProgress
	p2.ProjectID = p.ProjectID
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &p2); err != nil {
		t.Fatalf("StartDeployment: %v", err)
	}
	if p2.DeploymentID == "" || p2.DeploymentID == p.DeploymentID {
		t.Fatalf("no new deployment: %+v", p2)
	}
	if got := fake.Calls("createDeployment"); got != 4 {
		t.Errorf("createDeployment called %d times, want 4 (missing_files and create, twice)", got)
	}
	if got := fake.Calls("uploadFile"); got != 6 {
		t.Errorf("uploadFile called %d times, want 3 + 3 missing", got)
	}
}

func TestUploadsAreBoundedToTheConfiguredConcurrency(t *testing.T) {
	t.Parallel()
	c, fake := setup(t, vercel.WithUploadConcurrency(3))
	fake.UploadDelay = 30 * time.Millisecond
	spec := platform.DeploySpec{ProjectName: "many"}
	for i := range 12 {
		spec.Files = append(spec.Files, platform.ProjectFile{Path: fmt.Sprintf("f%d.txt", i), Data: []byte(fmt.Sprint(i))})
	}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if got := fake.Calls("uploadFile"); got != 12 {
		t.Fatalf("uploads = %d, want 12", got)
	}
	if got := fake.MaxConcurrentUploads(); got < 2 || got > 3 {
		t.Errorf("at most %d uploads ran at once, want 2..3", got)
	}
}

func TestAFailedBuildEndsInErrorWithVercelsMessage(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailBuild("broken", "Error: Cannot find module 'react'")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, ptr(site("broken")), &p)
	st, lines := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployError || st.Message != "Error: Cannot find module 'react'" || st.PlatformState != "ERROR" {
		t.Fatalf("state = %+v", st)
	}
	if !strings.Contains(texts(lines), "stderr: Error: Cannot find module 'react'") {
		t.Errorf("the logs lack the failure:\n%s", texts(lines))
	}
}

func TestAnIdempotentCallIsRetriedAfterA500(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, ptr(site("retry")), &p)
	fake.FailNext("getDeployment", http.StatusInternalServerError, "", 1)
	if _, err := c.Status(deploytest.Context(t), token, p); err != nil {
		t.Fatalf("Status after one 500: %v", err)
	}
	if got := fake.Calls("getDeployment"); got != 2 {
		t.Errorf("getDeployment called %d times, want 2", got)
	}
}

func TestACreateIsNotRepeatedAfterA500(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("createProject", http.StatusInternalServerError, "", 1)
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, site("once"), &p)
	if platform.ReasonOf(err) != platform.ReasonTransient {
		t.Fatalf("err = %v, want transient", err)
	}
	if got := fake.Calls("createProject"); got != 1 {
		t.Errorf("createProject called %d times, want 1: a create is not retried in-line", got)
	}
}

func TestA429IsWaitedOutForItsRetryAfter(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext("getProject", http.StatusTooManyRequests, "rate_limited", 1)
	start := time.Now()
	ok, _, err := c.CheckName(deploytest.Context(t), token, "", "free-name")
	if err != nil || !ok {
		t.Fatalf("CheckName = %v, %v", ok, err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, before the 1 s Retry-After", waited)
	}
}

func TestALongRateLimitIsReturnedWithItsResetForTheWorker(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RetryAfter = 30 * time.Second
	fake.FailNext("getProject", http.StatusTooManyRequests, "rate_limited", 1)
	_, _, err := c.CheckName(deploytest.Context(t), token, "", "free-name")
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonRateLimited || pe.Code != "rate_limited" {
		t.Fatalf("err = %v", err)
	}
	if pe.RetryAfter < 25*time.Second || pe.RetryAfter > 31*time.Second {
		t.Errorf("RetryAfter = %v, want about 30 s", pe.RetryAfter)
	}
}

func TestWithoutRetryAfterTheRateLimitBodysResetIsUsed(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RetryAfter = 20 * time.Second
	fake.NoRetryAfterHeader = true
	fake.FailNext("getAuthUser", http.StatusTooManyRequests, "rate_limited", 1)
	_, err := c.Whoami(deploytest.Context(t), token)
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonRateLimited || pe.RetryAfter < 18*time.Second || pe.RetryAfter > 21*time.Second {
		t.Fatalf("err = %v, RetryAfter %v: want about 20 s from limit.reset", err, pe.RetryAfter)
	}
}

func TestARefusedTokenIsAnExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	_, err := c.Whoami(deploytest.Context(t), token)
	if platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("403 invalidToken: err = %v, want expired_token", err)
	}
	c2, fake2 := setup(t)
	fake2.FailNext("getAuthUser", http.StatusUnauthorized, "invalid_token", 1)
	if _, err := c2.Whoami(deploytest.Context(t), token); platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("401: err = %v, want expired_token", err)
	}
	fake2.FailNext("getAuthUser", http.StatusForbidden, "forbidden", 1)
	if _, err := c2.Whoami(deploytest.Context(t), token); platform.ReasonOf(err) != platform.ReasonPermission {
		t.Fatalf("403 forbidden: err = %v, want permission", err)
	}
}

func TestWhoamiNamesTheAccount(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	acc, err := c.Whoami(deploytest.Context(t), token)
	if err != nil || acc.ID != "usr_fake" || acc.Name != "Fake Developer" || acc.Extra["email"] != "dev@example.com" {
		t.Fatalf("Whoami = %+v, %v", acc, err)
	}
}

func TestCancelStopsABuildingDeployment(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, ptr(site("cancel-me")), &p)
	if err := c.Cancel(deploytest.Context(t), token, p); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	st, err := c.Status(deploytest.Context(t), token, p)
	if err != nil || st.Status != platform.DeployCanceled {
		t.Fatalf("Status = %+v, %v", st, err)
	}
}

func TestRollbackToADeploymentThatServedProductionUsesInstantRollback(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("roll")
	var first platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &first)
	deploytest.WaitTerminal(t, c, token, first)
	second := platform.DeployProgress{ProjectID: first.ProjectID}
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &second); err != nil {
		t.Fatal(err)
	}
	deploytest.WaitTerminal(t, c, token, second)
	if fake.LiveDeployment(first.ProjectID) != second.DeploymentID {
		t.Fatal("the second deployment is not live")
	}
	if err := c.Rollback(deploytest.Context(t), token, second, first.DeploymentID); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := fake.LiveDeployment(first.ProjectID); got != first.DeploymentID {
		t.Errorf("live = %s, want the first deployment %s", got, first.DeploymentID)
	}
	if r, p := fake.Calls("requestRollback"), fake.Calls("requestPromote"); r != 1 || p != 0 {
		t.Errorf("rollback calls %d, promote calls %d: a deployment that served production goes back by instant rollback", r, p)
	}
}

func TestCheckNameSaysFreeOrSuggestsTheNextFreeName(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ok, sugg, err := c.CheckName(deploytest.Context(t), token, "team_1", "fresh")
	if err != nil || !ok || sugg != "" {
		t.Fatalf("free name: %v %q %v", ok, sugg, err)
	}
	for _, name := range []string{"taken", "taken-2"} {
		var p platform.DeployProgress
		if err := c.EnsureProject(deploytest.Context(t), token, platform.DeploySpec{ProjectName: name}, &p); err != nil {
			t.Fatal(err)
		}
	}
	ok, sugg, err = c.CheckName(deploytest.Context(t), token, "", "taken")
	if err != nil || ok || sugg != "taken-3" {
		t.Fatalf("taken name: %v %q %v", ok, sugg, err)
	}
	ok, sugg, err = c.CheckName(deploytest.Context(t), token, "", "My Site!")
	if err != nil || ok || sugg != "my-site" {
		t.Fatalf("invalid name: %v %q %v", ok, sugg, err)
	}
}

func TestValidateRefusesWhatVercelCannotDeploy(t *testing.T) {
	t.Parallel()
	c := vercel.New(nil, "")
	many := platform.DeploySpec{ProjectName: "many"}
	for i := range vercel.MaxFiles + 1 {
		many.Files = append(many.Files, platform.ProjectFile{Path: fmt.Sprintf("f%d", i)})
	}
	cases := map[string]struct {
		spec platform.DeploySpec
		want platform.Reason
	}{
		"repository without a branch": {platform.DeploySpec{ProjectName: "a", Repo: "https://github.com/a/b"}, platform.ReasonInvalid},
		"repository without a name":   {platform.DeploySpec{ProjectName: "a", Repo: "https://github.com/a", Branch: "main"}, platform.ReasonInvalid},
		"gitlab repository":           {platform.DeploySpec{ProjectName: "a", Repo: "https://gitlab.com/a/b", Branch: "main"}, platform.ReasonUnsupported},
		"self-hosted repository":      {platform.DeploySpec{ProjectName: "a", Repo: "https://git.example.com/a/b", Branch: "main"}, platform.ReasonUnsupported},
		"image":                       {platform.DeploySpec{ProjectName: "a", Image: "nginx"}, platform.ReasonUnsupported},
		"database":                    {platform.DeploySpec{ProjectName: "a", Files: site("a").Files, Database: "postgres"}, platform.ReasonUnsupported},
		"uppercase name":              {platform.DeploySpec{ProjectName: "MySite", Files: site("a").Files}, platform.ReasonInvalid},
		"triple dash":                 {platform.DeploySpec{ProjectName: "a---b", Files: site("a").Files}, platform.ReasonInvalid},
		"101 chars":                   {platform.DeploySpec{ProjectName: strings.Repeat("a", 101), Files: site("a").Files}, platform.ReasonInvalid},
		"15,001 files":                {many, platform.ReasonInvalid},
		"no source":                   {platform.DeploySpec{ProjectName: "a"}, platform.ReasonInvalid},
		"escaping path":               {platform.DeploySpec{ProjectName: "a", Files: []platform.ProjectFile{{Path: "../x"}}}, platform.ReasonInvalid},
	}
	for name, tc := range cases {
		if got := platform.ReasonOf(c.Validate(tc.spec)); got != tc.want {
			t.Errorf("%s: reason %q, want %q", name, got, tc.want)
		}
	}
	for _, good := range []platform.DeploySpec{site("ok.name_1-2"),
		{ProjectName: "a", Repo: "https://github.com/acme/web.git", Branch: "main"},
		{ProjectName: "a", Repo: "https://bitbucket.org/acme/web", Branch: "release"}} {
		if err := c.Validate(good); err != nil {
			t.Errorf("a good spec was refused: %v", err)
		}
	}
}

func TestNoErrorCarriesTheToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	var p platform.DeployProgress
	errs := []error{}
	_, err := c.Whoami(deploytest.Context(t), token)
	errs = append(errs, err)
	errs = append(errs, c.EnsureProject(deploytest.Context(t), token, site("x"), &p))
	p.ProjectID = "prj_x"
	errs = append(errs, c.SetEnv(deploytest.Context(t), token, site("x"), &p), c.StartDeployment(deploytest.Context(t), token, site("x"), &p))
	p.DeploymentID = "dpl_x"
	_, err = c.Status(deploytest.Context(t), token, p)
	errs = append(errs, err)
	// A transport failure too.
	dead := vercel.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1")
	_, err = dead.Whoami(deploytest.Context(t), token)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("a call with a refused token succeeded")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), token) {
				t.Errorf("error %q carries the token", e)
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestChoicesAreTheTeamsAndALegacyAccountsPersonalAccount(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	got, err := c.Choices(deploytest.Context(t), token)
	want := []platform.Workspace{{ID: "team_gracechurch", Name: "Grace Church"}, {ID: "team_fakehobby", Name: "Fake Developer's projects"}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("an account moved to teams: %+v, %v; want %+v", got, err, want)
	}
	fake.LegacyUser = true
	got, err = c.Choices(deploytest.Context(t), token)
	want = append([]platform.Workspace{{ID: "", Name: "Fake Developer (personal account)"}}, want...)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("a legacy account: %+v, %v; want %+v", got, err, want)
	}
}

func TestChoicesReadEveryPageOfTeams(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	var teams []vercelfake.Team
	for i := range 230 {
		teams = append(teams, vercelfake.Team{ID: fmt.Sprintf("team_%03d", i), Slug: fmt.Sprintf("t%d", i), Name: fmt.Sprintf("Team %d", i), CreatedAt: 1700000000000 + int64(i)*1000})
	}
	fake.SetTeams(teams...)
	got, err := c.Choices(deploytest.Context(t), token)
	if err != nil || len(got) != 230 || got[0].ID != "team_229" || got[229].ID != "team_000" {
		t.Fatalf("%d choices, %v: first %+v", len(got), err, got[:min(1, len(got))])
	}
	if n := fake.Calls("getTeams"); n != 3 {
		t.Fatalf("%d pages read, want 3 of 100", n)
	}
}

func TestChoicesWithARefusedTokenIsAnExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	if _, err := c.Choices(deploytest.Context(t), token); platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("err = %v, want expired_token", err)
	}
}
