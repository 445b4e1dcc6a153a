package store_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/event"
)

// BenchmarkEventDispatch is one event-dispatcher invocation on a batch of
// 100 stream records (deployments that became ready) of 10 tenants (a
// shard's batch mixes tenants; each tenant's records are written in
// order, tenants at once), on DynamoDB Local:
// each record's event written to the feed with its deliveries in one
// transaction, then each delivery tried once against a loopback receiver.
// It reports events/s per invocation and DynamoDB calls per event, with no
// webhook endpoint (the feed alone) and with one and with three per tenant.
func BenchmarkEventDispatch(b *testing.B) {
	for _, endpoints := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("endpoints=%d", endpoints), func(b *testing.B) {
			f := dynamotest.New(b, countingClient) // counts each API call once (ratelimit_test.go)
			ctx := context.Background()
			v := testVault(b)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			defer recv.Close()
			guard := event.Guard{AllowLoopback: true}
			svc := event.NewService(event.ServiceConfig{Repo: f.Store.Events(), Vault: v, Guard: guard})
			const tenants = 10
			for tn := range tenants {
				for range endpoints {
					if _, err := svc.Create(ctx, fmt.Sprintf("t%d", tn), event.CreateInput{URL: recv.URL}); err != nil {
						b.Fatal(err)
					}
				}
			}
			disp := event.NewDispatcher(event.DispatcherConfig{Repo: f.Store.Events(), Lookup: f.Store.Events(), Vault: v, Sender: event.NewSender(guard)})
			const batch = 100
			now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
			var events, seq int
			ctx, calls := withOpLog(ctx)
			b.ResetTimer()
			for b.Loop() {
				changes := make([]event.Change, batch)
				for i := range changes {
					seq++
					id := fmt.Sprintf("dpl_%06d", seq)
					tenant := fmt.Sprintf("t%d", i%tenants)
					old := &deploy.Deployment{Tenant: tenant, ID: id, Platform: "vercel", ProjectName: "site", Status: deploy.StatusBuilding}
					cur := *old
					cur.Status, cur.URL = deploy.StatusReady, "https://site.vercel.app"
					changes[i] = event.Change{ID: fmt.Sprintf("rec-%d", seq), Tenant: tenant, At: now, Order: fmt.Sprintf("20261206T100000Z#%040d", seq), Old: old, New: &cur}
				}
				failed, st, err := disp.Dispatch(ctx, changes)
				if failed >= 0 || err != nil || st.Events != batch || st.Delivered != batch*endpoints {
					b.Fatalf("dispatch: failed at %d, %v, %+v", failed, err, st)
				}
				events += st.Events
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(batch/perOp, "events/s")
			b.ReportMetric(float64(len(calls.list()))/float64(events), "ddb-calls/event")
		})
	}
}
