package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Vercel through the whole stack (gateway, deployments, stream, worker,
// client, fake): the fake reports READY before it assigns the production
// alias, refuses an instant rollback to a deployment that never served
// production, refuses sensitive variables outside preview and production,
// and holds projects the user made.

func TestAVercelDeploymentThroughTheAPIIsReadyAtItsProductionAliasWithSensitiveEnv(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	d := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "grace-alias",
		"files": siteFiles(), "env": map[string]string{"DATABASE_URL": "postgres://u:e2e-db-pass@db/grace", "NEXT_PUBLIC_CHURCH": "Grace"}}).ID)
	if d.Status != "ready" || d.URL == nil || *d.URL != "https://grace-alias.vercel.app" {
		t.Fatalf("%+v url %v: want ready at the production alias", d, d.URL)
	}
	var projectID string
	for _, r := range ds.sb.Vercel.Requests() {
		if r.Op == "createProjectEnv" {
			projectID = strings.Split(strings.TrimPrefix(r.URL, "/v10/projects/"), "/")[0]
		}
	}
	if got := ds.sb.Vercel.EnvType(projectID, "DATABASE_URL"); got != "sensitive" {
		t.Errorf("DATABASE_URL kept at Vercel as %q, want sensitive", got)
	}
	if got := ds.sb.Vercel.EnvType(projectID, "NEXT_PUBLIC_CHURCH"); got != "encrypted" {
		t.Errorf("NEXT_PUBLIC_CHURCH kept at Vercel as %q, want encrypted (browsers receive it anyway)", got)
	}
}

func TestAVercelGitRepositoryDeploysThroughGitSourceAndAGitLabURLIsRefused(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	d := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "grace-git",
		"source": map[string]string{"repo": "https://github.com/grace/site", "branch": "main"}}).ID)
	if d.Status != "ready" || d.PlatformDeploymentID == nil {
		t.Fatalf("%+v %+v", d, d.Error)
	}
	src := ds.sb.Vercel.DeploymentGitSource(*d.PlatformDeploymentID)
	if src["type"] != "github" || src["org"] != "grace" || src["repo"] != "site" || src["ref"] != "main" {
		t.Fatalf("gitSource %v", src)
	}
	var p struct{ Code, Detail string }
	r := ds.call("POST", "/deployments", "church", map[string]any{"platform": "vercel", "projectName": "grace-lab",
		"source": map[string]string{"repo": "https://gitlab.com/grace/site", "branch": "main"}}, &p)
	if r.StatusCode != http.StatusUnprocessableEntity || p.Code != "unsupported_by_platform" || !strings.Contains(p.Detail, "GitLab") {
		t.Fatalf("a GitLab repository: %d %s", r.StatusCode, bodyOf(r))
	}
}

func TestAVercelNameTakenByTheUsersOwnProjectIsAConflictAndRollbackIsInstant(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	ds.sb.Vercel.AddProject("members")
	d := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "members", "files": siteFiles()}).ID)
	if d.Status != "error" || d.Error == nil || d.Error.Code != "conflict" || !strings.Contains(d.Error.Message, "Switchboard did not create it") {
		t.Fatalf("%+v %+v: want a conflict naming the taken name", d, d.Error)
	}
	if ds.sb.Vercel.Calls("createDeployment") != 0 {
		t.Fatal("deployed into the user's own project")
	}
	first := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "ours", "files": siteFiles()}).ID)
	second := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "ours", "files": siteFiles()[:1]}).ID)
	if first.Status != "ready" || second.Status != "ready" || ds.sb.Vercel.Calls("createProject") != 2 { // the refused "members" and "ours" once
		t.Fatalf("redeploy into the project Switchboard made: %+v %+v, %d creates", first.Error, second.Error, ds.sb.Vercel.Calls("createProject"))
	}
	var rb deploymentBody
	if r := ds.call("POST", "/deployments/"+first.ID+"/rollback", "church", nil, &rb); r.StatusCode != http.StatusAccepted {
		t.Fatalf("rollback: %d %s", r.StatusCode, bodyOf(r))
	}
	if got := ds.waitEnded("church", rb.ID); got.Status != "ready" {
		t.Fatalf("rollback: %+v %+v", got, got.Error)
	}
	if n, p := ds.sb.Vercel.Calls("requestRollback"), ds.sb.Vercel.Calls("requestPromote"); n != 1 || p != 0 {
		t.Fatalf("instant rollback %d, promote %d", n, p)
	}
}

func TestAVercelTeamChosenOnTheConnectPageIsWhereADeploymentWithoutWorkspaceGoes(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	p := &page{s: ds.stack, link: ds.newLink("church", map[string]any{"platforms": []string{"vercel"}})}
	p.open(p.link)
	p.must(http.StatusOK, "Choose the team to use", "Grace Church", "Fake Developer&#39;s projects")
	p.post(url.Values{"csrf": {p.csrf}, "do": {"choose"}, "platform": {"vercel"}, "choice": {"team_elsewhere"}}, "")
	p.must(http.StatusBadRequest, "is not a team this account can use")
	p.post(url.Values{"csrf": {p.csrf}, "do": {"choose"}, "platform": {"vercel"}, "choice": {"team_gracechurch"}}, "")
	p.follow()
	p.must(http.StatusOK, "Vercel will use what you chose.", `value="team_gracechurch" checked`)
	d := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "grace-team", "files": siteFiles()}).ID)
	if d.Status != "ready" {
		t.Fatalf("%+v %+v", d, d.Error)
	}
	for _, r := range ds.sb.Vercel.Requests() {
		if r.Op == "createDeployment" && !strings.Contains(r.URL, "teamId=team_gracechurch") {
			t.Fatalf("the deployment did not go to the chosen team: %s %s", r.Method, r.URL)
		}
	}
	if ds.sb.Vercel.Calls("createDeployment") == 0 {
		t.Fatal("nothing was deployed")
	}
}
