package store_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// BenchmarkListConnections is GET /connections through the real handler,
// connection service and store on DynamoDB Local, for a tenant with ten
// connections whose sealed credentials are 2 KB each (issue 16: the list
// used to read and decode every one of them).
func BenchmarkListConnections(b *testing.B) {
	f := dynamotest.New(b)
	ctx := context.Background()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	repo := f.Store.Connections()
	for i := range 10 {
		p := platform.ID(fmt.Sprintf("platform%02d", i))
		c := fullConnection(b, "t1", p, now)
		if err := repo.Save(ctx, c, ""); err != nil {
			b.Fatal(err)
		}
	}
	api := httpapi.New(httpapi.Config{}, httpapi.Services{Connections: connection.New(connection.Config{Repo: repo, Vault: testVault(b)})})
	ev := apitest.Event(http.MethodGet, "/connections", apitest.As("t1", "u1"))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := api.Handle(ctx, ev)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %v %s", resp.StatusCode, err, resp.Body)
		}
	}
}
