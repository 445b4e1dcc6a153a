package store_test

import (
	"context"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
)

func TestAProjectRecordIsPerTenantPlatformScopeAndName(t *testing.T) {
	t.Parallel()
	repo := dynamotest.New(t).Store.Deployments()
	ctx := context.Background()
	if err := repo.RecordProject(ctx, "acme", vercel.ID, "", "site", "prj_1"); err != nil {
		t.Fatal(err)
	}
	if err := repo.RecordProject(ctx, "acme", vercel.ID, "team#1", "site", "prj_team"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tenant, scope, name string
		p                   platform.ID
		want                string
	}{
		{"acme", "", "site", vercel.ID, "prj_1"},
		{"acme", "team#1", "site", vercel.ID, "prj_team"},
		{"other", "", "site", vercel.ID, ""},
		{"acme", "", "site", render.ID, ""},
		{"acme", "", "site-2", vercel.ID, ""},
		{"acme", "team", "#1#site", vercel.ID, ""}, // no forged key
	}
	for _, c := range cases {
		got, err := repo.OwnedProject(ctx, c.tenant, c.p, c.scope, c.name)
		if err != nil || got != c.want {
			t.Errorf("OwnedProject(%s, %s, %q, %q) = %q, %v; want %q", c.tenant, c.p, c.scope, c.name, got, err, c.want)
		}
	}
	// A project made anew (the old one deleted at the platform) replaces the record.
	if err := repo.RecordProject(ctx, "acme", vercel.ID, "", "site", "prj_2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := repo.OwnedProject(ctx, "acme", vercel.ID, "", "site"); got != "prj_2" {
		t.Errorf("after re-recording: %q", got)
	}
}
