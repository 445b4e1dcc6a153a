package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
)

var hour = ratelimit.Window{Limit: 10, Period: time.Hour}

// accepted stores a queued deployment the way the service does.
func accepted(t *testing.T, repo store.DeploymentRepo, tenant string, now time.Time, change ...func(*deploy.Deployment)) *deploy.Deployment {
	t.Helper()
	d := &deploy.Deployment{
		ID: deploy.NewID(now), Tenant: tenant, User: "u1", Platform: vercel.ID, ProjectName: "site",
		Source: deploy.SourceFiles, Status: deploy.StatusQueued, SealedEnv: []byte("sealed-env-bytes"),
		Files:     deploy.FileSet{Count: 1, Bytes: 5, Chunks: 1, SHA256: "abc"},
		CreatedAt: now, UpdatedAt: now, Deadline: now.Add(5 * time.Minute), DueAt: now.Add(2 * time.Minute),
	}
	for _, c := range change {
		c(d)
	}
	ctx := context.Background()
	st, err := repo.LoadWindow(ctx, tenant, deploy.LimitOf(d), d.User)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Accept(ctx, d, st, hour.Decide(st, now), time.Hour); err != nil {
		t.Fatalf("accept: %v", err)
	}
	return d
}

func TestAcceptWritesTheDeploymentAndTheWindowTogetherOrNeither(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := accepted(t, repo, "acme", now)
	got, err := repo.Get(ctx, "acme", d.ID)
	if err != nil || got.Status != deploy.StatusQueued || got.ProjectName != "site" || string(got.SealedEnv) != "sealed-env-bytes" ||
		got.Files != d.Files || !got.Deadline.Equal(d.Deadline) || !got.DueAt.Equal(d.DueAt) {
		t.Fatalf("stored %+v %v", got, err)
	}
	// A second acceptance from the window read before the first moved it
	// is contended, and writes no deployment.
	other := *d
	other.ID = deploy.NewID(now)
	err = repo.Accept(ctx, &other, ratelimit.State{}, hour.Decide(ratelimit.State{}, now), time.Hour)
	if !errors.Is(err, ratelimit.ErrContended) {
		t.Fatalf("stale accept: %v", err)
	}
	if _, err := repo.Get(ctx, "acme", other.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the refused deployment was written: %v", err)
	}
	// The raw item has the deployment type the stream's filter passes, and
	// the environment only sealed, with its context.
	it, err := f.Store.Get(ctx, store.TenantPK("acme"), "DEPLOY#"+d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if store.GetS(it, "type") != "deployment" || store.GetS(it, store.AttrGSI1PK) != "DUE#DEPLOY" {
		t.Fatalf("item %v", it)
	}
	if env, ec, ok := store.GetSealed(it, "env"); !ok || string(env) != "sealed-env-bytes" || ec["purpose"] != "env_vars" || ec["record"] != d.ID {
		t.Fatalf("env stored as %v %v", env, ec)
	}
}

func TestClaimTakesAQueuedDeploymentOnceUntilItsLeaseRunsOut(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	d := accepted(t, repo, "acme", now)

	got, err := repo.Claim(ctx, "acme", d.ID, "w1", now, now.Add(time.Minute))
	if err != nil || got.Status != deploy.StatusBuilding || got.LeaseOwner != "w1" || got.StartedAt.IsZero() {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if _, err := repo.Claim(ctx, "acme", d.ID, "w2", now.Add(30*time.Second), now.Add(90*time.Second)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a live lease was taken over: %v", err)
	}
	later := now.Add(61 * time.Second)
	got, err = repo.Claim(ctx, "acme", d.ID, "w2", later, later.Add(time.Minute))
	if err != nil || got.LeaseOwner != "w2" || !got.StartedAt.Equal(now) {
		t.Fatalf("claim after the lease: %+v %v", got, err)
	}
	// w1 lost it: its writes are refused.
	got.LeaseOwner = "w1"
	if err := repo.Save(ctx, got, "w1", nil); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a stale worker saved: %v", err)
	}
	if _, err := repo.Claim(ctx, "acme", "dpl_0000000000000000000000000a", "w3", now, now); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("claim of nothing: %v", err)
	}
	if _, err := repo.Claim(ctx, "other-tenant", d.ID, "w3", later.Add(time.Hour), later.Add(2*time.Hour)); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another tenant's key claimed it: %v", err)
	}
}

