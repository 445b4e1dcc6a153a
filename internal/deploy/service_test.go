package deploy_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestBadRequestsAreRefusedWithAClearReasonAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	repo := &deploy.GitSource{Repo: "https://github.com/acme/site", Branch: "main"}
	file := func(path string) []deploy.File {
		return []deploy.File{{Path: path, Content: "x", Encoding: deploy.EncodingUTF8}}
	}
	many := make([]deploy.File, platform.MaxDeployFiles+1)
	for i := range many {
		many[i] = deploy.File{Path: "f" + strings.Repeat("x", i%7) + string(rune('a'+i%26)), Content: "", Encoding: deploy.EncodingUTF8}
	}
	cases := []struct {
		name string
		req  deploy.Request
		kind apperr.Kind
		code string
		says string
	}{
		{"an unknown platform", deploy.Request{Platform: "heroku", ProjectName: "x", Source: repo}, apperr.Invalid, "unknown_platform", "heroku"},
		{"a platform that does not host", deploy.Request{Platform: "zoom", ProjectName: "x", Source: repo}, apperr.Invalid, "wrong_platform_kind", "vercel, railway, render"},
		{"no project name", deploy.Request{Platform: "vercel", Files: site()}, apperr.Invalid, "invalid_project_name", "required"},
		{"a name Vercel refuses", deploy.Request{Platform: "vercel", ProjectName: "My Site", Files: site()}, apperr.Invalid, "invalid_project_name", "lowercase"},
		{"a name Render refuses", deploy.Request{Platform: "render", ProjectName: " padded ", Source: repo}, apperr.Invalid, "invalid_project_name", "Render service name"},
		{"no source", deploy.Request{Platform: "vercel", ProjectName: "x"}, apperr.Invalid, "invalid_source", "exactly one"},
		{"two sources", deploy.Request{Platform: "railway", ProjectName: "x", Source: repo, Image: "nginx:1"}, apperr.Invalid, "invalid_source", "exactly one"},
		{"a repository without a branch", deploy.Request{Platform: "render", ProjectName: "x", Source: &deploy.GitSource{Repo: "https://github.com/a/b"}}, apperr.Invalid, "invalid_source", "branch"},
		{"an absolute path", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("/etc/passwd")}, apperr.Invalid, "invalid_deployment", "relative"},
		{"a path out of the project", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("../secrets.txt")}, apperr.Invalid, "invalid_deployment", "relative"},
		{"a path that climbs back in", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("a/../../b")}, apperr.Invalid, "invalid_deployment", "relative"},
		{"a backslash path", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file(`a\b.txt`)}, apperr.Invalid, "invalid_deployment", "relative"},
		{"a file given twice", deploy.Request{Platform: "vercel", ProjectName: "x", Files: append(file("a.txt"), file("a.txt")...)}, apperr.Invalid, "invalid_deployment", "twice"},
		{"an unknown encoding", deploy.Request{Platform: "vercel", ProjectName: "x", Files: []deploy.File{{Path: "a", Content: "x", Encoding: "gzip"}}}, apperr.Invalid, "invalid_file", "utf-8"},
		{"content that is not base64", deploy.Request{Platform: "vercel", ProjectName: "x", Files: []deploy.File{{Path: "a", Content: "%%%", Encoding: "base64"}}}, apperr.Invalid, "invalid_file", "base64"},
		{"too many files", deploy.Request{Platform: "vercel", ProjectName: "x", Files: many}, apperr.Invalid, "too_many_files", "15000"},
		{"a bad variable name", deploy.Request{Platform: "vercel", ProjectName: "x", Files: site(), Env: map[string]string{"1BAD": "v"}}, apperr.Invalid, "invalid_deployment", "1BAD"},
		{"a NUL in a path", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("a\x00b.txt")}, apperr.Invalid, "invalid_file", "control character"},
		{"an escape in a path", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("a\x1b[2Jb.txt")}, apperr.Invalid, "invalid_file", "control character"},
		{"a C1 control in a path", deploy.Request{Platform: "vercel", ProjectName: "x", Files: file("a\u0085b.txt")}, apperr.Invalid, "invalid_file", "control character"},
		{"a line break in the project name", deploy.Request{Platform: "railway", ProjectName: "a\nb", Image: "nginx:1"}, apperr.Invalid, "invalid_project_name", "control characters"},
		{"a NUL in the branch", deploy.Request{Platform: "render", ProjectName: "x", Source: &deploy.GitSource{Repo: "https://github.com/a/b", Branch: "main\x00"}}, apperr.Invalid, "invalid_source", "control characters"},
		{"an over-long variable name", deploy.Request{Platform: "vercel", ProjectName: "x", Files: site(), Env: map[string]string{strings.Repeat("A", deploy.MaxEnvName+1): "v"}}, apperr.Invalid, "invalid_env", "longer than 256 bytes"},
		{"a repository URL with a token", deploy.Request{Platform: "render", ProjectName: "x", Source: &deploy.GitSource{Repo: "https://ghp_secret123@github.com/a/b", Branch: "main"}}, apperr.Invalid, "invalid_source", "must not carry credentials"},
		{"a repository URL with a user and password", deploy.Request{Platform: "railway", ProjectName: "x", Source: &deploy.GitSource{Repo: "https://user:pa%zzss@github.com/a/b", Branch: "main"}}, apperr.Invalid, "invalid_source", "must not carry credentials"},
		{"an unknown database", deploy.Request{Platform: "railway", ProjectName: "x", Source: repo, Database: ptr("mysql")}, apperr.Invalid, "invalid_deployment", "postgres"},
		{"files to Render", deploy.Request{Platform: "render", ProjectName: "x", Files: site()}, apperr.Unprocessable, "unsupported_by_platform", "Render takes no file upload"},
		{"files to Railway without the undocumented upload", deploy.Request{Platform: "railway", ProjectName: "x", Files: site()}, apperr.Unprocessable, "unsupported_by_platform", "Railway documents no file upload"},
		{"a GitLab repository to Vercel", deploy.Request{Platform: "vercel", ProjectName: "x", Source: &deploy.GitSource{Repo: "https://gitlab.com/acme/site", Branch: "main"}}, apperr.Unprocessable, "unsupported_by_platform", "numeric project id"},
		{"a database at Vercel", deploy.Request{Platform: "vercel", ProjectName: "x", Files: site(), Database: ptr("postgres")}, apperr.Unprocessable, "unsupported_by_platform", "Marketplace"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := e.svc.Create(context.Background(), e.who, c.req)
			ae, ok := apperr.As(err)
			if !ok || ae.Kind != c.kind || string(ae.Code) != c.code || !strings.Contains(ae.Detail, c.says) {
				t.Fatalf("got %v, want %s %s saying %q", err, c.kind, c.code, c.says)
			}
		})
	}
	// Nothing was stored: no deployment, no files, no rate-limit window.
	for _, it := range e.rawItems() {
		if sk := store.GetS(it, "sk"); !strings.HasPrefix(sk, "CONN#") {
			t.Fatalf("a refused request stored %s", sk)
		}
	}
}

func TestFilesBeyondTheBodyLimitAreTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.cfg.MaxFileBytes = 1 << 10
	e.rebuild()
	big := base64.StdEncoding.EncodeToString(make([]byte, 1<<10+1))
	_, _, err := e.svc.Create(context.Background(), e.who, deploy.Request{Platform: "vercel", ProjectName: "big",
		Files: []deploy.File{{Path: "blob.bin", Content: big, Encoding: deploy.EncodingBase64}}})
	if !apperr.Is(err, apperr.TooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestAPlatformNotConnectedIsAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, _, err := e.svc.Create(context.Background(), e.who, deploy.Request{Platform: "vercel", ProjectName: "site", Files: site()})
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Conflict || ae.Code != "not_connected" {
		t.Fatalf("got %v", err)
	}
	e.connect(e.tenant)
	if _, err := e.conns.Disconnect(context.Background(), e.tenant, "render"); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.Create(context.Background(), e.who, deploy.Request{Platform: "render", ProjectName: "site", Image: "nginx:1"})
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Conflict || ae.Code != "not_connected" {
		t.Fatalf("after disconnect: %v", err)
	}
}

func TestTheEleventhDeploymentInAnHourIsRefusedUntilTheFirstLeavesTheWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	ctx := context.Background()
	start := e.clock.Now()
	for i := range 10 {
		_, dec, err := e.svc.Create(ctx, e.who, deploy.Request{Platform: "railway", ProjectName: "n", Image: "nginx:1"})
		if err != nil || !dec.Allowed || dec.Remaining != 9-i || dec.Limit != 10 {
			t.Fatalf("deployment %d: %+v %v", i+1, dec, err)
		}
		e.clock.Advance(time.Minute)
	}
	_, dec, err := e.svc.Create(ctx, e.who, deploy.Request{Platform: "railway", ProjectName: "n", Image: "nginx:1"})
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.RateLimited || dec.Allowed || dec.Remaining != 0 {
		t.Fatalf("eleventh: %+v %v", dec, err)
	}
	// The first was accepted at start; ten minutes have passed.
	want := start.Truncate(time.Millisecond).Add(time.Hour).Sub(e.clock.Now())
	if diff := ae.RetryAfter - want; diff < -time.Second || diff > time.Second || ae.RetryAfter != dec.RetryAfter {
		t.Fatalf("Retry-After %s, want about %s", ae.RetryAfter, want)
	}
	lim, err := e.svc.Limits(ctx, e.who)
	if err != nil || lim.Remaining != 0 || lim.ResetAt.Sub(start.Add(time.Hour)).Abs() > time.Second {
		t.Fatalf("limits %+v %v", lim, err)
	}
	// Another user of the tenant, and the same user of another tenant,
	// have their own windows.
	other := deploy.Identity{Tenant: e.tenant, User: "dev-2"}
	if _, dec, err := e.svc.Create(ctx, other, deploy.Request{Platform: "railway", ProjectName: "n", Image: "nginx:1"}); err != nil || dec.Remaining != 9 {
		t.Fatalf("another user: %+v %v", dec, err)
	}
	e.clock.Advance(50*time.Minute + time.Second)
	if _, dec, err := e.svc.Create(ctx, e.who, deploy.Request{Platform: "railway", ProjectName: "n", Image: "nginx:1"}); err != nil || !dec.Allowed {
		t.Fatalf("once the first left the window: %+v %v", dec, err)
	}
}

