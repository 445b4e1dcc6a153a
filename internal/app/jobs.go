package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// RunReport is what a scheduled function answers: how much it did. Lambda
// logs it; tests and the local gateway read it.
type RunReport struct {
	Function string `json:"function"`
	Found    int    `json:"found"`
	Done     int    `json:"done"`
	Failed   int    `json:"failed"`
	Skipped  int    `json:"skipped,omitempty"` // left for the next run: time ran short
	// Unchanged were found due but needed nothing by the time they were
	// read (another run got there first); they are not counted as done.
	Unchanged int `json:"unchanged,omitempty"`
}

// ScheduledHandler serves an EventBridge schedule.
type ScheduledHandler func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error)

// StreamHandler serves a batch of DynamoDB stream records and reports the
// records that failed, so Lambda retries only those.
type StreamHandler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Scheduled builds stream-scheduler or token-refresher.
func Scheduled(ctx context.Context, function string, opt Options) (ScheduledHandler, error) {
	d, err := NewDeps(ctx, function, opt)
	if err != nil {
		return nil, err
	}
	switch function {
	case TokenRefresher:
		conns, err := d.connectionService(ctx)
		if err != nil {
			return nil, err
		}
		concurrency := d.Config.RefreshConcurrency
		// The deployment sweep rides on this schedule: it finds deployments
		// whose worker died (within 10 minutes) without adding a query to
		// stream-scheduler's minute, which must cost one query when idle.
		sweep, err := d.sweepDeployments(ctx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error) {
			rep, err := conns.RefreshDue(ctx, concurrency)
			out := RunReport{Function: function, Found: rep.Found, Done: rep.Done, Failed: rep.Failed, Skipped: rep.Skipped, Unchanged: rep.Unchanged}
			d.Logger.Info("token refresher run", slog.String("event_id", ev.ID), slog.Int("found", rep.Found),
				slog.Int("done", rep.Done), slog.Int("failed", rep.Failed), slog.Int("skipped", rep.Skipped), slog.Int("unchanged", rep.Unchanged))
			srep, serr := sweep(ctx)
			out.Found, out.Done, out.Failed, out.Skipped = out.Found+srep.Found, out.Done+srep.Done, out.Failed+srep.Failed, out.Skipped+srep.Skipped
			return out, errors.Join(err, serr)
		}, nil
	case StreamSched:
		return d.streamScheduler(ctx)
	}
	return nil, fmt.Errorf("app: %q is not a scheduled function", function)
}

// Worker builds deploy-worker.
func Worker(ctx context.Context, opt Options) (StreamHandler, error) {
	d, err := NewDeps(ctx, DeployWorker, opt)
	if err != nil {
		return nil, err
	}
	return d.deployWorker(ctx)
}
