package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// The due-work index spreads a kind over DueShards partitions, and Due
// pages through all of them: with many tenants due, the items land on
// more than one shard, and small pages list each exactly once.
func TestDueCredentialsAreSpreadOverShardsAndListedOnceEach(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Connections()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	const n = 40
	for i := range n {
		c := fullConnection(t, fmt.Sprintf("tenant-%02d", i), platform.YouTube, now)
		c.NextCheckAt = now.Add(-time.Duration(i) * time.Second)
		if err := repo.Save(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	// One not due yet: no shard lists it.
	later := fullConnection(t, "tenant-later", platform.Zoom, now)
	later.NextCheckAt = now.Add(time.Hour)
	if err := repo.Save(ctx, later, ""); err != nil {
		t.Fatal(err)
	}

	shards := map[string]bool{}
	for i := range n {
		raw, err := f.Store.Get(ctx, store.TenantPK(fmt.Sprintf("tenant-%02d", i)), "CONN#youtube")
		if err != nil {
			t.Fatal(err)
		}
		shards[store.GetS(raw, store.AttrGSI1PK)] = true
	}
	if len(shards) < 4 {
		t.Fatalf("%d connections landed on %d shards (%v): the index is not spread", n, len(shards), shards)
	}

	seen := map[string]int{}
	cursor, calls := "", 0
	for {
		refs, next, err := repo.Due(ctx, now, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) > 7 {
			t.Fatalf("a page of %d, limit 7", len(refs))
		}
		for _, r := range refs {
			seen[r.Tenant]++
		}
		if calls++; calls > n+store.DueShards+2 {
			t.Fatal("the cursor does not end")
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("listed %d tenants, want %d", len(seen), n)
	}
	for tenant, times := range seen {
		if times != 1 || tenant == "tenant-later" {
			t.Errorf("%s listed %d times", tenant, times)
		}
	}
}

// Items a table held before the sharding sit in the unsharded DUE#CRED and
// DUE#LIVE partitions: Due still lists them, and their next save moves
// them to their shard.
func TestDueListsItemsWrittenBeforeTheShardingAndASaveMovesThem(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Connections()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	c := fullConnection(t, "old-tenant", platform.Zoom, now)
	c.NextCheckAt = now.Add(-time.Minute)
	if err := repo.Save(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	// Rewrite the item as the unsharded code wrote it.
	if _, err := f.Store.Update(ctx, store.Update{
		PK: store.TenantPK("old-tenant"), SK: "CONN#zoom", Expr: "SET gsi1pk = :old", Values: store.Item{":old": store.S("DUE#CRED")},
	}); err != nil {
		t.Fatal(err)
	}
	refs, next, err := repo.Due(ctx, now, "", 50)
	if err != nil || next != "" {
		t.Fatalf("due: %v (next %q)", err, next)
	}
	if len(refs) != 1 || refs[0].Tenant != "old-tenant" || refs[0].Platform != platform.Zoom {
		t.Fatalf("due lists %+v, want the unsharded item", refs)
	}
	got, err := repo.Get(ctx, "old-tenant", platform.Zoom)
	if err != nil {
		t.Fatal(err)
	}
	got.NextCheckAt = now.Add(-30 * time.Second)
	if err := repo.Save(ctx, got, ""); err != nil {
		t.Fatal(err)
	}
	raw, err := f.Store.Get(ctx, store.TenantPK("old-tenant"), "CONN#zoom")
	if err != nil {
		t.Fatal(err)
	}
	if pk := store.GetS(raw, store.AttrGSI1PK); pk == "DUE#CRED" || len(pk) <= len("DUE#CRED#") {
		t.Fatalf("after a save gsi1pk is %q, want its shard", pk)
	}
	if refs, _, err = repo.Due(ctx, now, "", 50); err != nil || len(refs) != 1 {
		t.Fatalf("after the move due lists %+v (%v), want the one item", refs, err)
	}
}

func TestDueRefusesACursorItDidNotGive(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	for _, cursor := range []string{"x", "17/", "-1/", "99/", "3/c1.nope"} {
		if _, _, err := f.Store.Connections().Due(context.Background(), time.Now(), cursor, 10); err == nil {
			t.Errorf("cursor %q accepted", cursor)
		}
	}
	var _ connection.Repo = f.Store.Connections()
}