func TestSaveKeepsProgressAndLogItemsInOneWriteAndLogsPageWithACursorAlwaysGiven(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	d := accepted(t, repo, "acme", now)
	d, err := repo.Claim(ctx, "acme", d.ID, "w1", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Logs(ctx, "acme", d.ID, "", 10)
	if err != nil || len(first.Lines) != 0 || first.Cursor == "" {
		t.Fatalf("empty log: %+v %v", first, err)
	}
	d.Progress = platform.DeployProgress{ProjectID: "prj_1", DeploymentID: "dpl_x", URL: "https://site.vercel.app"}
	d.Steps = []deploy.Step{deploy.StepProject, deploy.StepStart}
	for i := range 3 {
		d.LogSeq++
		d.LogCursor = fmt.Sprint("c", i)
		d.UpdatedAt = now.Add(time.Duration(i) * time.Second)
		lines := []deploy.LogLine{{At: now, Type: "stdout", Text: fmt.Sprint("line ", i, "a")}, {At: now, Type: "stderr", Text: fmt.Sprint("line ", i, "b")}}
		if err := repo.Save(ctx, d, "w1", lines); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	got, err := repo.Get(ctx, "acme", d.ID)
	if err != nil || got.Progress.DeploymentID != "dpl_x" || len(got.Steps) != 2 || got.LogSeq != 3 || got.LogCursor != "c2" {
		t.Fatalf("after saves: %+v %v", got, err)
	}
	page, err := repo.Logs(ctx, "acme", d.ID, first.Cursor, 2)
	if err != nil || len(page.Lines) != 4 || page.Lines[0].Text != "line 0a" || page.Lines[3].Text != "line 1b" || page.Cursor == "" {
		t.Fatalf("page 1: %+v %v", page, err)
	}
	page, err = repo.Logs(ctx, "acme", d.ID, page.Cursor, 2)
	if err != nil || len(page.Lines) != 2 || page.Lines[1].Text != "line 2b" || page.Cursor == "" {
		t.Fatalf("page 2: %+v %v", page, err)
	}
	tail, err := repo.Logs(ctx, "acme", d.ID, page.Cursor, 2)
	if err != nil || len(tail.Lines) != 0 || tail.Cursor != page.Cursor {
		t.Fatalf("at the end: %+v %v", tail, err)
	}
	// A cursor of one deployment's log does not read another's.
	other := accepted(t, repo, "acme", now)
	if _, err := repo.Logs(ctx, "acme", other.ID, page.Cursor, 2); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a foreign cursor: %v", err)
	}
	// Ending it takes it out of the due index and lets the lease go.
	d.Status, d.EndedAt = deploy.StatusReady, now
	if err := repo.Save(ctx, d, "w1", nil); err != nil {
		t.Fatal(err)
	}
	it, _ := f.Store.Get(ctx, store.TenantPK("acme"), "DEPLOY#"+d.ID)
	if _, due := it[store.AttrGSI1PK]; due || store.GetS(it, "leaseOwner") != "" || store.GetS(it, "status") != "ready" {
		t.Fatalf("ended item %v", it)
	}
	if err := repo.Save(ctx, d, "w1", nil); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("an ended deployment was written again: %v", err)
	}
}

func TestCancelEndsOnlyAQueuedOrBuildingDeployment(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	d := accepted(t, repo, "acme", now)
	got, err := repo.Cancel(ctx, "acme", d.ID, now)
	if err != nil || got.Status != deploy.StatusCanceled || !got.DueAt.IsZero() {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	if _, err := repo.Cancel(ctx, "acme", d.ID, now); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := repo.Claim(ctx, "acme", d.ID, "w1", now, now.Add(time.Minute)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a canceled deployment was claimed: %v", err)
	}
	if _, err := repo.Cancel(ctx, "other", d.ID, now); !apperr.Is(err, apperr.Conflict) || !store.IsConditionFailed(err) {
		t.Fatalf("another tenant's cancel: %v", err)
	}
}

func TestDueKickAndExpireMoveOnlyWhatIsStillDue(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	stuck := accepted(t, repo, "acme", now.Add(-10*time.Minute)) // due 8 minutes ago
	fresh := accepted(t, repo, "acme", now)                      // due in 2 minutes
	due, _, err := repo.Due(ctx, now, "", 50)
	if err != nil || len(due) != 1 || due[0].ID != stuck.ID {
		t.Fatalf("due: %v %v", due, err)
	}
	if err := repo.Kick(ctx, due[0], now.Add(time.Minute), now); err != nil {
		t.Fatalf("kick: %v", err)
	}
	if err := repo.Kick(ctx, due[0], now.Add(time.Minute), now); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("a second kick from the same listing: %v", err)
	}
	ticket, err := f.Store.Get(ctx, store.TenantPK("acme"), "DEPLOYKICK#"+stuck.ID+"#1")
	if err != nil || store.GetS(ticket, "type") != "deployment" || store.GetS(ticket, "id") != stuck.ID ||
		store.GetS(ticket, "tenant") != "acme" || store.GetN(ticket, store.AttrTTL) == 0 {
		t.Fatalf("ticket %v %v", ticket, err)
	}
	if due, _, _ := repo.Due(ctx, now, "", 50); len(due) != 0 {
		t.Fatalf("still due after the kick: %v", due)
	}
	due, _, _ = repo.Due(ctx, now.Add(3*time.Minute), "", 50)
	if len(due) != 2 || due[0].ID != stuck.ID || due[0].Kicks != 1 {
		t.Fatalf("due later: %v", due)
	}
	info := deploy.ErrorInfo{Code: "timed_out", Message: "no worker finished it", At: now}
	if err := repo.Expire(ctx, due[1], info, now); err != nil || due[1].ID != fresh.ID {
		t.Fatalf("expire: %v", err)
	}
	got, _ := repo.Get(ctx, "acme", fresh.ID)
	if got.Status != deploy.StatusTimedOut || got.Error == nil || got.Error.Code != "timed_out" {
		t.Fatalf("expired: %+v", got)
	}
}

