package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

// A handler honours the invocation's deadline: with DynamoDB answering
// slower than the time left, the function answers a 503 problem before
// Lambda would kill it, instead of hanging until then.
func TestHandlersAnswerBeforeTheInvocationDeadline(t *testing.T) {
	t.Parallel()
	f := newTCPFaults(t)
	ddb := f.proxy(t, "ddb-slow", hostPort(t, dynamoEndpoint(t)))
	w := newWorld(t, "http://"+ddb.Listen, nil)
	poison(t, ddb, "slow", "latency", `{"latency":4000}`)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := w.handlers[app.Connections].Handle(ctx, apitest.Event("GET", "/connections", apitest.As("t1", "u")))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if code, problem := statusOf(t, resp); code != 503 || problem != "storage_timeout" {
		t.Fatalf("got %d %s, want 503 storage_timeout", code, problem)
	}
	if took > 2500*time.Millisecond {
		t.Fatalf("answered after %s, past the 1.5 s deadline", took)
	}
}
