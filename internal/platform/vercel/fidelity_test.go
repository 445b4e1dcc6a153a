package vercel_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/deploytest"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
)

func TestADeploymentIsReadyOnlyOnceItsProductionAliasIsAssigned(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, ptr(site("aliased")), &p)
	var seen []platform.DeployState
	for range 10 {
		st, err := c.Status(deploytest.Context(t), token, p)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, st)
		if st.Status.Terminal() {
			break
		}
	}
	builtNotAliased := false
	for _, st := range seen[:len(seen)-1] {
		if st.PlatformState == "READY" {
			builtNotAliased = true
			if st.Status != platform.DeployBuilding || st.URL != "" {
				t.Errorf("READY before the alias was assigned was reported as %+v: it is not ready yet", st)
			}
		}
		if strings.Contains(st.URL, "dpl_") || strings.Contains(st.URL, "-0000") {
			t.Errorf("a per-deployment URL was reported: %+v", st)
		}
	}
	if !builtNotAliased {
		t.Fatalf("the fake never showed READY before assigning the alias: %+v", seen)
	}
	last := seen[len(seen)-1]
	if last.Status != platform.DeployReady || last.URL != "https://aliased.vercel.app" {
		t.Fatalf("final state %+v, want ready at the production alias", last)
	}
}

func TestAnAliasErrorFailsTheDeploymentWithVercelsReason(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailAlias("no-alias", "alias_domain_not_verified", "The domain example.org is not verified")
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, ptr(site("no-alias")), &p)
	st, _ := deploytest.WaitTerminal(t, c, token, p)
	if st.Status != platform.DeployError || st.URL != "" ||
		!strings.Contains(st.Message, "The domain example.org is not verified") || !strings.Contains(st.Message, "alias_domain_not_verified") {
		t.Fatalf("state = %+v, want an error with the alias error's reason", st)
	}
}

// servedThenStaged deploys the project once to production (it serves
// production), then once more into a project whose production domains are
// not assigned: that deployment is READY but staged, never served.
func servedThenStaged(t *testing.T, c *vercel.Client, fake *vercelfake.Server, name string) (served, staged platform.DeployProgress) {
	t.Helper()
	spec := site(name)
	deploytest.RunSteps(t, c, token, &spec, &served)
	deploytest.WaitTerminal(t, c, token, served)
	fake.StageProduction(name)
	staged = platform.DeployProgress{ProjectID: served.ProjectID}
	if err := c.StartDeployment(deploytest.Context(t), token, spec, &staged); err != nil {
		t.Fatal(err)
	}
	for range 4 { // QUEUED, BUILDING, READY, READY (staged: no production alias ever)
		if _, err := c.Status(deploytest.Context(t), token, staged); err != nil {
			t.Fatal(err)
		}
	}
	return served, staged
}

func TestRollbackToAStagedDeploymentThatNeverServedProductionPromotesIt(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	first, staged := servedThenStaged(t, c, fake, "staged")
	if err := c.Rollback(deploytest.Context(t), token, first, staged.DeploymentID); err != nil {
		t.Fatalf("Rollback to the staged deployment: %v", err)
	}
	if r, p := fake.Calls("requestRollback"), fake.Calls("requestPromote"); r != 0 || p != 1 {
		t.Errorf("rollback calls %d, promote calls %d: a deployment that never served production is promoted", r, p)
	}
	if got := fake.LiveDeployment(first.ProjectID); got != staged.DeploymentID {
		t.Errorf("live = %s, want the promoted %s", got, staged.DeploymentID)
	}
}

// post sends one raw request to the fake, as Vercel would receive it.
func post(t *testing.T, fake *vercelfake.Server, path string, body any) (int, string) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(http.MethodPost, fake.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Code
}

func TestTheFakeRefusesWhatVercelRefuses(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	first, staged := servedThenStaged(t, c, fake, "refusals")
	if status, code := post(t, fake, "/v1/projects/"+first.ProjectID+"/rollback/"+staged.DeploymentID, nil); status != http.StatusBadRequest || code == "" {
		t.Errorf("instant rollback to a deployment that never served production: %d %q, want 400 with Vercel's error shape", status, code)
	}
	if status, _ := post(t, fake, "/v1/projects/"+first.ProjectID+"/rollback/"+first.DeploymentID, nil); status != http.StatusCreated {
		t.Errorf("instant rollback to one that served production: %d, want 201", status)
	}
	dev := []map[string]any{{"key": "TOKEN", "value": "x", "type": "sensitive", "target": []string{"production", "preview", "development"}}}
	if status, code := post(t, fake, "/v10/projects/"+first.ProjectID+"/env?upsert=true", dev); status != http.StatusBadRequest || code == "" {
		t.Errorf("a sensitive variable for development: %d %q, want 400", status, code)
	}
	// Outside Vercel's description (the contract check would refuse it
	// first), so sent to a fake of its own.
	bare := vercelfake.New()
	defer bare.Close()
	noRef := map[string]any{"name": "refusals", "gitSource": map[string]any{"type": "github", "org": "acme", "repo": "web"}}
	if status, code := post(t, bare, "/v13/deployments?skipAutoDetectionConfirmation=1", noRef); status != http.StatusBadRequest || code == "" {
		t.Errorf("a gitSource without ref: %d %q, want 400", status, code)
	}
}