func TestFilesRoundTripAndAMissingPieceIsNotFound(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	chunks := [][]byte{[]byte(strings.Repeat("a", 300<<10)), []byte("tail")}
	if err := repo.PutFiles(ctx, "acme", "dpl_x", chunks, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Files(ctx, "acme", "dpl_x", 2)
	if err != nil || len(got) != 2 || string(got[1]) != "tail" || len(got[0]) != 300<<10 {
		t.Fatalf("files: %d %v", len(got), err)
	}
	if _, err := repo.Files(ctx, "acme", "dpl_x", 3); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a missing piece: %v", err)
	}
	if _, err := repo.Files(ctx, "other", "dpl_x", 2); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another tenant read the files: %v", err)
	}
}

func TestListGivesATenantsDeploymentsNewestFirst(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	var ids []string
	for i := range 3 {
		ids = append(ids, accepted(t, repo, "acme", now.Add(time.Duration(i)*time.Millisecond)).ID)
	}
	accepted(t, repo, "globex", now)
	// Log and file items in the same partition are not deployments.
	if err := repo.PutFiles(ctx, "acme", ids[0], [][]byte{[]byte("x")}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, next, err := repo.List(ctx, "acme", deploy.ListFilter{}, "", 2)
	if err != nil || len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] || next == "" {
		t.Fatalf("page 1: %v %q %v", list, next, err)
	}
	list, next, err = repo.List(ctx, "acme", deploy.ListFilter{}, next, 2)
	if err != nil || len(list) != 1 || list[0].ID != ids[0] || next != "" {
		t.Fatalf("page 2, the last: %v %q %v", list, next, err)
	}
}

func TestListFiltersByStatusPlatformAndProjectName(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC()
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Millisecond) }
	site := accepted(t, repo, "acme", at(0))
	blog := accepted(t, repo, "acme", at(1), func(d *deploy.Deployment) { d.ProjectName = "blog" })
	api := accepted(t, repo, "acme", at(2), func(d *deploy.Deployment) { d.Platform, d.ProjectName = render.ID, "api" })
	if _, err := repo.Cancel(ctx, "acme", blog.ID, at(3)); err != nil {
		t.Fatal(err)
	}
	accepted(t, repo, "globex", at(4), func(d *deploy.Deployment) { d.Platform = render.ID })
	cases := []struct {
		name string
		f    deploy.ListFilter
		want []string
	}{
		{"none", deploy.ListFilter{}, []string{api.ID, blog.ID, site.ID}},
		{"status", deploy.ListFilter{Status: deploy.StatusCanceled}, []string{blog.ID}},
		{"platform", deploy.ListFilter{Platform: render.ID}, []string{api.ID}},
		{"project name", deploy.ListFilter{ProjectName: "site"}, []string{site.ID}},
		{"all three", deploy.ListFilter{Status: deploy.StatusQueued, Platform: vercel.ID, ProjectName: "blog"}, nil},
		{"status and platform", deploy.ListFilter{Status: deploy.StatusQueued, Platform: vercel.ID}, []string{site.ID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			cursor := ""
			for range 5 {
				list, next, err := repo.List(ctx, "acme", c.f, cursor, 1)
				if err != nil {
					t.Fatal(err)
				}
				if next != "" && len(list) == 0 {
					t.Fatal("an empty page with a cursor")
				}
				for _, d := range list {
					got = append(got, d.ID)
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// A list shows neither environment nor database URL, so it does not read
// them: what it returns is what Get returns but those sealed values.
func TestDeploymentListReadsEverythingButTheSealedValues(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Deployments()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	d := accepted(t, repo, "acme", now, func(d *deploy.Deployment) {
		d.SealedDatabaseURL = []byte("sealed-db-url")
		d.Build = &deploy.Build{Runtime: "node", BuildCommand: "npm run build", StartCommand: "npm start", PublishPath: "dist"}
		d.Steps = []deploy.Step{"a", "b"}
		d.RollbackOf, d.RollbackTo, d.WorkspaceID = "dep-0", "dep-00", "ws-1"
	})
	list, _, err := repo.List(ctx, "acme", deploy.ListFilter{}, "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	full, err := repo.Get(ctx, "acme", d.ID)
	if err != nil || len(full.SealedEnv) == 0 || len(full.SealedDatabaseURL) == 0 {
		t.Fatalf("get: %+v %v", full, err)
	}
	if l := list[0]; len(l.SealedEnv) > 0 || len(l.SealedDatabaseURL) > 0 {
		t.Errorf("the list read sealed values: env %q, database URL %q", l.SealedEnv, l.SealedDatabaseURL)
	}
	full.SealedEnv, full.SealedDatabaseURL = nil, nil
	if !reflect.DeepEqual(list[0], full) {
		t.Errorf("list gave\n%+v\nGet gave (sealed values aside)\n%+v", *list[0], *full)
	}
}
