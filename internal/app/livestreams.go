package app

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// livestreamRoutes wires the livestream service into the livestreams
// function. (The livestreams capability is being built.)
func (d *Deps) livestreamRoutes(ctx context.Context, svc *httpapi.Services) error {
	return nil
}

// streamScheduler builds stream-scheduler's handler.
func (d *Deps) streamScheduler(ctx context.Context) (ScheduledHandler, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error) {
		d.Logger.Warn("scheduled run: capability not built yet", slog.String("event_id", ev.ID))
		return RunReport{Function: StreamSched, NotBuilt: true}, nil
	}, nil
}
