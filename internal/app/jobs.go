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
		return d.TokenRefresherRun(ctx)
	case StreamSched:
		return d.StreamSchedulerRun(ctx)
	case EventDispatcher:
		return d.WebhookRetriesRun(ctx)
	}
	return nil, fmt.Errorf("app: %q is not a scheduled function", function)
}

// TokenRefresherRun is token-refresher's run, as its main.go serves it:
// the due credentials first, then the deployment sweep, then the
// recurring livestreams' occurrences that have come within their window.
func (d *Deps) TokenRefresherRun(ctx context.Context) (ScheduledHandler, error) {
	refresh, err := d.RefreshDueCredentials(ctx)
	if err != nil {
		return nil, err
	}
	occurrences, err := d.MakeDueOccurrences(ctx)
	if err != nil {
		return nil, err
	}
	return adapter.Schedule(TokenRefresher, refresh, d.SweepDeployments(), occurrences), nil
}

// StreamSchedulerRun is stream-scheduler's run, as its main.go serves it:
// the livestreams that are due.
func (d *Deps) StreamSchedulerRun(ctx context.Context) (ScheduledHandler, error) {
	run, err := d.RunDueLivestreams(ctx)
	if err != nil {
		return nil, err
	}
	return adapter.Schedule(StreamSched, run), nil
}

// DeployWorkerRun is deploy-worker's handler, as its main.go serves it:
// each stream record names a deployment, which it runs to its end.
func (d *Deps) DeployWorkerRun(ctx context.Context) (StreamHandler, error) {
	run, err := d.RunDeployment(ctx)
	if err != nil {
		return nil, err
	}
	return adapter.Stream(d.Logger, store.DeploymentFromStream, run), nil
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
	return d.DeployWorkerRun(ctx)
}
