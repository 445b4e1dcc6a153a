package gateway_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
)

func TestSchedulerFiresEachScheduleWithAScheduledEvent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][]events.EventBridgeEvent{}
	hadLambdaContext := true
	handler := func(fn string) app.ScheduledHandler {
		return func(ctx context.Context, ev events.EventBridgeEvent) (app.RunReport, error) {
			_, ok := lambdacontext.FromContext(ctx)
			mu.Lock()
			seen[fn] = append(seen[fn], ev)
			hadLambdaContext = hadLambdaContext && ok
			mu.Unlock()
			return app.RunReport{Function: fn, Found: 1, Done: 1}, nil
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan app.RunReport, 100)
	s := &gateway.Scheduler{
		FirstRun: 10 * time.Millisecond,
		Schedules: []gateway.Schedule{
			{Function: app.StreamSched, Every: 40 * time.Millisecond, Run: handler(app.StreamSched)},
			{Function: app.TokenRefresher, Every: 400 * time.Millisecond, Run: handler(app.TokenRefresher)},
			{Function: "never", Every: 0, Run: handler("never")},
		},
		OnRun: func(_ string, _ events.EventBridgeEvent, rep app.RunReport, err error) {
			if err == nil {
				reports <- rep
			}
		},
	}
	start := time.Now()
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	if n := len(seen[app.StreamSched]); n < 4 || n > 9 {
		t.Errorf("stream-scheduler ran %d times in 300ms at a 40ms rate", n)
	}
	if n := len(seen[app.TokenRefresher]); n != 1 {
		t.Errorf("token-refresher ran %d times, want only the first run", n)
	}
	if len(seen["never"]) != 0 {
		t.Error("a schedule without an interval ran")
	}
	if !hadLambdaContext {
		t.Error("a run had no LambdaContext")
	}
	ids := map[string]bool{}
	for fn, evs := range seen {
		for _, ev := range evs {
			if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Version != "0" ||
				ev.AccountID != gateway.DefaultAccountID || ev.Region != gateway.DefaultRegion ||
				len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:events:us-east-1:123456789012:rule/switchboard-"+fn ||
				string(ev.Detail) != "{}" {
				t.Errorf("%s: event %+v", fn, ev)
			}
			if ev.Time.Before(start.Truncate(time.Second)) || ev.Time.After(time.Now()) || ev.Time.Nanosecond() != 0 {
				t.Errorf("%s: time %v is not a tick", fn, ev.Time)
			}
			if ids[ev.ID] {
				t.Errorf("event id %s repeats", ev.ID)
			}
			ids[ev.ID] = true
		}
	}
	if len(reports) == 0 {
		t.Error("no run reported")
	}
}

func TestScheduledEventMarshalsAsEventBridgeSendsIt(t *testing.T) {
	t.Parallel()
	ev := gateway.ScheduledEvent(app.TokenRefresher, "us-east-1", "123456789012", time.Date(2026, 11, 29, 10, 0, 0, 123, time.UTC))
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m["detail-type"] != "Scheduled Event" || m["time"] != "2026-11-29T10:00:00Z" || m["account"] != "123456789012" {
		t.Fatalf("%s", raw)
	}
}
