package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/switchboard-dev/switchboard/internal/adapter"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// RunReport is what a scheduled function answers (adapter.RunReport).
type RunReport = adapter.RunReport

// ScheduledHandler serves an EventBridge schedule.
type ScheduledHandler = adapter.ScheduleHandler

// StreamHandler serves a batch of DynamoDB stream records.
type StreamHandler = adapter.StreamHandler

// Scheduled builds stream-scheduler or token-refresher by name, composed
// as functions/<name>/main.go composes it, for the local gateway, `make
// invoke` and tests (which run every function by its name).
func Scheduled(ctx context.Context, function string, opt Options) (ScheduledHandler, error) {
	d, err := NewDeps(ctx, function, opt)
	if err != nil {
		return nil, err
	}
	switch function {
	case TokenRefresher:
		refresh, err := d.RefreshDueCredentials(ctx)
		if err != nil {
			return nil, err
		}
		return adapter.Schedule(TokenRefresher, refresh, d.SweepDeployments()), nil
	case StreamSched:
		run, err := d.RunDueLivestreams(ctx)
		if err != nil {
			return nil, err
		}
		return adapter.Schedule(StreamSched, run), nil
	}
	return nil, fmt.Errorf("app: %q is not a scheduled function", function)
}

// RefreshDueCredentials builds the connections capability's scheduled
// work: refresh and re-verify the credentials that are due,
// Config.RefreshConcurrency at a time.
func (d *Deps) RefreshDueCredentials(ctx context.Context) (adapter.Job, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return nil, err
	}
	concurrency := d.Config.RefreshConcurrency
	return func(ctx context.Context, t adapter.Tick) (RunReport, error) {
		rep, err := conns.RefreshDue(ctx, concurrency)
		d.Logger.Info("token refresher run", slog.String("event_id", t.EventID), slog.Int("found", rep.Found),
			slog.Int("done", rep.Done), slog.Int("failed", rep.Failed), slog.Int("skipped", rep.Skipped), slog.Int("unchanged", rep.Unchanged))
		return rep, err
	}, nil
}

// Worker builds deploy-worker by name, composed as
// functions/deploy-worker/main.go composes it.
func Worker(ctx context.Context, opt Options) (StreamHandler, error) {
	d, err := NewDeps(ctx, DeployWorker, opt)
	if err != nil {
		return nil, err
	}
	run, err := d.RunDeployment(ctx)
	if err != nil {
		return nil, err
	}
	return adapter.Stream(d.Logger, store.DeploymentFromStream, run), nil
}
