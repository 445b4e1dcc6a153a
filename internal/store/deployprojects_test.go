package store_test

import (
	"context"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

func TestAProjectRecordIsPerTenantPlatformScopeAndName(t *testing.T) {
	t.Parallel()
	repo := dynamotest.New(t).Store.Deployments()
	ctx := context.Background()
	if err := repo.RecordProject(ctx, "acme", platform.Vercel, "", "site", "prj_1"); err != nil {
		t.Fatal(err)
	}
	if err := repo.RecordProject(ctx, "acme", platform.Vercel, "team#1", "site", "prj_team"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tenant, scope, name string
		p                   platform.ID
		want                string
	}{
		{"acme", "", "site", platform.Vercel, "prj_1"},
		{"acme", "team#1", "site", platform.Vercel, "prj_team"},
		{"other", "", "site", platform.Vercel, ""},
		{"acme", "", "site", platform.Render, ""},
		{"acme", "", "site-2", platform.Vercel, ""},
		{"acme", "team", "#1#site", platform.Vercel, ""}, // no forged key
	}
	for _, c := range cases {
		got, err := repo.OwnedProject(ctx, c.tenant, c.p, c.scope, c.name)
		if err != nil || got != c.want {
			t.Errorf("OwnedProject(%s, %s, %q, %q) = %q, %v; want %q", c.tenant, c.p, c.scope, c.name, got, err, c.want)
		}
	}
	// A project made anew (the old one deleted at the platform) replaces the record.
	if err := repo.RecordProject(ctx, "acme", platform.Vercel, "", "site", "prj_2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := repo.OwnedProject(ctx, "acme", platform.Vercel, "", "site"); got != "prj_2" {
		t.Errorf("after re-recording: %q", got)
	}
}
