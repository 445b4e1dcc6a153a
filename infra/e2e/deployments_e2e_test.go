package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func siteFiles() []map[string]string {
	return []map[string]string{
		{"path": "index.html", "content": "<h1>Grace Church</h1>", "encoding": "utf-8"},
		{"path": "about/index.html", "content": "<h1>About us</h1>", "encoding": "utf-8"},
		{"path": "assets/logo.png", "content": "iVBORw0KGgo=", "encoding": "base64"},
	}
}

func TestADeploymentToEachPlatformReachesReadyWithBuildLogsThroughTheAPIAndTheStream(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	bodies := map[string]map[string]any{
		"vercel":  {"platform": "vercel", "projectName": "grace-site", "files": siteFiles(), "env": map[string]string{"SITE_SECRET": "e2e-site-secret-value"}},
		"railway": {"platform": "railway", "projectName": "grace api", "source": map[string]string{"repo": "https://github.com/grace/api", "branch": "main"}},
		"render":  {"platform": "render", "projectName": "grace-web", "image": "docker.io/library/nginx:1.27", "env": map[string]string{"NODE_ENV": "production"}},
	}
	ids := map[string]string{}
	for p, body := range bodies {
		ids[p] = ds.deploy("church", body).ID
	}
	for p, id := range ids {
		d := ds.waitEnded("church", id)
		if d.Status != "ready" || d.Error != nil || d.URL == nil || !strings.HasPrefix(*d.URL, "https://") || d.PlatformDeploymentID == nil || d.Platform != p {
			t.Fatalf("%s: %+v", p, d)
		}
		lines := ds.deploymentLogs("church", id)
		if len(lines) < 3 {
			t.Fatalf("%s build log: %+v", p, lines)
		}
	}
	// The list shows all three, newest first; every answer carried the
	// rate limit, and three of ten are used.
	var list struct{ Items []deploymentBody }
	r := ds.call("GET", "/deployments", "church", nil, &list)
	if len(list.Items) != 3 {
		t.Fatalf("list %+v", list)
	}
	if limit, remaining, _ := requireRateLimitHeaders(t, r); limit != 10 || remaining != 7 {
		t.Fatalf("RateLimit %d/%d", remaining, limit)
	}
	// No secret in the table, the worker's logs or the answers.
	everything := ds.rawTable() + ds.workerLogs.String()
	for _, id := range ids {
		everything += bodyOf(ds.call("GET", "/deployments/"+id, "church", nil, nil))
	}
	for _, secret := range []string{"e2e-site-secret-value", e2eVercelToken, e2eRailwayToken, e2eRenderKey} {
		if strings.Contains(everything, secret) {
			t.Fatalf("a secret (%s…) is in plaintext", secret[:8])
		}
	}
}

func TestTheEleventhDeploymentInAnHourIsA429WithACorrectRetryAfter(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	body := map[string]any{"platform": "railway", "projectName": "busy", "image": "nginx:1"}
	first := time.Now()
	for i := range 10 {
		d := ds.deploy("church", body)
		if i == 0 {
			first = mustTime(t, d.CreatedAt)
		}
	}
	var problem struct {
		Status int
		Code   string
	}
	before := time.Now()
	r := ds.call("POST", "/deployments", "church", body, &problem)
	if r.StatusCode != http.StatusTooManyRequests || problem.Code != "rate_limited" || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("eleventh: %d %s", r.StatusCode, bodyOf(r))
	}
	after := time.Now()
	retryAfter, err := strconv.Atoi(r.Header.Get("Retry-After"))
	// The first acceptance leaves the window an hour after it was made,
	// which is within the second its createdAt names; the refusal was
	// decided between before and after; Retry-After rounds up.
	ra := time.Duration(retryAfter) * time.Second
	low, high := first.Add(time.Hour).Sub(after), first.Add(time.Hour+2*time.Second).Sub(before)
	if err != nil || ra < low || ra > high {
		t.Fatalf("Retry-After %q, want between %s and %s", r.Header.Get("Retry-After"), low, high)
	}
	limit, remaining, reset := requireRateLimitHeaders(t, r)
	if limit != 10 || remaining != 0 || reset != retryAfter {
		t.Fatalf("RateLimit %d/%d reset %d, Retry-After %d", remaining, limit, reset, retryAfter)
	}
	var lim struct {
		Limit, Remaining int
		ResetAt          string
	}
	if r := ds.call("GET", "/deployments/limits", "church", nil, &lim); r.StatusCode != 200 || lim.Limit != 10 || lim.Remaining != 0 ||
		mustTime(t, lim.ResetAt).Sub(first.Add(time.Hour)).Abs() > time.Second {
		t.Fatalf("limits %+v", lim)
	}
	// The refused request stored nothing.
	var list struct{ Items []deploymentBody }
	if ds.call("GET", "/deployments?limit=100", "church", nil, &list); len(list.Items) != 10 {
		t.Fatalf("%d deployments stored", len(list.Items))
	}
	// Another tenant's user is not limited by it.
	ds.connectDeployPlatforms("other-church")
	ds.deploy("other-church", body)
}

