package store_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

func TestPutWithNotExistsRefusesASecondWrite(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	item := store.Item{store.AttrPK: store.S("TENANT#a"), store.AttrSK: store.S("X#1"), "v": store.S("first")}
	if err := f.Store.Put(ctx, item, store.NotExists()); err != nil {
		t.Fatalf("first put: %v", err)
	}
	item["v"] = store.S("second")
	err := f.Store.Put(ctx, item, store.NotExists())
	if !store.IsConditionFailed(err) || !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second put: got %v, want a Conflict caused by ErrConditionFailed", err)
	}
	got, err := f.Store.Get(ctx, "TENANT#a", "X#1")
	if err != nil {
		t.Fatal(err)
	}
	if store.GetS(got, "v") != "first" {
		t.Fatalf("stored value changed to %q", store.GetS(got, "v"))
	}
}

func TestGetOfMissingItemIsNotFound(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	_, err := f.Store.Get(context.Background(), "TENANT#a", "nope")
	if !store.IsNotFound(err) || !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("got %v, want NotFound", err)
	}
}

func TestPutVersionedLetsExactlyOneOfConcurrentWritersWin(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	base := func() store.Item {
		return store.Item{store.AttrPK: store.S("TENANT#a"), store.AttrSK: store.S("V#1")}
	}
	v, err := f.Store.PutVersioned(ctx, base(), 0)
	if err != nil || v != 1 {
		t.Fatalf("create: v=%d err=%v", v, err)
	}
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it := base()
			it["writer"] = store.N(int64(i))
			_, err := f.Store.PutVersioned(ctx, it, 1)
			switch {
			case err == nil:
				wins.Add(1)
			case store.IsConditionFailed(err):
				conflicts.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 9 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and 9", wins.Load(), conflicts.Load())
	}
	got, _ := f.Store.Get(ctx, "TENANT#a", "V#1")
	if store.GetN(got, store.AttrVersion) != 2 {
		t.Fatalf("version %d, want 2", store.GetN(got, store.AttrVersion))
	}
}

func TestConditionalDeleteConsumesAnItemOnce(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	if err := f.Store.Put(ctx, store.Item{store.AttrPK: store.S("STATE#s"), store.AttrSK: store.S("STATE")}, nil); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			old, err := f.Store.Delete(ctx, "STATE#s", "STATE", &store.Cond{Expr: "attribute_exists(pk)"})
			if err == nil && old != nil {
				got.Add(1)
			} else if err != nil && !store.IsConditionFailed(err) {
				t.Errorf("delete: %v", err)
			}
		}()
	}
	wg.Wait()
	if got.Load() != 1 {
		t.Fatalf("%d deletes returned the item, want exactly 1", got.Load())
	}
}

func TestUpdateWithConditionChangesOnlyWhenItHolds(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	_ = f.Store.Put(ctx, store.Item{store.AttrPK: store.S("P"), store.AttrSK: store.S("S"), "status": store.S("scheduled")}, nil)
	u := store.Update{PK: "P", SK: "S", Expr: "SET #s = :live", Cond: "#s = :sched",
		Names: map[string]string{"#s": "status"}, Values: store.Item{":live": store.S("live"), ":sched": store.S("scheduled")}, ReturnNew: true}
	it, err := f.Store.Update(ctx, u)
	if err != nil || store.GetS(it, "status") != "live" {
		t.Fatalf("first transition: %v %v", it, err)
	}
	if _, err := f.Store.Update(ctx, u); !store.IsConditionFailed(err) {
		t.Fatalf("second transition: got %v, want condition failed", err)
	}
}

