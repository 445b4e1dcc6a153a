package app

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// deploymentRoutes wires the deployment service into the deployments
// function. (The deployments capability is being built.)
func (d *Deps) deploymentRoutes(ctx context.Context, svc *httpapi.Services) error {
	return nil
}

// deployWorker builds deploy-worker's handler.
func (d *Deps) deployWorker(ctx context.Context) (StreamHandler, error) {
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