func TestFiftyConcurrentRequestsOfOneUserAcceptExactlyTheLimit(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	raw, _ := json.Marshal(map[string]any{"platform": "render", "projectName": "rush", "image": "nginx:1"})
	token := ds.token("church", "user-of-church")
	statuses := make([]int, 50)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest("POST", ds.gw.URL+"/deployments", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusAccepted] != 10 || count[http.StatusTooManyRequests] != 40 {
		t.Fatalf("answers %v, want 10 × 202 and 40 × 429", count)
	}
	var list struct{ Items []deploymentBody }
	ds.call("GET", "/deployments?limit=100", "church", nil, &list)
	if len(list.Items) != 10 {
		t.Fatalf("%d deployments stored", len(list.Items))
	}
	for _, d := range list.Items {
		if got := ds.waitEnded("church", d.ID); got.Status != "ready" {
			t.Fatalf("%s: %+v", d.ID, got)
		}
	}
	// Render keeps one service per name in a workspace: the ten deploy it.
	if svcs := ds.sb.Render.ServicesNamed("rush"); len(svcs) != 1 {
		t.Fatalf("Render holds %d services named rush after 10 deployments of the project", len(svcs))
	}
}

func TestPlatform500sAnd429sAreRetriedAndThenSucceed(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	ds.sb.Vercel.FailNext("createProject", http.StatusInternalServerError, "", 2)
	ds.sb.Vercel.FailNext("createDeployment", http.StatusTooManyRequests, "", 1)
	ds.sb.Render.FailNext("createService", http.StatusTooManyRequests, "", 1)
	ds.sb.Render.FailNext("getDeploy", http.StatusBadGateway, "", 3)
	v := ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "flaky-site", "files": siteFiles()})
	rd := ds.deploy("church", map[string]any{"platform": "render", "projectName": "flaky-web", "image": "nginx:1"})
	for _, id := range []string{v.ID, rd.ID} {
		d := ds.waitEnded("church", id)
		if d.Status != "ready" {
			t.Fatalf("%+v", d)
		}
		retried := false
		for _, l := range ds.deploymentLogs("church", id) {
			retried = retried || (l.Type == "info" && strings.Contains(l.Text, "trying again"))
		}
		if !retried {
			t.Fatalf("%s: the retries are not in the log", id)
		}
	}
	// createDeployment: the 429, the missing_files answer, the create.
	if ds.sb.Vercel.Calls("createProject") != 3 || ds.sb.Vercel.Calls("createDeployment") != 3 || ds.sb.Vercel.Projects() != 1 || ds.sb.Vercel.Deployments() != 1 {
		t.Fatalf("createProject %d, createDeployment %d, projects %d, deployments %d", ds.sb.Vercel.Calls("createProject"),
			ds.sb.Vercel.Calls("createDeployment"), ds.sb.Vercel.Projects(), ds.sb.Vercel.Deployments())
	}
}

