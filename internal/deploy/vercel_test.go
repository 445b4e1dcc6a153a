package deploy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Vercel's fidelity through the worker: the fake reports READY before it
// assigns the production alias, refuses an instant rollback to a
// deployment that never served production, and has projects the user made.

func TestAVercelDeploymentIsReadyAtItsProductionAliasOnceAssigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "aliased-site", Files: site()})
	out, got := e.run(d.ID)
	if out != deploy.OutcomeEnded || got.Status != deploy.StatusReady || got.URL != "https://aliased-site.vercel.app" {
		t.Fatalf("%s %s url %q %+v: want ready at the production alias", out, got.Status, got.URL, got.Error)
	}
	if e.vercel.LiveDeployment(got.Progress.ProjectID) != got.PlatformDeploymentID {
		t.Fatal("reported ready before Vercel pointed production at it")
	}
}

func TestAVercelAliasErrorEndsTheDeploymentInErrorWithItsReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.vercel.FailAlias("alias-fails", "alias_domain_not_verified", "The domain www.example.org is not verified")
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "alias-fails", Files: site()})
	_, got := e.run(d.ID)
	if got.Status != deploy.StatusError || got.Error == nil || !strings.Contains(got.Error.Message, "www.example.org is not verified") || got.URL != "" {
		t.Fatalf("%s %+v url %q: want an error with the alias error's reason and no URL", got.Status, got.Error, got.URL)
	}
}

func TestAVercelProjectNameTakenByAProjectSwitchboardDidNotMakeIsAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.vercel.AddProject("their-site")
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "their-site", Files: site()})
	_, got := e.run(d.ID)
	if got.Status != deploy.StatusError || got.Error == nil || got.Error.Code != string(platform.ReasonConflict) ||
		!strings.Contains(got.Error.Message, "Switchboard did not create it") {
		t.Fatalf("%s %+v: want a conflict that tells the name is taken", got.Status, got.Error)
	}
	if e.vercel.Calls("createDeployment") != 0 || e.vercel.Projects() != 1 {
		t.Fatalf("deployed into the user's project: %d deployments, %d projects", e.vercel.Calls("createDeployment"), e.vercel.Projects())
	}
}

func TestAVercelProjectSwitchboardMadeIsReusedByTheSameTenantOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	first := e.create(deploy.Request{Platform: "vercel", ProjectName: "shared-name", Files: site()})
	_, first = e.run(first.ID)
	second := e.create(deploy.Request{Platform: "vercel", ProjectName: "shared-name", Files: site()[:1]})
	_, second = e.run(second.ID)
	if second.Status != deploy.StatusReady || second.Progress.ProjectID != first.Progress.ProjectID {
		t.Fatalf("redeploy: %s %+v project %q (first %q)", second.Status, second.Error, second.Progress.ProjectID, first.Progress.ProjectID)
	}
	// Another tenant, whose record has no such project: not theirs.
	other := "other-church"
	e.connect(other)
	e.tenant, e.who.Tenant = other, other
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "shared-name", Files: site()})
	_, got := e.run(d.ID)
	if got.Status != deploy.StatusError || got.Error == nil || got.Error.Code != string(platform.ReasonConflict) {
		t.Fatalf("another tenant adopted the project: %s %+v", got.Status, got.Error)
	}
}

func TestAVercelRollbackUsesInstantRollbackAndEnvValuesAreSensitive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	env := map[string]string{"STRIPE_KEY": "sk_live_0123456789", "NEXT_PUBLIC_SITE_NAME": "Grace"}
	first := e.create(deploy.Request{Platform: "vercel", ProjectName: "roll-back", Files: site(), Env: env})
	_, first = e.run(first.ID)
	second := e.create(deploy.Request{Platform: "vercel", ProjectName: "roll-back", Files: site()[:1]})
	_, second = e.run(second.ID)
	if first.Status != deploy.StatusReady || second.Status != deploy.StatusReady {
		t.Fatalf("deployments: %s %s", first.Status, second.Status)
	}
	for key, want := range map[string]string{"STRIPE_KEY": "sensitive", "NEXT_PUBLIC_SITE_NAME": "encrypted"} {
		if got := e.vercel.EnvType(first.Progress.ProjectID, key); got != want {
			t.Errorf("%s kept at Vercel as %q, want %q", key, got, want)
		}
	}
	rb, _, err := e.svc.Rollback(context.Background(), e.who, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, got := e.run(rb.ID)
	if got.Status != deploy.StatusReady || e.vercel.LiveDeployment(first.Progress.ProjectID) != first.PlatformDeploymentID {
		t.Fatalf("rollback: %s %+v", got.Status, got.Error)
	}
	if r, p := e.vercel.Calls("requestRollback"), e.vercel.Calls("requestPromote"); r != 1 || p != 0 {
		t.Errorf("rollback calls %d, promote calls %d: a deployment that served production goes back by instant rollback", r, p)
	}
}

func TestAVercelProjectCreateWhoseAnswerWasLostIsAdoptedOnTheRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.vercel.LoseAnswers("createProject", 1)
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "lost-create", Files: site()})
	_, got := e.run(d.ID)
	if got.Status != deploy.StatusReady || e.vercel.Projects() != 1 || e.vercel.Calls("createProject") != 2 {
		t.Fatalf("%s %+v: %d projects, %d creates", got.Status, got.Error, e.vercel.Projects(), e.vercel.Calls("createProject"))
	}
}
