package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

func TestIdempotencyKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	k := f.Store.Idempotency()
	ctx := context.Background()
	now := time.Now()
	code := func(err error) string {
		if e, ok := apperr.As(err); ok {
			return string(e.Code)
		}
		return ""
	}
	if r, err := k.Begin(ctx, "t1", "createLivestream", "key-1", "hash-a", now); r != nil || err != nil {
		t.Fatalf("new key: %v %v", r, err)
	}
	if _, err := k.Begin(ctx, "t1", "createLivestream", "key-1", "hash-a", now.Add(time.Second)); code(err) != "idempotency_in_progress" {
		t.Fatalf("while pending: %v", err)
	}
	if _, err := k.Begin(ctx, "t1", "createLivestream", "key-1", "hash-b", now); code(err) != "idempotency_key_reused" {
		t.Fatalf("other body: %v", err)
	}
	want := idempotency.Response{Status: 201, Body: `{"id":"ls-1"}`, Headers: map[string]string{"Content-Type": "application/json"}}
	if err := k.Finish(ctx, "t1", "createLivestream", "key-1", want, now); err != nil {
		t.Fatal(err)
	}
	got, err := k.Begin(ctx, "t1", "createLivestream", "key-1", "hash-a", now.Add(time.Hour))
	if err != nil || got == nil || got.Status != 201 || got.Body != want.Body || got.Headers["Content-Type"] != "application/json" {
		t.Fatalf("replay: %+v %v", got, err)
	}
	// Another tenant with the same key is another key.
	if r, err := k.Begin(ctx, "t2", "createLivestream", "key-1", "hash-a", now); r != nil || err != nil {
		t.Fatalf("another tenant: %v %v", r, err)
	}
	// After 24 hours the key is new again, even if TTL has not deleted it.
	if r, err := k.Begin(ctx, "t1", "createLivestream", "key-1", "hash-c", now.Add(25*time.Hour)); r != nil || err != nil {
		t.Fatalf("after the TTL: %v %v", r, err)
	}
}

func TestAbandonedOrStuckKeysCanBeRetried(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	k := f.Store.Idempotency()
	ctx := context.Background()
	now := time.Now()
	_, _ = k.Begin(ctx, "t1", "op", "k", "h", now)
	if err := k.Abandon(ctx, "t1", "op", "k"); err != nil {
		t.Fatal(err)
	}
	if r, err := k.Begin(ctx, "t1", "op", "k", "h", now); r != nil || err != nil {
		t.Fatalf("after abandon: %v %v", r, err)
	}
	// A first request that died: after the pending timeout one retry takes over.
	later := now.Add(idempotency.PendingTimeout + time.Second)
	if r, err := k.Begin(ctx, "t1", "op", "k", "h", later); r != nil || err != nil {
		t.Fatalf("take over: %v %v", r, err)
	}
	if _, err := k.Begin(ctx, "t1", "op", "k", "h", later); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("a second retry must wait: %v", err)
	}
}