func TestAPlatformFailureEndsInErrorWithItsReason(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	ds.sb.Railway.FailBuild("broken-api", "npm ERR! Missing script: \"build\"")
	ds.sb.Render.FailNext("createService", http.StatusBadRequest, "", 1)
	build := ds.deploy("church", map[string]any{"platform": "railway", "projectName": "broken-api", "image": "node:22"})
	refused := ds.deploy("church", map[string]any{"platform": "render", "projectName": "refused-web", "image": "nginx:1"})

	d := ds.waitEnded("church", build.ID)
	if d.Status != "error" || d.Error == nil || d.Error.Code != "build_failed" || !strings.Contains(d.Error.Message, "Missing script") {
		t.Fatalf("failed build: %+v %+v", d, d.Error)
	}
	d = ds.waitEnded("church", refused.ID)
	if d.Status != "error" || d.Error == nil || d.Error.Code != "invalid_request" || !strings.Contains(d.Error.Message, "create service") {
		t.Fatalf("refused: %+v %+v", d, d.Error)
	}
	// What a platform cannot do is refused at once, in its own words.
	var p struct{ Code, Detail string }
	r := ds.call("POST", "/deployments", "church", map[string]any{"platform": "render", "projectName": "files-web", "files": siteFiles()}, &p)
	if r.StatusCode != http.StatusUnprocessableEntity || p.Code != "unsupported_by_platform" || !strings.Contains(p.Detail, "Render takes no file upload") {
		t.Fatalf("files to Render: %d %s", r.StatusCode, bodyOf(r))
	}
	requireRateLimitHeaders(t, r)
}

func TestAWorkerKilledMidwayResumesWithoutRepeatingFinishedSteps(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	// The first invocation is killed once the deployment has been started
	// at Vercel and the worker polls it: its context ends there, mid-way.
	// (Killed during the create call itself, the answer would be lost and
	// the deployment asked for again: see the deploy package's tests.)
	var once sync.Once
	ds.mu.Lock()
	ds.interrupt = func(ctx context.Context) context.Context {
		killed, kill := context.WithCancel(ctx)
		once.Do(func() {
			go func() {
				for ds.sb.Vercel.Calls("getDeployment") == 0 && killed.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				kill()
			}()
		})
		return killed
	}
	ds.mu.Unlock()
	d := ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "killed-site", "files": siteFiles(), "env": map[string]string{"A": "1"}})

	// The killed worker left it building, let go of it, and nothing runs it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got deploymentBody
		ds.call("GET", "/deployments/"+d.ID, "church", nil, &got)
		if got.Status == "building" && strings.Contains(ds.workerLogs.String(), "deployment paused") {
			break
		}
		if got.Status != "queued" && got.Status != "building" || time.Now().After(deadline) {
			t.Fatalf("after the kill: %+v\n%s", got, ds.workerLogs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// stream-scheduler's sweep finds it and hands it back through the stream.
	if rep := ds.tickSweep(); rep.Found != 1 || rep.Done != 1 {
		t.Fatalf("sweep %+v", rep)
	}
	got := ds.waitEnded("church", d.ID)
	if got.Status != "ready" {
		t.Fatalf("%+v", got)
	}
	// createDeployment: the missing_files answer (which makes nothing), then the create.
	for op, want := range map[string]int{"createProject": 1, "createProjectEnv": 1, "uploadFile": 3, "createDeployment": 2} {
		if n := ds.sb.Vercel.Calls(op); n != want {
			t.Errorf("%s called %d times, want %d", op, n, want)
		}
	}
	if n := ds.sb.Vercel.Deployments(); n != 1 {
		t.Errorf("%d deployments at Vercel, want 1", n)
	}
}

func TestIdempotencyKeyReplaysTheAcceptanceAndRefusesAnotherBody(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	post := func(body map[string]any) (*http.Response, deploymentBody) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", ds.gw.URL+"/deployments", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ds.token("church", "user-of-church"))
		req.Header.Set("Idempotency-Key", "deploy-42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d deploymentBody
		_ = json.NewDecoder(resp.Body).Decode(&d)
		return resp, d
	}
	body := map[string]any{"platform": "railway", "projectName": "once", "image": "nginx:1"}
	r1, d1 := post(body)
	r2, d2 := post(body)
	if r1.StatusCode != 202 || r2.StatusCode != 202 || d1.ID != d2.ID || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("%d %d %s %s", r1.StatusCode, r2.StatusCode, d1.ID, d2.ID)
	}
	if _, remaining, _ := requireRateLimitHeaders(t, r2); remaining != 9 {
		t.Fatalf("the replay counted against the limit: %d left", remaining)
	}
	body["projectName"] = "twice"
	if r3, _ := post(body); r3.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("another body: %d", r3.StatusCode)
	}
	ds.waitEnded("church", d1.ID)
	if n := ds.sb.Railway.Calls("serviceInstanceDeployV2"); n != 1 {
		t.Fatalf("%d deployments at Railway", n)
	}
}

