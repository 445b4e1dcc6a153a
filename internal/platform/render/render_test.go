package render_test

import (
	"encoding/json"
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

// repoSpec is a Python web service from a repository, with its commands.
func repoSpec(name string) platform.DeploySpec {
	return platform.DeploySpec{ProjectName: name, Repo: "https://github.com/acme/site", Branch: "main",
		Runtime: "python", BuildCommand: "pip install -r requirements.txt", StartCommand: "gunicorn app:app",
		Env: map[string]string{"NODE_ENV": "production", "SECRET": "s3cr3t"}}
}

// deployedLive runs every step of spec and follows its deploy until it ends.
func deployedLive(t *testing.T, c *render.Client, spec platform.DeploySpec) platform.DeployProgress {
	t.Helper()
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	if st, _ := deploytest.WaitTerminal(t, c, token, p); st.Status != platform.DeployReady {
		t.Fatalf("%s ended %+v", spec.ProjectName, st)
	}
	return p
}

// createBody is the JSON body of the fake's only POST /services.
func createBody(t *testing.T, fake *renderfake.Server) map[string]any {
	t.Helper()
	var bodies []map[string]any
	for _, r := range fake.Requests() {
		if r.Op == "createService" {
			var b map[string]any
			if err := json.Unmarshal(r.Body, &b); err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, b)
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("%d creates", len(bodies))
	}
	return bodies[0]
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
	for _, want := range []string{"Running build command 'pip install -r requirements.txt'", "Build successful", "Your service is live"} {
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

func TestA429IsWaitedOutForItsRetryAfterBeforeRateLimitReset(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	// Retry-After (1 s) wins over RateLimit-Reset (60 s): with the reset
	// alone the call would be handed to the worker for a minute.
	fake.RatelimitReset, fake.RetryAfter = 60, 1
	fake.FailNext("getUser", http.StatusTooManyRequests, "", 1)
	start := time.Now()
	if _, err := c.Whoami(deploytest.Context(t), token); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond || waited > 5*time.Second {
		t.Errorf("retried after %v: want Retry-After's 1 s", waited)
	}
	if fake.Calls("getUser") != 2 {
		t.Errorf("getUser called %d times", fake.Calls("getUser"))
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

func TestRollbackIsANewDeployFollowedUntilLive(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("roll")
	first := deployedLive(t, c, spec)
	second := first
	second.Extra = map[string]string{"ownerId": first.Extra["ownerId"], "render.redeploy": "1"}
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &second); err != nil {
		t.Fatal(err)
	}
	deploytest.WaitTerminal(t, c, token, second)
	if fake.LiveBuild(first.ServiceID) != second.DeploymentID {
		t.Fatal("the second deploy is not live")
	}
	back := second
	if err := c.StartRollback(deploytest.Context(t), token, &back, first.DeploymentID); err != nil {
		t.Fatal(err)
	}
	if back.DeploymentID == "" || back.DeploymentID == first.DeploymentID || back.DeploymentID == second.DeploymentID {
		t.Fatalf("the rollback's deploy is %q: Render answers a new one", back.DeploymentID)
	}
	if st := fake.DeployStatus(back.DeploymentID); st == "live" {
		t.Fatalf("the rollback's deploy is %s before it was followed", st)
	}
	st, _ := deploytest.WaitTerminal(t, c, token, back)
	if st.Status != platform.DeployReady || st.PlatformState != "live" || fake.LiveBuild(first.ServiceID) != first.DeploymentID {
		t.Fatalf("after the rollback: %+v, live build %s", st, fake.LiveBuild(first.ServiceID))
	}
	if fake.Calls("rollbackDeploy") != 1 {
		t.Fatal("no rollback was asked")
	}
}

func TestARepositoryWithoutARuntimeIsAStaticSite(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		spec    platform.DeploySpec
		details map[string]any
	}{
		"prebuilt files": {platform.DeploySpec{Repo: "https://github.com/acme/www"}, map[string]any{}},
		"with a build": {platform.DeploySpec{Repo: "https://github.com/acme/www", BuildCommand: "hugo --minify", PublishPath: "dist"},
			map[string]any{"buildCommand": "hugo --minify", "publishPath": "dist"}},
		"runtime static": {platform.DeploySpec{Repo: "https://github.com/acme/www", Runtime: render.RuntimeStatic}, map[string]any{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			spec := tc.spec
			spec.ProjectName = "www"
			var p platform.DeployProgress
			deploytest.RunSteps(t, c, token, &spec, &p)
			body := createBody(t, fake)
			got, _ := json.Marshal(body["serviceDetails"])
			want, _ := json.Marshal(tc.details)
			if body["type"] != "static_site" || string(got) != string(want) {
				t.Fatalf("created %v with details %s, want a static site with %s", body["type"], got, want)
			}
			st, lines := deploytest.WaitTerminal(t, c, token, p)
			if st.Status != platform.DeployReady || st.URL != "https://www.onrender.com" || !strings.Contains(deploytest.Joined(lines), "Your site is live") {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

func TestAWebServiceCarriesItsRuntimeAndItsOwnCommands(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := repoSpec("api")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	body := createBody(t, fake)
	got, _ := json.Marshal(body["serviceDetails"])
	want := `{"envSpecificDetails":{"buildCommand":"pip install -r requirements.txt","startCommand":"gunicorn app:app"},"plan":"free","region":"oregon","runtime":"python"}`
	if body["type"] != "web_service" || string(got) != want {
		t.Fatalf("created %v with details %s", body["type"], got)
	}
	docker := platform.DeploySpec{ProjectName: "box", Repo: "https://github.com/acme/box", Runtime: "docker"}
	c2, fake2 := setup(t)
	deploytest.RunSteps(t, c2, token, &docker, &platform.DeployProgress{})
	got, _ = json.Marshal(createBody(t, fake2)["serviceDetails"])
	if string(got) != `{"plan":"free","region":"oregon","runtime":"docker"}` {
		t.Errorf("docker details %s", got)
	}
}

func TestValidateRefusesWhatRenderWouldRefuseAndGuessesNoCommand(t *testing.T) {
	t.Parallel()
	c := render.New(nil, "")
	repo := func(rt, build, start, publish string) platform.DeploySpec {
		return platform.DeploySpec{ProjectName: "x", Repo: "https://github.com/a/b", Runtime: rt, BuildCommand: build, StartCommand: start, PublishPath: publish}
	}
	for name, tc := range map[string]struct {
		spec platform.DeploySpec
		want string
	}{
		"start without runtime":    {repo("", "", "npm start", ""), "a start command runs a web service"},
		"node without commands":    {repo("node", "", "", ""), "needs both its build command and its start command"},
		"python without start":     {repo("python", "pip install .", "", ""), "needs both"},
		"publish path with python": {repo("python", "b", "s", "public"), "a publish path belongs to a static site"},
		"docker with a build":      {repo("docker", "make", "", ""), "builds from its Dockerfile"},
		"unknown runtime":          {repo("deno", "b", "s", ""), `runtime "deno" is not one Render offers`},
		"image with a runtime":     {platform.DeploySpec{ProjectName: "x", Image: "nginx:1", Runtime: "node"}, "an image runs as it was built"},
	} {
		err := c.Validate(tc.spec)
		if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonInvalid || !strings.Contains(pe.Message, tc.want) {
			t.Errorf("%s: Validate = %v, want %q", name, err, tc.want)
		}
	}
	for _, ok := range []platform.DeploySpec{repo("", "", "", ""), repo("", "make", "", "out"), repo("go", "go build -o app", "./app", ""), repo("docker", "", "", "")} {
		if err := c.Validate(ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestAProjectNameThatNamesAServiceDeploysThatServiceAgain(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	first := deployedLive(t, c, repoSpec("shop"))
	// A later deployment of the same project: new commands, one new variable.
	later := repoSpec("shop")
	later.StartCommand = "gunicorn -w 4 app:app"
	later.Env = map[string]string{"FEATURE": "on"}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &later, &p)
	if p.ServiceID != first.ServiceID || p.DeploymentID == "" || p.DeploymentID == first.DeploymentID {
		t.Fatalf("progress %+v after %+v: the same service, a new deploy", p, first)
	}
	svcs := fake.ServicesNamed("shop")
	if len(svcs) != 1 || fake.Calls("createService") != 1 || fake.Calls("updateService") != 1 || fake.Calls("createDeploy") != 1 {
		t.Fatalf("%d services; create %d, update %d, deploy %d", len(svcs), fake.Calls("createService"), fake.Calls("updateService"), fake.Calls("createDeploy"))
	}
	env, _ := svcs[0].Details["envSpecificDetails"].(map[string]any)
	if env["startCommand"] != "gunicorn -w 4 app:app" {
		t.Errorf("the service's details are %v", svcs[0].Details)
	}
	// Variables are set one at a time: those the service had stay.
	if fake.Calls("updateEnvVars") != 0 || fake.Calls("updateEnvVar") != 1 || svcs[0].Env["SECRET"] != "s3cr3t" || svcs[0].Env["FEATURE"] != "on" {
		t.Errorf("bulk %d, single %d, env %v", fake.Calls("updateEnvVars"), fake.Calls("updateEnvVar"), svcs[0].Env)
	}
	if st, _ := deploytest.WaitTerminal(t, c, token, p); st.Status != platform.DeployReady || fake.DeployEnv(p.DeploymentID)["FEATURE"] != "on" {
		t.Fatalf("state %+v", st)
	}
}

func TestAServiceOfTheNameButAnotherTypeIsAPlainConflict(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	site := platform.DeploySpec{ProjectName: "home", Repo: "https://github.com/acme/www"}
	deploytest.RunSteps(t, c, token, &site, &platform.DeployProgress{})
	api := repoSpec("home")
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, api, &p)
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonConflict || !strings.Contains(pe.Message, "static site") {
		t.Fatalf("err = %v", err)
	}
	if fake.Calls("createService") != 1 || fake.Calls("updateService") != 0 || p.ServiceID != "" {
		t.Errorf("a refused deployment changed something: %+v", p)
	}
}

func TestARetryAfterALostCreateAnswerAdoptsWhatTheCreateMade(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.LoseAnswers("createService", 1)
	spec := repoSpec("lost")
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, spec, &p)
	if platform.ReasonOf(err) != platform.ReasonTransient || p.ServiceID != "" {
		t.Fatalf("err = %v, progress %+v", err, p)
	}
	deploytest.RunSteps(t, c, token, &spec, &p)
	svcs := fake.ServicesNamed("lost")
	if len(svcs) != 1 || p.ServiceID != svcs[0].ID || p.DeploymentID == "" {
		t.Fatalf("services %+v, progress %+v", svcs, p)
	}
	// The create's own first deploy is followed: no update, no second deploy.
	if fake.Calls("createService") != 1 || fake.Calls("updateService") != 0 || fake.Calls("createDeploy") != 0 || fake.Calls("updateEnvVars") != 0 {
		t.Errorf("create %d, update %d, deploy %d, env %d", fake.Calls("createService"), fake.Calls("updateService"),
			fake.Calls("createDeploy"), fake.Calls("updateEnvVars"))
	}
	if st, _ := deploytest.WaitTerminal(t, c, token, p); st.Status != platform.DeployReady {
		t.Fatalf("state %+v", st)
	}
}

func TestTheFakeRefusesASecondServiceOfTheSameNameInAWorkspace(t *testing.T) {
	t.Parallel()
	fake := renderfake.New()
	t.Cleanup(fake.Close)
	body := `{"type":"static_site","name":"dup","ownerId":"` + renderfake.OwnerID + `","repo":"https://github.com/a/b"}`
	post := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, fake.APIURL()+"/services", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if st, _ := post(body); st != http.StatusCreated {
		t.Fatalf("first create %d", st)
	}
	for name, tc := range map[string]struct {
		body string
		want int
	}{
		"same name, same workspace":   {body, http.StatusConflict},
		"web service without runtime": {`{"type":"web_service","name":"w","ownerId":"` + renderfake.OwnerID + `","repo":"r","serviceDetails":{"plan":"free"}}`, http.StatusBadRequest},
		"node without commands":       {`{"type":"web_service","name":"w","ownerId":"` + renderfake.OwnerID + `","repo":"r","serviceDetails":{"runtime":"node"}}`, http.StatusBadRequest},
		"static site with a runtime":  {`{"type":"static_site","name":"s","ownerId":"` + renderfake.OwnerID + `","repo":"r","serviceDetails":{"runtime":"node"}}`, http.StatusBadRequest},
		"unknown type":                {`{"type":"website","name":"s","ownerId":"` + renderfake.OwnerID + `","repo":"r"}`, http.StatusBadRequest},
	} {
		st, out := post(tc.body)
		if msg, _ := out["message"].(string); st != tc.want || msg == "" {
			t.Errorf("%s: %d %v, want %d with Render's {message}", name, st, out, tc.want)
		}
	}
}

func TestDeployStatusesFollowRendersEnum(t *testing.T) {
	t.Parallel()
	// Evidence: render-public-api.json deployStatus (11 values).
	want := map[string]platform.DeployStatus{
		"created": platform.DeployQueued, "queued": platform.DeployQueued,
		"build_in_progress": platform.DeployBuilding, "update_in_progress": platform.DeployBuilding, "pre_deploy_in_progress": platform.DeployBuilding,
		"live": platform.DeployReady, "deactivated": platform.DeployReady,
		"build_failed": platform.DeployError, "update_failed": platform.DeployError, "pre_deploy_failed": platform.DeployError,
		"canceled": platform.DeployCanceled,
	}
	for s, w := range want {
		if got := render.StatusOf(s); got != w {
			t.Errorf("StatusOf(%s) = %s, want %s", s, got, w)
		}
	}
}

func TestDatabaseStatusesWaitWhileTransitionalAndFailWhenFailed(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		statuses []string
		reason   platform.Reason // "" when it becomes available
	}{
		"transitional ones wait": {[]string{"creating", "config_restart", "updating_instance", "recovery_in_progress", "maintenance_in_progress", "unknown"}, ""},
		"maintenance scheduled":  {[]string{"maintenance_scheduled"}, ""},
		"recovery failed":        {[]string{"creating", "recovery_failed"}, platform.ReasonInvalid},
		"unavailable":            {[]string{"unavailable"}, platform.ReasonInvalid},
		"suspended":              {[]string{"suspended"}, platform.ReasonNotEligible},
		"not Render's":           {[]string{"config_change_in_progress"}, platform.ReasonInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			fake.DatabaseStatuses = tc.statuses
			spec := repoSpec("db")
			spec.Database = platform.DatabasePostgres
			p := platform.DeployProgress{Extra: map[string]string{"ownerId": renderfake.OwnerID}}
			conn, err := c.ProvisionDatabase(deploytest.Context(t), token, spec, &p)
			if tc.reason == "" {
				if err != nil || conn == "" {
					t.Fatalf("%q, %v", conn, err)
				}
				return
			}
			if platform.ReasonOf(err) != tc.reason || conn != "" {
				t.Fatalf("err = %v, want %s", err, tc.reason)
			}
		})
	}
}

func TestTheWorkspaceIsTheNamedOneOrTheKeysOnlyOne(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddTeam("tea-fakesharedteam", "Shared Team")
	spec := repoSpec("team-site")
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, spec, &p)
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonInvalid ||
		!strings.Contains(pe.Message, "several Render workspaces") || !strings.Contains(pe.Message, "tea-fakesharedteam") {
		t.Fatalf("no workspace named, two owners: %v", err)
	}
	spec.TeamID = "tea-nosuchteam"
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &p); platform.ReasonOf(err) != platform.ReasonNotFound {
		t.Fatalf("unknown workspace: %v", err)
	}
	if fake.Calls("createService") != 0 {
		t.Fatal("a refused deployment created a service")
	}
	spec.TeamID = "tea-fakesharedteam"
	deploytest.RunSteps(t, c, token, &spec, &p)
	if svcs := fake.ServicesNamed("team-site"); len(svcs) != 1 || svcs[0].OwnerID != "tea-fakesharedteam" || p.Extra["ownerId"] != "tea-fakesharedteam" {
		t.Fatalf("services %+v, progress %+v", svcs, p)
	}
	if _, lines := deploytest.WaitTerminal(t, c, token, p); len(lines) == 0 {
		t.Error("no build log from the team's workspace")
	}
	acc, err := c.Whoami(deploytest.Context(t), token)
	if err != nil || acc.ID != renderfake.OwnerID || acc.Extra["workspaces"] != "2" {
		t.Fatalf("Whoami = %+v, %v", acc, err)
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

func TestANameWithACommaIsRefusedBecauseRendersNameFilterSplitsIt(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	err := c.Validate(platform.DeploySpec{ProjectName: "shop, main", Repo: "https://github.com/a/b"})
	if pe, ok := platform.AsError(err); !ok || pe.Reason != platform.ReasonInvalid || !strings.Contains(pe.Message, "commas") {
		t.Fatalf("Validate = %v", err)
	}
	ok, sugg, err := c.CheckName(deploytest.Context(t), token, "", "shop, main")
	if err != nil || ok || sugg != "shop main" {
		t.Fatalf("CheckName = %v %q %v", ok, sugg, err)
	}
}
