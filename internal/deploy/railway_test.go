package deploy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
)

// Railway through the deployments service, its worker, the connection
// service and the Railway client on its fake (PLATFORMS.md Railway).

func railwayImage(name, workspace string) deploy.Request {
	return deploy.Request{Platform: "railway", ProjectName: name, Image: "docker.io/library/nginx:1.27", WorkspaceID: workspace}
}

func TestRailwayDeploysIntoTheNamedWorkspaceOrTheConnectionsDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx := context.Background()
	c, err := e.conns.Get(ctx, e.tenant, "railway")
	if err != nil || len(c.Workspaces) != 2 || c.DefaultWorkspace != railwayfake.PersonalWorkspace || c.Workspaces[1].Name != "Acme Team" {
		t.Fatalf("connection workspaces %+v default %q: %v", c.Workspaces, c.DefaultWorkspace, err)
	}
	_, def := e.run(e.create(railwayImage("default-ws", "")).ID)
	_, team := e.run(e.create(railwayImage("team-ws", railwayfake.TeamWorkspace)).ID)
	if def.Status != deploy.StatusReady || team.Status != deploy.StatusReady {
		t.Fatalf("statuses %s %s", def.Status, team.Status)
	}
	if got := e.railway.ProjectWorkspace(def.Progress.ProjectID); got != railwayfake.PersonalWorkspace {
		t.Errorf("without workspaceId the project went to %q", got)
	}
	if got := e.railway.ProjectWorkspace(team.Progress.ProjectID); got != railwayfake.TeamWorkspace {
		t.Errorf("with workspaceId the project went to %q", got)
	}
	for _, ws := range []string{"ws-somebody-else", "bad id!"} {
		_, _, err := e.svc.Create(ctx, e.who, railwayImage("nowhere", ws))
		if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Code != "invalid_workspace" {
			t.Errorf("workspace %q: %v", ws, err)
		}
	}
	if list, _, _ := e.svc.List(ctx, e.tenant, deploy.ListFilter{}, "", 100); len(list) != 2 {
		t.Errorf("%d deployments stored, want the 2 accepted", len(list))
	}
}

func TestRailwayReusesTheProjectAndServiceOfANameAndRollsBackOnIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	_, first := e.run(e.create(deploy.Request{Platform: "railway", ProjectName: "church", Source: &deploy.GitSource{Repo: "https://github.com/acme/church", Branch: "main"},
		Database: ptr("postgres")}).ID)
	_, second := e.run(e.create(deploy.Request{Platform: "railway", ProjectName: "church", Source: &deploy.GitSource{Repo: "https://github.com/acme/church", Branch: "v2"},
		Database: ptr("postgres")}).ID)
	if first.Status != deploy.StatusReady || second.Status != deploy.StatusReady {
		t.Fatalf("statuses %s %+v, %s %+v", first.Status, first.Error, second.Status, second.Error)
	}
	if second.Progress.ProjectID != first.Progress.ProjectID || second.Progress.ServiceID != first.Progress.ServiceID ||
		second.Progress.DatabaseID != first.Progress.DatabaseID || second.URL != first.URL {
		t.Fatalf("the second deployment did not reuse the first's project: %+v vs %+v", second.Progress, first.Progress)
	}
	if projects, services := e.railway.Counts(); projects != 1 || services != 2 {
		t.Errorf("%d projects and %d services, want 1 and 2 (app and Postgres)", projects, services)
	}
	if e.railway.Calls("templateDeployV2") != 1 {
		t.Errorf("Postgres deployed %d times", e.railway.Calls("templateDeployV2"))
	}
	if e.railway.ActiveDeployment(first.Progress.ServiceID) != second.PlatformDeploymentID {
		t.Fatal("the second deployment is not active")
	}
	// Another name is another project; so is the same name elsewhere.
	_, other := e.run(e.create(railwayImage("church", railwayfake.TeamWorkspace)).ID)
	if other.Progress.ProjectID == first.Progress.ProjectID {
		t.Error("the same name in another workspace reused the project")
	}
	rb, _, err := e.svc.Rollback(context.Background(), e.who, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, got := e.run(rb.ID); got.Status != deploy.StatusReady || got.PlatformDeploymentID != first.PlatformDeploymentID {
		t.Fatalf("rollback %s %+v", got.Status, got.Error)
	}
	if e.railway.ActiveDeployment(first.Progress.ServiceID) != first.PlatformDeploymentID {
		t.Error("the first deployment is not active again on the shared service")
	}
}

