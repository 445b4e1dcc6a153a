package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func TestIdempotencyKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	k := f.Store.Idempotency(testVault(t))
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
	k := f.Store.Idempotency(testVault(t))
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

// testVault is a vault over a local key, for what the store seals.
func testVault(t testing.TB) *vault.Vault {
	t.Helper()
	kr, err := vault.NewLocalKeyring("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		t.Fatal(err)
	}
	return vault.New(kr)
}

// A kept answer is stored sealed: what it says is not in the item.
func TestKeptAnswersAreSealed(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	k := f.Store.Idempotency(testVault(t))
	ctx := context.Background()
	now := time.Now()
	if _, err := k.Begin(ctx, "t1", "createMeeting", "key-1", "hash-a", now); err != nil {
		t.Fatal(err)
	}
	secret := `{"joinUrl":"https://8x8.vc/app/room?jwt=eyJsecret"}`
	if err := k.Finish(ctx, "t1", "createMeeting", "key-1", idempotency.Response{Status: 201, Body: secret}, now); err != nil {
		t.Fatal(err)
	}
	out, err := f.DB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(f.Table)})
	if err != nil {
		t.Fatal(err)
	}
	if raw := fmt.Sprintf("%+v", out.Items); strings.Contains(raw, "eyJsecret") || len(out.Items) != 1 {
		t.Fatalf("the kept answer is stored in the clear: %s", raw)
	}
	if got, err := k.Begin(ctx, "t1", "createMeeting", "key-1", "hash-a", now); err != nil || got == nil || got.Body != secret {
		t.Fatalf("replay: %+v %v", got, err)
	}
}
