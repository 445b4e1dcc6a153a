package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/adapter"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/run"
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
	return livestream.New(livestream.Config{
		Repo:         d.Store.Livestreams(),
		Ingests:      d.Store.Ingests(),
		Series:       d.Store.Series(),
		Tokens:       conns,
		Vault:        v,
		Broadcasters: ofKind[platform.Broadcaster](d.clients(), platform.KindLivestream),
		Logger:       d.Logger,
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

// RunDueLivestreams builds the livestreams capability's scheduled work:
// each run starts, ends and retries what is due at the tick's time,
// Config.StreamSchedulerConcurrency livestreams at a time.
func (d *Deps) RunDueLivestreams(ctx context.Context) (adapter.Job, error) {
	svc, err := d.livestreamService(ctx)
	if err != nil {
		return nil, err
	}
	concurrency := d.Config.StreamSchedulerConcurrency
	return func(ctx context.Context, t adapter.Tick) (RunReport, error) {
		rep, err := svc.RunDue(ctx, t.At, concurrency)
		out := RunReport{Found: rep.Found, Done: rep.Done, Failed: rep.Failed, Skipped: rep.Skipped}
		attrs := []any{slog.String("event_id", t.EventID), slog.Time("at", t.At.UTC()), slog.Int("found", rep.Found),
			slog.Int("done", rep.Done), slog.Int("failed", rep.Failed), slog.Int("skipped", rep.Skipped),
			slog.Int("contended", rep.Unchanged)}
		if err != nil {
			d.Logger.Error("stream scheduler run failed", append(attrs, slog.String("error", err.Error()))...)
			return out, err
		}
		d.Logger.Info("stream scheduler run", attrs...)
		return out, nil
	}, nil
}

// MakeDueOccurrences builds the recurring series' scheduled work: each run
// creates the occurrences of recurring livestreams, then of recurring
// meetings, that have come within their platforms' scheduling windows. It
// runs in token-refresher's 10-minute schedule, not stream-scheduler's:
// the windows are days long, and stream-scheduler's run with nothing due
// stays one query.
func (d *Deps) MakeDueOccurrences(ctx context.Context) (adapter.Job, error) {
	streams, err := d.livestreamService(ctx)
	if err != nil {
		return nil, err
	}
	meetings, err := d.meetingService(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, t adapter.Tick) (RunReport, error) {
		var total RunReport
		var errs []error
		for _, c := range []struct {
			kind string
			run  func(context.Context, time.Time) (run.Report, error)
		}{{"livestream", streams.RunDueSeries}, {"meeting", meetings.RunDueSeries}} {
			rep, err := c.run(ctx, t.At)
			attrs := []any{slog.String("event_id", t.EventID), slog.String("kind", c.kind), slog.Int("found", rep.Found),
				slog.Int("done", rep.Done), slog.Int("failed", rep.Failed)}
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
				errs = append(errs, err)
			}
			d.Logger.Info("recurring series run", attrs...)
			total.Found, total.Done, total.Failed = total.Found+rep.Found, total.Done+rep.Done, total.Failed+rep.Failed
		}
		return total, errors.Join(errs...)
	}, nil
}
