package e2e_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
)

// A generated site goes to Render as a static site in the workspace the
// deployment names, is deployed again as the same service, and rolls back
// through Render's new deploy, all through the HTTP API.
func TestARenderStaticSiteDeploysRedeploysAndRollsBackThroughTheAPI(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	body := func(build map[string]string) map[string]any {
		return map[string]any{"platform": "render", "projectName": "grace-www", "workspaceId": renderfake.OwnerID,
			"source": map[string]string{"repo": "https://github.com/grace/www", "branch": "main"}, "build": build}
	}
	first := ds.waitEnded("church", ds.deploy("church", body(map[string]string{"publishPath": "site"})).ID)
	second := ds.waitEnded("church", ds.deploy("church", body(map[string]string{"buildCommand": "make", "publishPath": "site"})).ID)
	if first.Status != "ready" || second.Status != "ready" || first.URL == nil || *first.URL != "https://grace-www.onrender.com" {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	var rb deploymentBody
	if r := ds.call("POST", "/deployments/"+first.ID+"/rollback", "church", nil, &rb); r.StatusCode != http.StatusAccepted {
		t.Fatalf("rollback: %d %s", r.StatusCode, bodyOf(r))
	}
	got := ds.waitEnded("church", rb.ID)
	if got.Status != "ready" || got.PlatformDeploymentID == nil || *got.PlatformDeploymentID == *first.PlatformDeploymentID ||
		*got.PlatformDeploymentID == *second.PlatformDeploymentID {
		t.Fatalf("the rollback is not Render's new deploy: %+v (first %s, second %s)", got, *first.PlatformDeploymentID, *second.PlatformDeploymentID)
	}
	// A web service without its commands is refused before anything runs.
	var p struct{ Code, Detail string }
	bad := body(map[string]string{"runtime": "node"})
	if r := ds.call("POST", "/deployments", "church", bad, &p); r.StatusCode != http.StatusBadRequest || p.Code != "invalid_deployment" {
		t.Fatalf("a node service without commands: %d %s", r.StatusCode, bodyOf(r))
	}
	var unknown struct{ Code string }
	if r := ds.call("POST", "/deployments", "church", map[string]any{"platform": "render", "projectName": "x", "image": "nginx:1",
		"build": map[string]string{"runtim": "node"}}, &unknown); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown build field: %d %s", r.StatusCode, bodyOf(r))
	}
}