func TestConcurrentRequestsOfOneUserAcceptExactlyTheLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	var (
		wg                        sync.WaitGroup
		mu                        sync.Mutex
		accepted, limited, failed int
	)
	for range 50 {
		wg.Go(func() {
			_, _, err := e.svc.Create(context.Background(), e.who, deploy.Request{Platform: "vercel", ProjectName: "burst", Files: site()})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case apperr.Is(err, apperr.RateLimited):
				limited++
			default:
				failed++
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	list, _, err := e.svc.List(context.Background(), e.tenant, deploy.ListFilter{}, "", 100)
	if accepted != 10 || limited != 40 || err != nil || len(list) != 10 {
		t.Fatalf("accepted %d, limited %d, failed %d, stored %d (%v)", accepted, limited, failed, len(list), err)
	}
}

func TestAnotherTenantSeesNoneOfItAndCannotActOnIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	e.connect("globex")
	ctx := context.Background()
	d := e.create(deploy.Request{Platform: "railway", ProjectName: "mine", Image: "nginx:1"})
	e.run(d.ID)
	intruder := deploy.Identity{Tenant: "globex", User: "dev-1"}
	checks := map[string]error{}
	_, checks["get"] = e.svc.Get(ctx, "globex", d.ID)
	_, checks["logs"] = e.svc.Logs(ctx, "globex", d.ID, "")
	_, checks["cancel"] = e.svc.Cancel(ctx, "globex", d.ID)
	_, _, checks["rollback"] = e.svc.Rollback(ctx, intruder, d.ID)
	for what, err := range checks {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s as another tenant: %v", what, err)
		}
	}
	if list, _, err := e.svc.List(ctx, "globex", deploy.ListFilter{}, "", 100); err != nil || len(list) != 0 {
		t.Fatalf("another tenant lists %v %v", list, err)
	}
	if _, err := e.svc.Get(ctx, e.tenant, "dpl_not-an-id"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a malformed id: %v", err)
	}
}

func TestNameAvailabilityIsAskedThroughTheTenantsConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.CheckName(ctx, e.tenant, "vercel", "grace", ""); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("not connected: %v", err)
	}
	e.connect(e.tenant)
	if av, err := e.svc.CheckName(ctx, e.tenant, "vercel", "grace", ""); err != nil || !av.Available {
		t.Fatalf("a free name: %+v %v", av, err)
	}
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "grace", Files: site()})
	e.run(d.ID)
	av, err := e.svc.CheckName(ctx, e.tenant, "vercel", "grace", "")
	if err != nil || av.Available || av.Suggestion != "grace-2" {
		t.Fatalf("a taken name: %+v %v", av, err)
	}
	if av, err := e.svc.CheckName(ctx, e.tenant, "vercel", "Grace Church!", ""); err != nil || av.Available || av.Suggestion != "grace-church" {
		t.Fatalf("a name Vercel refuses: %+v %v", av, err)
	}
	if _, err := e.svc.CheckName(ctx, e.tenant, "zoom", "grace", ""); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("not a hosting platform: %v", err)
	}
	if _, err := e.svc.CheckName(ctx, e.tenant, "vercel", "", ""); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("no name: %v", err)
	}
	e.vercel.FailNext("getProject", 503, "", 5)
	if _, err := e.svc.CheckName(ctx, e.tenant, "vercel", "other", ""); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Vercel down: %v", err)
	}
}

func TestAcceptanceStoresTheEnvironmentSealedAndTheFilesApart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant)
	big := make([]deploy.File, 0, 40)
	for i := range 40 {
		// Incompressible content, so that the archive needs several pieces.
		raw := make([]byte, 32<<10)
		_, _ = rand.Read(raw)
		big = append(big, deploy.File{Path: "assets/" + string(rune('a'+i%26)) + strings.Repeat("x", i) + ".bin",
			Content: base64.StdEncoding.EncodeToString(raw), Encoding: deploy.EncodingBase64})
	}
	d := e.create(deploy.Request{Platform: "vercel", ProjectName: "heavy", Files: big, Env: map[string]string{"STRIPE_KEY": "sk_live_plaintextsecret"}})
	if d.Files.Count != 40 || d.Files.Chunks < 2 {
		t.Fatalf("files %+v", d.Files)
	}
	for _, it := range e.rawItems() {
		if n := len(store.GetB(it, "data")); n > deploy.ChunkBytes {
			t.Fatalf("a piece of %d bytes", n)
		}
	}
	assertNoPlaintext(t, e, "sk_live_plaintextsecret", vercelToken)
	if _, got := e.run(d.ID); got.Status != deploy.StatusReady {
		t.Fatalf("%s %+v", got.Status, got.Error)
	}
	if e.vercel.Calls("uploadFile") != 40 {
		t.Fatalf("%d uploads for 40 files", e.vercel.Calls("uploadFile"))
	}
}
