package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// opLog records the DynamoDB operations made with a context that carries
// it: what one decision cost, counted on the client itself.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

type opLogKey struct{}

func (l *opLog) add(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
}

func (l *opLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ops...)
}

func withOpLog(ctx context.Context) (context.Context, *opLog) {
	l := &opLog{}
	return context.WithValue(ctx, opLogKey{}, l), l
}

// countingClient adds a middleware that logs every operation, once per
// call (retries inside the SDK are below it).
func countingClient(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countOps",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if l, ok := ctx.Value(opLogKey{}).(*opLog); ok {
					l.add(awsmiddleware.GetOperationName(ctx))
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// decide runs one rate-limited acceptance the way the deployments
// service does: one read, then one transaction that commits the window
// and writes a marker item (the deployment, there), retried when
// contended.
func decide(ctx context.Context, s *store.Store, taker ratelimit.Taker, tenant, user, marker string) (ratelimit.Decision, error) {
	load := func(ctx context.Context) (ratelimit.State, error) {
		return s.LoadWindow(ctx, tenant, "deployments", user)
	}
	commit := func(ctx context.Context, st ratelimit.State, d ratelimit.Decision) error {
		return s.CommitWindow(ctx, tenant, "deployments", user, st, d, taker.Window.Period, store.TxWrite{
			Put:  store.Item{store.AttrPK: store.S(store.TenantPK(tenant)), store.AttrSK: store.S("MARK#" + marker), "type": store.S("mark")},
			Cond: store.NotExists(),
		})
	}
	first, err := load(ctx)
	if err != nil {
		return ratelimit.Decision{}, err
	}
	return taker.Take(ctx, first, load, commit)
}

func TestWindowAcceptsExactlyTheLimitOfFiftyConcurrentDecisionsWithTwoOperationsEach(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t, countingClient)
	now := time.Now().UTC()
	taker := ratelimit.Taker{Window: ratelimit.Window{Limit: 10, Period: time.Hour}, Now: func() time.Time { return now }}
	type result struct {
		d   ratelimit.Decision
		ops []string
		err error
	}
	results := make([]result, 50)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			ctx, log := withOpLog(context.Background())
			d, err := decide(ctx, f.Store, taker, "acme", "user-1", fmt.Sprint(i))
			results[i] = result{d, log.list(), err}
		})
	}
	wg.Wait()
	accepted, maxOps, maxAttempts := 0, 0, 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("decision %d: %v", i, r.err)
		}
		if r.d.Allowed {
			accepted++
		}
		// Each attempt is one read and at most one transaction: the
		// operations go read, (transaction, read)*, and a transaction only
		// when it accepted.
		attempts := 0
		for j, op := range r.ops {
			switch {
			case op == "GetItem" && (j == 0 || r.ops[j-1] == "TransactWriteItems"):
				attempts++
			case op == "TransactWriteItems" && j > 0 && r.ops[j-1] == "GetItem":
			default:
				t.Fatalf("decision %d made %v", i, r.ops)
			}
		}
		if len(r.ops) > 2*attempts || (r.d.Allowed && r.ops[len(r.ops)-1] != "TransactWriteItems") {
			t.Fatalf("decision %d: %d attempts made %v", i, attempts, r.ops)
		}
		maxAttempts = max(maxAttempts, attempts)
		maxOps = max(maxOps, len(r.ops))
	}
	if accepted != 10 {
		t.Fatalf("%d of 50 concurrent decisions accepted, want exactly 10", accepted)
	}
	st, err := f.Store.LoadWindow(context.Background(), "acme", "deployments", "user-1")
	if err != nil || len(st.Times) != 10 {
		t.Fatalf("stored window %+v, %v", st, err)
	}
	page, err := f.Store.Query(context.Background(), store.Query{PK: store.TenantPK("acme"), SKPrefix: "MARK#", Limit: 100})
	if err != nil || len(page.Items) != 10 {
		t.Fatalf("%d items written with the acceptances, want 10 (err %v)", len(page.Items), err)
	}
	t.Logf("50 concurrent decisions: 10 accepted; the most attempts one needed: %d (%d operations)", maxAttempts, maxOps)
}

func TestAnUncontendedDecisionCostsTwoOperationsAndARefusalOne(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t, countingClient)
	now := time.Now().UTC().Truncate(time.Millisecond) // the store keeps milliseconds
	taker := ratelimit.Taker{Window: ratelimit.Window{Limit: 1, Period: time.Hour}, Now: func() time.Time { return now }}
	ctx, log := withOpLog(context.Background())
	if d, err := decide(ctx, f.Store, taker, "acme", "u", "a"); err != nil || !d.Allowed {
		t.Fatalf("first: %+v %v", d, err)
	}
	if got := log.list(); len(got) != 2 || got[0] != "GetItem" || got[1] != "TransactWriteItems" {
		t.Fatalf("an acceptance made %v", got)
	}
	ctx, log = withOpLog(context.Background())
	d, err := decide(ctx, f.Store, taker, "acme", "u", "b")
	if err != nil || d.Allowed || d.RetryAfter != time.Hour {
		t.Fatalf("second: %+v %v", d, err)
	}
	if got := log.list(); len(got) != 1 || got[0] != "GetItem" {
		t.Fatalf("a refusal made %v", got)
	}
}

func TestWindowIgnoresExpiredInstantsATTLHasNotRemovedAndSetsItsOwnTTL(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := ratelimit.Window{Limit: 2, Period: time.Hour}
	// Two acceptances from yesterday and the day before, with a TTL long
	// past that DynamoDB has not acted on.
	old := ratelimit.Decision{Allowed: true, Times: []time.Time{now.Add(-49 * time.Hour), now.Add(-25 * time.Hour)}, At: now.Add(-25 * time.Hour)}
	if err := f.Store.CommitWindow(ctx, "acme", "deployments", "u", ratelimit.State{}, old, time.Hour); err != nil {
		t.Fatal(err)
	}
	st, err := f.Store.LoadWindow(ctx, "acme", "deployments", "u")
	if err != nil || len(st.Times) != 2 || st.Version != 1 {
		t.Fatalf("loaded %+v %v", st, err)
	}
	d := w.Decide(st, now)
	if !d.Allowed || d.Remaining != 1 || len(d.Times) != 1 {
		t.Fatalf("expired instants counted: %+v", d)
	}
	if err := f.Store.CommitWindow(ctx, "acme", "deployments", "u", st, d, time.Hour); err != nil {
		t.Fatal(err)
	}
	it, err := f.Store.Get(ctx, store.TenantPK("acme"), "RATE#deployments#u")
	if err != nil {
		t.Fatal(err)
	}
	if ttl := store.GetN(it, store.AttrTTL); ttl != now.Add(time.Hour).Unix()+1 || store.GetN(it, store.AttrVersion) != 2 {
		t.Fatalf("ttl %d version %d, want %d and 2", ttl, store.GetN(it, store.AttrVersion), now.Add(time.Hour).Unix()+1)
	}
	// A commit from the version before is contended and changes nothing.
	if err := f.Store.CommitWindow(ctx, "acme", "deployments", "u", st, d, time.Hour); !isContended(err) {
		t.Fatalf("stale commit: %v", err)
	}
}

func isContended(err error) bool { return errors.Is(err, ratelimit.ErrContended) }