func TestAProjectNameTheUserAlreadyHasIsAConflictNotAdopted(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	theirs := fake.AddProject("their-site")
	var p platform.DeployProgress
	err := c.EnsureProject(deploytest.Context(t), token, site("their-site"), &p)
	pe, ok := platform.AsError(err)
	if !ok || pe.Reason != platform.ReasonConflict || !strings.Contains(pe.Message, "Switchboard did not create it") {
		t.Fatalf("err = %v, want a conflict that says the name is taken by a project Switchboard did not make", err)
	}
	if p.ProjectID != "" || fake.Projects() != 1 {
		t.Errorf("progress %+v, %d projects: the user's project %s was adopted or another made", p, fake.Projects(), theirs)
	}
}

func TestAProjectSwitchboardRecordedIsReusedAndAdoptedOnA409(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	var first platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, site("ours"), &first); err != nil {
		t.Fatal(err)
	}
	// A later deployment, hours on: Switchboard's record names the project.
	spec := site("ours")
	spec.OwnedProjectID = first.ProjectID
	var later platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &later); err != nil {
		t.Fatal(err)
	}
	if later.ProjectID != first.ProjectID || fake.Calls("createProject") != 1 {
		t.Errorf("reuse: project %q (want %q), %d creates", later.ProjectID, first.ProjectID, fake.Calls("createProject"))
	}
	// A recorded project deleted in Vercel since is made anew.
	spec = site("gone")
	spec.OwnedProjectID = "prj_deleted"
	var anew platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &anew); err != nil || anew.ProjectID == "" || anew.ProjectID == "prj_deleted" {
		t.Fatalf("a deleted recorded project: %+v, %v", anew, err)
	}
	// The user's own project of that name is adopted only when it is the recorded one.
	theirs := fake.AddProject("recorded-old")
	spec = site("recorded-old")
	spec.OwnedProjectID = theirs
	var adopted platform.DeployProgress
	if err := c.EnsureProject(deploytest.Context(t), token, spec, &adopted); err != nil || adopted.ProjectID != theirs {
		t.Fatalf("the recorded project: %+v, %v", adopted, err)
	}
}

func TestSecretEnvValuesAreSensitiveForProductionAndPreview(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	spec := site("env")
	spec.Env = map[string]string{"DATABASE_URL": "postgres://u:p@h/db", "STRIPE_KEY": "sk_live_1", "NEXT_PUBLIC_SITE": "https://x", "VITE_API": "https://api"}
	var p platform.DeployProgress
	deploytest.RunSteps(t, c, token, &spec, &p)
	want := map[string]string{"DATABASE_URL": "sensitive", "STRIPE_KEY": "sensitive", "NEXT_PUBLIC_SITE": "encrypted", "VITE_API": "encrypted"}
	for k, typ := range want {
		if got := fake.EnvType(p.ProjectID, k); got != typ {
			t.Errorf("%s kept as %q, want %q", k, got, typ)
		}
	}
	if env := fake.DeploymentEnv(p.DeploymentID); env["DATABASE_URL"] != "postgres://u:p@h/db" {
		t.Errorf("the build did not see DATABASE_URL: %v", env)
	}
	for _, r := range fake.Requests() {
		if r.Op != "createProjectEnv" {
			continue
		}
		var vars []struct {
			Target []string `json:"target"`
		}
		if err := json.Unmarshal(r.Body, &vars); err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			if strings.Join(v.Target, ",") != "production,preview" {
				t.Errorf("target %v, want production and preview", v.Target)
			}
		}
	}
}

func TestAGitRepositoryDeploysThroughGitSource(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		repo string
		want map[string]any
	}{
		"github":    {"https://github.com/acme/web.git", map[string]any{"type": "github", "org": "acme", "repo": "web", "ref": "main"}},
		"bitbucket": {"https://bitbucket.org/acme/web", map[string]any{"type": "bitbucket", "owner": "acme", "slug": "web", "ref": "main"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			spec := platform.DeploySpec{ProjectName: "git-" + name, Repo: tc.repo, Branch: "main"}
			if err := c.Validate(spec); err != nil {
				t.Fatal(err)
			}
			var p platform.DeployProgress
			deploytest.RunSteps(t, c, token, &spec, &p)
			got := fake.DeploymentGitSource(p.DeploymentID)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("gitSource %v, want %v", got, tc.want)
					break
				}
			}
			if fake.Calls("uploadFile") != 0 {
				t.Errorf("files were uploaded for a Git deployment")
			}
			if st, _ := deploytest.WaitTerminal(t, c, token, p); st.Status != platform.DeployReady {
				t.Errorf("state %+v", st)
			}
		})
	}
}

func TestTheFakesTeamsListRefusesWhatVercelRefusesAndPagesBackInTime(t *testing.T) {
	t.Parallel()
	fake := vercelfake.New()
	t.Cleanup(fake.Close)
	get := func(query string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, fake.URL+"/v2/teams"+query, nil)
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
	for _, q := range []string{"?limit=many", "?limit=0", "?until=-5", "?since=yesterday"} {
		if code, body := get(q); code != http.StatusBadRequest || body["error"].(map[string]any)["code"] != "bad_request" {
			t.Errorf("%s: %d %v, want Vercel's 400", q, code, body)
		}
	}
	code, first := get("?limit=1")
	pg := first["pagination"].(map[string]any)
	if code != http.StatusOK || pg["count"].(float64) != 1 || pg["next"] == nil {
		t.Fatalf("the first page: %d %v", code, first)
	}
	_, second := get("?limit=1&until=" + strconv.FormatInt(int64(pg["next"].(float64)), 10))
	teams := second["teams"].([]any)
	if len(teams) != 1 || teams[0].(map[string]any)["id"] != "team_fakehobby" || second["pagination"].(map[string]any)["next"] != nil {
		t.Fatalf("the second and last page: %v", second)
	}
}
