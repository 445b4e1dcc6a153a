package ontime_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/ontime"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// BenchmarkThousandGoLivesDueInOneSecond: 1,000 livestreams due in the
// same second, YouTube answering in 150 ms, the scheduler at its default
// concurrency; every go-live request must be sent 0–5 s after the start.
//
//	go run ./infra/cmd/with-dynamodb -- go test -run '^$' -bench ThousandGoLives -benchtime 1x ./infra/bench/ontime/
func BenchmarkThousandGoLivesDueInOneSecond(b *testing.B) {
	fix := dynamotest.New(b)
	for b.Loop() {
		res, err := ontime.Measure(context.Background(), ontime.Options{
			Store: fix.Store, Vault: vaulttest.Local(b), Livestreams: 1000, PerTenant: 10,
			Latency: 150 * time.Millisecond, Concurrency: 200, ReadAhead: 10 * time.Second, Logf: b.Logf,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Percentile(0))/1e6, "min-late-ms")
		b.ReportMetric(float64(res.Percentile(50))/1e6, "p50-late-ms")
		b.ReportMetric(float64(res.Percentile(99))/1e6, "p99-late-ms")
		b.ReportMetric(float64(res.Percentile(100))/1e6, "max-late-ms")
		if !res.Within(5*time.Second) || res.Live != 1000 {
			b.Errorf("%d go-lives sent (%d live), from %s to %s after the start; want 1000, all within 0–5 s (run %+v)",
				len(res.Late), res.Live, res.Percentile(0), res.Percentile(100), res.Report)
		}
	}
}