func TestRailwayNotAuthorizedWhileMeAnswersIsAPermissionErrorNotAnExpiredConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.railway.FailNext("projectCreate", http.StatusOK, "UNAUTHENTICATED", 1)
	_, got := e.run(e.create(railwayImage("denied", railwayfake.TeamWorkspace)).ID)
	if got.Status != deploy.StatusError || got.Error.Code != "permission_denied" ||
		!strings.Contains(got.Error.Message, "workspace "+railwayfake.TeamWorkspace) || !strings.Contains(got.Error.Message, "create project") {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	c, err := e.conns.Get(context.Background(), e.tenant, "railway")
	if err != nil || c.Status != connection.StatusConnected {
		t.Fatalf("connection %+v %v: marked although me answers", c.Status, err)
	}
	// A token Railway refuses everywhere, me included, is an expired
	// connection.
	e.railway.RejectToken(railwayToken)
	if _, got := e.run(e.create(railwayImage("revoked", "")).ID); got.Status != deploy.StatusError || got.Error.Code != "connection_expired" {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	if c, _ := e.conns.Get(context.Background(), e.tenant, "railway"); c.Status != connection.StatusExpired {
		t.Fatalf("connection %s", c.Status)
	}
}

func TestRailwayWorkspaceAndProjectTokensConnectAndDeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := connection.Identity{Tenant: e.tenant, User: "dev-1"}
	e.railway.AddWorkspaceToken("railway-workspace-token-77", railwayfake.TeamWorkspace)
	c, err := e.conns.ConnectWithKey(ctx, id, "railway", map[string]string{"token": "railway-workspace-token-77", "tokenType": "workspace"})
	if err != nil || c.DefaultWorkspace != railwayfake.TeamWorkspace || len(c.Workspaces) != 1 {
		t.Fatalf("workspace token: %+v %v", c, err)
	}
	if _, got := e.run(e.create(railwayImage("ws-site", "")).ID); got.Status != deploy.StatusReady ||
		e.railway.ProjectWorkspace(got.Progress.ProjectID) != railwayfake.TeamWorkspace {
		t.Fatalf("workspace token deployment %s %+v", got.Status, got.Error)
	}
	projectID := e.railway.AddProjectToken("railway-project-token-88", "blog")
	c, err = e.conns.ConnectWithKey(ctx, id, "railway", map[string]string{"token": "railway-project-token-88", "tokenType": "project"})
	if err != nil || c.AccountID != projectID || c.AccountName != "blog" || len(c.Workspaces) != 0 {
		t.Fatalf("project token: %+v %v", c, err)
	}
	_, got := e.run(e.create(railwayImage("blog", "")).ID)
	if got.Status != deploy.StatusReady || got.Progress.ProjectID != projectID {
		t.Fatalf("project token deployment %s %+v", got.Status, got.Error)
	}
	for _, r := range e.railway.Requests() {
		if r.Header.Get("Authorization") == "Bearer railway-project-token-88" {
			t.Fatalf("%s sent the project token as a bearer token", r.Op)
		}
	}
	if _, err := e.conns.ConnectWithKey(ctx, id, "railway", map[string]string{"token": "x", "tokenType": "team"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("an unknown tokenType: %v", err)
	}
	assertNoPlaintext(t, e, "railway-workspace-token-77", "railway-project-token-88")
}

func TestRailwayA429IsWaitedOutForItsRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.railway.RateLimitNext("serviceInstanceDeployV2", 90, 1)
	start := e.clock.Now()
	_, got := e.run(e.create(railwayImage("limited", "")).ID)
	if got.Status != deploy.StatusReady {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	if waited := e.clock.Now().Sub(start); waited < 90*time.Second {
		t.Errorf("the worker went on after %v, before the 90 s Retry-After", waited)
	}
	if !strings.Contains(joinedLog(e.allLogs(got.ID)), "trying again in 1m30s") {
		t.Errorf("the log does not say it waits for Retry-After:\n%s", joinedLog(e.allLogs(got.ID)))
	}
}

func TestRailwayOneDeploymentCostsFewRequestsAndPollsSlowly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	before := len(e.railway.Requests())
	start := e.clock.Now()
	_, got := e.run(e.create(deploy.Request{Platform: "railway", ProjectName: "budget",
		Source: &deploy.GitSource{Repo: "https://github.com/acme/site", Branch: "main"}, Env: map[string]string{"A": "b"}}).ID)
	if got.Status != deploy.StatusReady {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	sent := len(e.railway.Requests()) - before
	polls := e.railway.Calls("deployment")
	// projectCreate, serviceCreate, serviceDomainCreate, variableCollectionUpsert,
	// serviceInstanceDeployV2, then a status read and a log read per poll
	// (README "Railway": requests per deployment).
	if want := 5 + 2*polls; sent != want {
		t.Errorf("%d requests for one deployment, want %d (%d polls)", sent, want, polls)
	}
	if e.railway.Calls("buildLogs") != polls {
		t.Errorf("%d log reads for %d polls", e.railway.Calls("buildLogs"), polls)
	}
	if took := e.clock.Now().Sub(start); took < time.Duration(polls-1)*20*time.Second {
		t.Errorf("%d polls in %v: faster than one per 20 s", polls, took)
	}
}

func joinedLog(lines []deploy.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// renewing is the connection service with a Renew that hands out a new
// token, as a refresh of an OAuth token does.
type renewing struct {
	*connection.Service
	renewed int
}

func (r *renewing) Renew(ctx context.Context, tenant string, p platform.ID, refused string) (connection.Credentials, error) {
	creds, err := r.Service.Renew(ctx, tenant, p, refused)
	r.renewed++
	creds.APIKey = "railway-renewed-token-0042"
	return creds, err
}

func TestRailwayNotAuthorizedIsTriedOnceMoreWithARenewedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	conns := &renewing{Service: e.conns}
	e.wcfg.Connections = conns
	e.rebuild()
	e.railway.FailNext("projectCreate", http.StatusOK, "UNAUTHENTICATED", 1)
	_, got := e.run(e.create(railwayImage("renewed", "")).ID)
	if got.Status != deploy.StatusReady || conns.renewed != 1 {
		t.Fatalf("%s %+v after %d renewals", got.Status, got.Error, conns.renewed)
	}
	var auths []string
	for _, r := range e.railway.Requests() {
		if r.Op == "projectCreate" {
			auths = append(auths, r.Header.Get("Authorization"))
		}
	}
	if len(auths) != 2 || auths[0] != "Bearer "+railwayToken || auths[1] != "Bearer railway-renewed-token-0042" {
		t.Errorf("projectCreate was sent with %v", auths)
	}
	assertNoPlaintext(t, e, "railway-renewed-token-0042")
}

func TestRailwayCancelRefusedWhileMeAnswersIsAPermissionProblemAndTheConnectionStays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.deployers[railway.ID] = stopAfter{Deployer: e.deployers[railway.ID], step: "StartDeployment", stop: cancel}
	e.rebuild()
	d := e.create(railwayImage("cancel-denied", ""))
	if out, err := e.worker.Run(ctx, e.tenant, d.ID); err != nil || out != deploy.OutcomePaused {
		t.Fatalf("run: %s %v", out, err)
	}
	e.railway.FailNext("deploymentCancel", http.StatusOK, "UNAUTHENTICATED", 1)
	_, err := e.svc.Cancel(context.Background(), e.tenant, d.ID)
	if ae, ok := apperr.As(err); !ok || ae.Kind == apperr.Conflict && ae.Code == "connection_expired" || !strings.Contains(ae.Detail, "Not Authorized") {
		t.Fatalf("cancel: %v", err)
	}
	if c, _ := e.conns.Get(context.Background(), e.tenant, "railway"); c.Status != connection.StatusConnected {
		t.Fatalf("connection %s: marked although me answers", c.Status)
	}
}

func TestRailwayMakesTheProjectAnewWhenTheRecordedOneWasDeletedAtRailway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	_, first := e.run(e.create(railwayImage("gone", "")).ID)
	e.railway.DeleteProject(first.Progress.ProjectID)
	_, second := e.run(e.create(railwayImage("gone", "")).ID)
	if second.Status != deploy.StatusReady || second.Progress.ProjectID == first.Progress.ProjectID || second.Progress.ProjectID == "" {
		t.Fatalf("%s %+v, project %s (deleted %s)", second.Status, second.Error, second.Progress.ProjectID, first.Progress.ProjectID)
	}
	// And the new one is what the next deployment of the name reuses.
	_, third := e.run(e.create(railwayImage("gone", "")).ID)
	if third.Progress.ProjectID != second.Progress.ProjectID {
		t.Errorf("third deployment in project %s, want %s", third.Progress.ProjectID, second.Progress.ProjectID)
	}
}
