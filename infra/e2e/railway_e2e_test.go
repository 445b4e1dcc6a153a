package e2e_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
)

// A Railway account connected through OAuth offers its workspaces; a
// deployment in a chosen workspace reaches ready, the next one of the
// same name reuses its project, and a rollback goes back on it.
func TestRailwayDeploysToAChosenWorkspaceReusesItsProjectAndRollsBack(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	if q := ds.connectOAuth("chapel", "railway"); q.Get("status") != "connected" {
		t.Fatalf("connect: %v", q)
	}
	var conn struct {
		Workspaces         []struct{ ID, Name string }
		DefaultWorkspaceID string
	}
	if r := ds.call("GET", "/connections/railway", "chapel", nil, &conn); r.StatusCode != http.StatusOK || len(conn.Workspaces) != 2 ||
		conn.DefaultWorkspaceID != railwayfake.PersonalWorkspace {
		t.Fatalf("connection: %d %+v", r.StatusCode, conn)
	}
	body := map[string]any{"platform": "railway", "projectName": "chapel api", "workspaceId": railwayfake.TeamWorkspace,
		"source": map[string]string{"repo": "https://github.com/chapel/api", "branch": "main"}}
	first := ds.waitEnded("chapel", ds.deploy("chapel", body).ID)
	second := ds.waitEnded("chapel", ds.deploy("chapel", body).ID)
	if first.Status != "ready" || second.Status != "ready" {
		t.Fatalf("deployments: %+v %+v", first, second)
	}
	if n := ds.sb.Railway.ProjectsNamed("chapel api"); n != 1 {
		t.Fatalf("%d Railway projects named chapel api, want 1", n)
	}
	var rb deploymentBody
	if r := ds.call("POST", "/deployments/"+first.ID+"/rollback", "chapel", nil, &rb); r.StatusCode != http.StatusAccepted {
		t.Fatalf("rollback: %d %s", r.StatusCode, bodyOf(r))
	}
	if got := ds.waitEnded("chapel", rb.ID); got.Status != "ready" || *got.PlatformDeploymentID != *first.PlatformDeploymentID {
		t.Fatalf("rollback: %+v", got)
	}
	body["workspaceId"] = "ws-not-granted"
	if r := ds.call("POST", "/deployments", "chapel", body, nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a workspace the connection does not list: %d %s", r.StatusCode, bodyOf(r))
	}
}
