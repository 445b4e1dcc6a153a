package deploy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
)

// Render through the service and the worker: what a deployment says it
// is reaches Render, and the service of a project is one service.

func renderRepo(name string, build *deploy.Build) deploy.Request {
	return deploy.Request{Platform: "render", ProjectName: name, Build: build,
		Source: &deploy.GitSource{Repo: "https://github.com/acme/" + name, Branch: "main"}}
}

func TestRenderDeploysWhatTheDeploymentSaysItIs(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		build   *deploy.Build
		typ     string
		details map[string]string // serviceDetails fields expected
	}{
		"a generated site: no runtime, no commands": {nil, "static_site", map[string]string{}},
		"a static site with its build": {&deploy.Build{BuildCommand: "npm ci && npm run build", PublishPath: "dist"}, "static_site",
			map[string]string{"buildCommand": "npm ci && npm run build", "publishPath": "dist"}},
		"a web service with its runtime": {&deploy.Build{Runtime: "node", BuildCommand: "npm ci", StartCommand: "node server.js"}, "web_service",
			map[string]string{"runtime": "node"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.connect(e.tenant)
			d := e.create(renderRepo("grace", tc.build))
			if stored := e.get(d.ID); (tc.build == nil) != (stored.Build == nil) || (tc.build != nil && *stored.Build != *tc.build) {
				t.Fatalf("stored build %+v, asked %+v", stored.Build, tc.build)
			}
			out, got := e.run(d.ID)
			if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady || got.URL != "https://grace.onrender.com" {
				t.Fatalf("%s %s %+v %s", out, got.Status, got.Error, got.URL)
			}
			svcs := e.render.ServicesNamed("grace")
			if len(svcs) != 1 || svcs[0].Type != tc.typ {
				t.Fatalf("services %+v", svcs)
			}
			for k, v := range tc.details {
				if svcs[0].Details[k] != v {
					t.Errorf("serviceDetails.%s = %v, want %q", k, svcs[0].Details[k], v)
				}
			}
			if tc.typ == "static_site" && len(svcs[0].Details) != len(tc.details) {
				t.Errorf("a static site got details it did not ask for: %v", svcs[0].Details)
			}
		})
	}
}

func TestRenderRefusesAWebServiceWithoutItsCommandsBeforeAnythingIsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	_, _, err := e.svc.Create(context.Background(), e.who, renderRepo("half", &deploy.Build{Runtime: "node"}))
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || ae.Code != "invalid_deployment" ||
		!strings.Contains(ae.Detail, "build command and its start command") {
		t.Fatalf("err = %v", err)
	}
	list, _, err := e.svc.List(context.Background(), e.tenant, deploy.ListFilter{}, "", 10)
	if err != nil || len(list) != 0 || e.render.Calls("createService") != 0 {
		t.Fatalf("a refused deployment was stored (%d) or reached Render: %v", len(list), err)
	}
}

func TestRenderDeploysTheProjectsServiceAgainAndAdoptsALostCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	// The first create's answer is lost: the worker tries again and adopts
	// what it made instead of a second service.
	e.render.LoseAnswers("createService", 1)
	first := e.create(renderRepo("shop", nil))
	out, got := e.run(first.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	// A later deployment of the same project deploys the same service.
	second := e.create(renderRepo("shop", &deploy.Build{BuildCommand: "make site", PublishPath: "out"}))
	out, again := e.run(second.ID)
	if out != deploy.OutcomeEnded || again.Status != deploy.StatusReady {
		t.Fatalf("%s %s %+v", out, again.Status, again.Error)
	}
	svcs := e.render.ServicesNamed("shop")
	if len(svcs) != 1 || e.render.Calls("createService") != 1 || again.Progress.ServiceID != got.Progress.ServiceID ||
		again.PlatformDeploymentID == got.PlatformDeploymentID || svcs[0].Details["publishPath"] != "out" {
		t.Fatalf("services %+v; creates %d; first %+v, second %+v", svcs, e.render.Calls("createService"), got.Progress, again.Progress)
	}
}

func TestRenderRollbackFollowsRendersNewDeployUntilLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	first := e.create(renderRepo("roll", nil))
	_, first = e.run(first.ID)
	second := e.create(renderRepo("roll", &deploy.Build{BuildCommand: "make"}))
	_, second = e.run(second.ID)
	if first.Status != deploy.StatusReady || second.Status != deploy.StatusReady || e.render.LiveBuild(first.Progress.ServiceID) != second.PlatformDeploymentID {
		t.Fatalf("first %s, second %s", first.Status, second.Status)
	}
	rb, _, err := e.svc.Rollback(context.Background(), e.who, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, got := e.run(rb.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	// The record points at the deploy Render made for the rollback, which
	// was followed to live and runs the first deployment's build.
	if got.PlatformDeploymentID == first.PlatformDeploymentID || got.PlatformDeploymentID == second.PlatformDeploymentID ||
		e.render.DeployStatus(got.PlatformDeploymentID) != "live" || e.render.LiveBuild(first.Progress.ServiceID) != first.PlatformDeploymentID {
		t.Fatalf("rollback record %s (status %s); live build %s, first %s", got.PlatformDeploymentID,
			e.render.DeployStatus(got.PlatformDeploymentID), e.render.LiveBuild(first.Progress.ServiceID), first.PlatformDeploymentID)
	}
	if got.RollbackTo != first.PlatformDeploymentID || e.render.Calls("rollbackDeploy") != 1 {
		t.Errorf("rollbackTo %s, rollbacks %d", got.RollbackTo, e.render.Calls("rollbackDeploy"))
	}
}

func TestRenderDeploysInTheWorkspaceTheDeploymentNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.render.AddTeam("tea-gracechurch", "Grace Church")
	// Two workspaces and none named: a plain refusal, nothing created.
	d := e.create(renderRepo("team-site", nil))
	out, got := e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusError || got.Error == nil ||
		!strings.Contains(got.Error.Message, "several Render workspaces") || e.render.Calls("createService") != 0 {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	req := renderRepo("team-site", nil)
	req.WorkspaceID = "tea-gracechurch"
	d = e.create(req)
	if e.get(d.ID).WorkspaceID != "tea-gracechurch" {
		t.Fatal("the workspace was not stored")
	}
	out, got = e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
	if svcs := e.render.ServicesNamed("team-site"); len(svcs) != 1 || svcs[0].OwnerID != "tea-gracechurch" {
		t.Fatalf("services %+v", svcs)
	}
	bad := renderRepo("x", nil)
	bad.WorkspaceID = "tea bad/id"
	if _, _, err := e.svc.Create(context.Background(), e.who, bad); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a malformed workspace id: %v", err)
	}
}

func TestRenderDatabaseThatFailsRecoveryEndsTheDeploymentWithTheReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.render.DatabaseStatuses = []string{"creating", "recovery_failed"}
	pg := "postgres"
	req := renderRepo("with-db", nil)
	req.Database = &pg
	d := e.create(req)
	out, got := e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusError || got.Error == nil || !strings.Contains(got.Error.Message, "recovery failed") {
		t.Fatalf("%s %s %+v", out, got.Status, got.Error)
	}
}
