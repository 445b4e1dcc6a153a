package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// livestreamService builds the livestreams capability: the connection
// service for tokens, the vault for stream keys, and the four broadcasters
// over their configured endpoints.
func (d *Deps) livestreamService(ctx context.Context) (*livestream.Service, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return nil, err
	}
	v, err := d.vault(ctx)
	if err != nil {
		return nil, err
	}
	clients := d.clients()
	return livestream.New(livestream.Config{
		Repo:   d.Store.Livestreams(),
		Tokens: conns,
		Vault:  v,
		Broadcasters: map[platform.ID]platform.Broadcaster{
			platform.YouTube: clients.youtube, platform.Facebook: clients.facebook,
			platform.Instagram: clients.instagram, platform.Restream: clients.restream,
		},
		Logger: d.Logger,
	}), nil
}

// livestreamRoutes wires the livestream service into the livestreams
// function.
func (d *Deps) livestreamRoutes(ctx context.Context, svc *httpapi.Services) error {
	ls, err := d.livestreamService(ctx)
	if err != nil {
		return err
	}
	svc.Livestreams = ls
	return nil
}

// streamScheduler builds stream-scheduler's handler: each run starts, ends
// and retries what is due, STREAM_SCHEDULER_CONCURRENCY livestreams at a
// time (8 by default).
//
// A run acts for the minute EventBridge scheduled it (the event's time), or
// for now when that is later: a late invocation does what is due by now,
// and a run driven with a scheduled event's time (tests, `make invoke`)
// acts as the schedule would at that time.
func (d *Deps) streamScheduler(ctx context.Context) (ScheduledHandler, error) {
	svc, err := d.livestreamService(ctx)
	if err != nil {
		return nil, err
	}
	concurrency := d.Config.StreamSchedulerConcurrency
	return func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error) {
		at := time.Now()
		if ev.Time.After(at) {
			at = ev.Time
		}
		rep, err := svc.RunDue(ctx, at, concurrency)
		out := RunReport{Function: StreamSched, Found: rep.Found, Done: rep.Done, Failed: rep.Failed, Skipped: rep.Skipped}
		attrs := []any{slog.String("event_id", ev.ID), slog.Time("at", at.UTC()), slog.Int("found", rep.Found),
			slog.Int("done", rep.Done), slog.Int("failed", rep.Failed), slog.Int("skipped", rep.Skipped),
			slog.Int("contended", rep.Contended)}
		if err != nil {
			d.Logger.Error("stream scheduler run failed", append(attrs, slog.String("error", err.Error()))...)
			return out, err
		}
		d.Logger.Info("stream scheduler run", attrs...)
		return out, nil
	}, nil
}