func TestCancelAndRollbackThroughTheAPI(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church")
	first := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "roll", "files": siteFiles()}).ID)
	second := ds.waitEnded("church", ds.deploy("church", map[string]any{"platform": "vercel", "projectName": "roll", "files": siteFiles()[:1]}).ID)
	if first.Status != "ready" || second.Status != "ready" {
		t.Fatalf("%+v %+v", first, second)
	}
	var rb deploymentBody
	r := ds.call("POST", "/deployments/"+first.ID+"/rollback", "church", nil, &rb)
	if r.StatusCode != http.StatusAccepted || rb.RollbackOf == nil || *rb.RollbackOf != first.ID {
		t.Fatalf("rollback: %d %s", r.StatusCode, bodyOf(r))
	}
	got := ds.waitEnded("church", rb.ID)
	if got.Status != "ready" || *got.PlatformDeploymentID != *first.PlatformDeploymentID {
		t.Fatalf("rolled back: %+v", got)
	}
	// An ended deployment cannot be canceled.
	var p struct{ Code string }
	if r := ds.call("POST", "/deployments/"+first.ID+"/cancel", "church", nil, &p); r.StatusCode != http.StatusConflict || p.Code != "deployment_ended" {
		t.Fatalf("cancel ended: %d %s", r.StatusCode, bodyOf(r))
	}
	// Name availability goes through the tenant's connection.
	var av struct {
		Name       string
		Available  bool
		Suggestion string
	}
	if r := ds.call("GET", "/projects/vercel/availability?name=roll", "church", nil, &av); r.StatusCode != 200 || av.Available || av.Suggestion != "roll-2" {
		t.Fatalf("availability: %d %+v", r.StatusCode, av)
	}
}

func TestEveryDeploymentsRouteKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	ds.connectDeployPlatforms("church-a")
	d := ds.waitEnded("church-a", ds.deploy("church-a", map[string]any{"platform": "railway", "projectName": "private", "image": "nginx:1"}).ID)
	for _, c := range []struct{ method, path string }{
		{"GET", "/deployments/" + d.ID}, {"GET", "/deployments/" + d.ID + "/logs"},
		{"POST", "/deployments/" + d.ID + "/cancel"}, {"POST", "/deployments/" + d.ID + "/rollback"},
	} {
		r := ds.call(c.method, c.path, "church-b", nil, nil)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as another tenant: %d %s", c.method, c.path, r.StatusCode, bodyOf(r))
		}
		requireRateLimitHeaders(t, r)
	}
	var list struct{ Items []deploymentBody }
	if ds.call("GET", "/deployments", "church-b", nil, &list); len(list.Items) != 0 {
		t.Fatalf("another tenant lists %+v", list.Items)
	}
	var lim struct{ Remaining int }
	if ds.call("GET", "/deployments/limits", "church-b", nil, &lim); lim.Remaining != 10 {
		t.Fatalf("another tenant's limit: %+v", lim)
	}
	// church-b has connected nothing: church-a's connections do not serve it.
	if r := ds.call("GET", "/projects/railway/availability?name=private", "church-b", nil, nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("availability through another tenant's connection: %d %s", r.StatusCode, bodyOf(r))
	}
	if r := ds.call("POST", "/deployments", "church-b", map[string]any{"platform": "railway", "projectName": "x", "image": "nginx:1"}, nil); r.StatusCode != http.StatusConflict {
		t.Fatalf("deploying through another tenant's connection: %d %s", r.StatusCode, bodyOf(r))
	}
	// A log cursor of church-a's deployment does not open another's log.
	var page struct{ NextCursor string }
	ds.call("GET", "/deployments/"+d.ID+"/logs", "church-a", nil, &page)
	other := ds.waitEnded("church-a", ds.deploy("church-a", map[string]any{"platform": "railway", "projectName": "other", "image": "nginx:1"}).ID)
	if r := ds.call("GET", "/deployments/"+other.ID+"/logs?cursor="+page.NextCursor, "church-a", nil, nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a foreign cursor: %d %s", r.StatusCode, bodyOf(r))
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}
