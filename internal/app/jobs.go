package app

import (
	"context"
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
	// NotBuilt is true while the function's capability does not exist yet.
	NotBuilt bool `json:"notBuilt,omitempty"`
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
	return func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error) {
		d.Logger.Warn("scheduled run: capability not built yet", slog.String("event_id", ev.ID))
		return RunReport{Function: function, NotBuilt: true}, nil
	}, nil
}

// Worker builds deploy-worker.
func Worker(ctx context.Context, opt Options) (StreamHandler, error) {
	d, err := NewDeps(ctx, DeployWorker, opt)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		// Until deployments exist, every record is reported as failed so that
		// the stream keeps it: nothing accepted is ever dropped.
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
		d.Logger.Warn("deploy worker: capability not built yet", slog.Int("records", len(ev.Records)))
		return resp, nil
	}, nil
}