func seed(t *testing.T, f *dynamotest.Fixture, pk string, n int) {
	t.Helper()
	for i := range n {
		it := store.Item{store.AttrPK: store.S(pk), store.AttrSK: store.S(fmt.Sprintf("ITEM#%03d", i))}
		if err := f.Store.Put(context.Background(), it, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueryPagesThroughAPartitionWithCursors(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	seed(t, f, store.TenantPK("a"), 23)
	seed(t, f, store.TenantPK("b"), 5)
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging did not end")
		}
		p, err := f.Store.Query(ctx, store.Query{PK: store.TenantPK("a"), SKPrefix: "ITEM#", Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			all = append(all, store.GetS(it, store.AttrSK))
		}
		if p.Cursor == "" {
			break
		}
		cursor = p.Cursor
	}
	if len(all) != 23 || all[0] != "ITEM#000" || all[22] != "ITEM#022" {
		t.Fatalf("got %d items %v", len(all), all)
	}
}

func TestQueryRefusesCursorsItDidNotIssue(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	seed(t, f, store.TenantPK("a"), 3)
	seed(t, f, store.TenantPK("b"), 3)
	p, err := f.Store.Query(ctx, store.Query{PK: store.TenantPK("b"), SKPrefix: "ITEM#", Limit: 1})
	if err != nil || p.Cursor == "" {
		t.Fatalf("page of b: %v cursor=%q", err, p.Cursor)
	}
	forged := "c1." + base64.RawURLEncoding.EncodeToString([]byte(`{"pk":"TENANT#b","sk":"ITEM#000"}`))
	flipped := []byte(p.Cursor)
	flipped[len(flipped)-2] ^= 0x01
	cases := map[string]string{
		"another tenant's cursor":          p.Cursor,
		"forged cursor for another tenant": forged,
		"flipped byte":                     string(flipped),
		"not base64":                       "c1.!!!",
		"no prefix":                        strings.TrimPrefix(p.Cursor, "c1."),
		"extra attribute":                  "c1." + base64.RawURLEncoding.EncodeToString([]byte(`{"pk":"TENANT#a","sk":"ITEM#000","x":"y"}`)),
		"sort key outside the list":        "c1." + base64.RawURLEncoding.EncodeToString([]byte(`{"pk":"TENANT#a","sk":"OTHER#1"}`)),
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.Store.Query(ctx, store.Query{PK: store.TenantPK("a"), SKPrefix: "ITEM#", Cursor: c})
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.Invalid || e.Code != "invalid_cursor" {
				t.Fatalf("got %v, want invalid_cursor", err)
			}
		})
	}
}

func TestEscKeepsIdentifiersFromForgingKeyPrefixes(t *testing.T) {
	t.Parallel()
	if store.TenantPK("a#USER#b") == store.TenantPK("a")+"#USER#b" {
		t.Fatal("a tenant id with '#' forged another key")
	}
	if store.Esc("plain-id") != "plain-id" {
		t.Fatal("plain ids must stay as they are")
	}
	if store.Esc("a%23") == store.Esc("a#") {
		t.Fatal("escaping is not one-to-one")
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// A cursor always leads to more items: the last page carries none, also
// when it is exactly full, read backwards, on gsi1, or under a filter
// that leaves items out.
func TestQueryGivesACursorOnlyWhenItemsRemain(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	seed(t, f, store.TenantPK("one"), 1)
	seed(t, f, store.TenantPK("four"), 4)
	for i := range 30 {
		it := store.Item{store.AttrPK: store.S(store.TenantPK("mixed")), store.AttrSK: store.S(fmt.Sprintf("ITEM#%03d", i)),
			"kind": store.S("other"), store.AttrGSI1PK: store.S("DUE#test"), store.AttrGSI1SK: store.S(fmt.Sprintf("%03d", i))}
		if i == 3 || i == 27 {
			it["kind"] = store.S("wanted")
		}
		if err := f.Store.Put(ctx, it, nil); err != nil {
			t.Fatal(err)
		}
	}
	wanted := &store.Cond{Expr: "#k = :k", Names: map[string]string{"#k": "kind"}, Values: store.Item{":k": store.S("wanted")}}
	cases := []struct {
		name  string
		q     store.Query
		pages []int // items on each page; only the last has no cursor
	}{
		{"one item, limit 1", store.Query{PK: store.TenantPK("one"), SKPrefix: "ITEM#", Limit: 1}, []int{1}},
		{"four items, limit 2", store.Query{PK: store.TenantPK("four"), SKPrefix: "ITEM#", Limit: 2}, []int{2, 2}},
		{"four items, limit 4", store.Query{PK: store.TenantPK("four"), SKPrefix: "ITEM#", Limit: 4}, []int{4}},
		{"four items, newest first, limit 3", store.Query{PK: store.TenantPK("four"), SKPrefix: "ITEM#", Limit: 3, Reverse: true}, []int{3, 1}},
		{"filtered, limit 1", store.Query{PK: store.TenantPK("mixed"), SKPrefix: "ITEM#", Limit: 1, Filter: wanted}, []int{1, 1}},
		{"filtered, limit 2", store.Query{PK: store.TenantPK("mixed"), SKPrefix: "ITEM#", Limit: 2, Filter: wanted}, []int{2}},
		{"gsi1, limit 10", store.Query{Index: store.IndexGSI1, PK: "DUE#test", Limit: 10}, []int{10, 10, 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got []int
			seen := map[string]bool{}
			for q := c.q; len(got) <= len(c.pages); {
				p, err := f.Store.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, len(p.Items))
				for _, it := range p.Items {
					sk := store.GetS(it, store.AttrSK)
					if seen[sk] {
						t.Fatalf("%s is on two pages", sk)
					}
					seen[sk] = true
				}
				if p.Cursor == "" {
					break
				}
				q.Cursor = p.Cursor
			}
			if fmt.Sprint(got) != fmt.Sprint(c.pages) {
				t.Fatalf("pages of %v items, want %v (a cursor after the last page leads to an empty one)", got, c.pages)
			}
		})
	}
}
