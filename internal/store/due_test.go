package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
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
		c := fullConnection(t, fmt.Sprintf("tenant-%02d", i), youtube.ID, now)
		c.NextCheckAt = now.Add(-time.Duration(i) * time.Second)
		if err := repo.Save(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	// One not due yet: no shard lists it.
	later := fullConnection(t, "tenant-later", zoom.ID, now)
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
		shards[store.GetS(raw, store.AttrDuePK)] = true
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

// Items a table held before the due index sit in gsi1's unsharded DUE#CRED
// and DUE#LIVE partitions: Due still lists them, and their next save moves
// them to their shard of the due index.
func TestDueListsItemsWrittenBeforeTheShardingAndASaveMovesThem(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Connections()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	c := fullConnection(t, "old-tenant", zoom.ID, now)
	c.NextCheckAt = now.Add(-time.Minute)
	if err := repo.Save(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	// Rewrite the item as the code before the due index wrote it.
	raw, err := f.Store.Get(ctx, store.TenantPK("old-tenant"), "CONN#zoom")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.Update(ctx, store.Update{
		PK: store.TenantPK("old-tenant"), SK: "CONN#zoom", Expr: "SET gsi1pk = :old, gsi1sk = :sk REMOVE duepk, duesk",
		Values: store.Item{":old": store.S("DUE#CRED"), ":sk": raw[store.AttrDueSK]},
	}); err != nil {
		t.Fatal(err)
	}
	refs, next, err := repo.Due(ctx, now, "", 50)
	if err != nil || next != "" {
		t.Fatalf("due: %v (next %q)", err, next)
	}
	if len(refs) != 1 || refs[0].Tenant != "old-tenant" || refs[0].Platform != zoom.ID {
		t.Fatalf("due lists %+v, want the unsharded item", refs)
	}
	got, err := repo.Get(ctx, "old-tenant", zoom.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.NextCheckAt = now.Add(-30 * time.Second)
	if err := repo.Save(ctx, got, ""); err != nil {
		t.Fatal(err)
	}
	if raw, err = f.Store.Get(ctx, store.TenantPK("old-tenant"), "CONN#zoom"); err != nil {
		t.Fatal(err)
	}
	if old, pk := store.GetS(raw, store.AttrGSI1PK), store.GetS(raw, store.AttrDuePK); old != "" || len(pk) <= len("DUE#CRED#") {
		t.Fatalf("after a save gsi1pk is %q and duepk %q, want no gsi1pk and its shard", old, pk)
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

// A table made before the due index (a developer's local table) gets it
// from EnsureTable, and then lists due work through it.
func TestEnsureTableAddsTheDueIndexToATableMadeWithoutIt(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	name := f.Table + "-old"
	def := store.TableDefinition()
	def.GSIs = def.GSIs[:1] // gsi1 alone, as the table was
	in := def.CreateTableInput(name)
	in.AttributeDefinitions = in.AttributeDefinitions[:4]
	if _, err := f.DB.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = f.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	if err := store.EnsureTable(ctx, f.DB, name); err != nil {
		t.Fatal(err)
	}
	out, err := f.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		names = append(names, aws.ToString(g.IndexName))
	}
	if !slices.Contains(names, store.IndexDue) || !slices.Contains(names, store.IndexGSI1) {
		t.Fatalf("indexes %v after EnsureTable", names)
	}
	st := store.New(f.DB, name)
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	c := fullConnection(t, "t1", zoom.ID, now)
	c.NextCheckAt = now.Add(-time.Minute)
	if err := st.Connections().Save(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	if refs, _, err := st.Connections().Due(ctx, now, "", 10); err != nil || len(refs) != 1 {
		t.Fatalf("due %+v, %v", refs, err)
	}
}
