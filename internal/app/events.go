package app

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/adapter"
	"github.com/switchboard-dev/switchboard/internal/event"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// webhookGuard is the SSRF guard of webhook URLs: loopback only where the
// configuration allows it (make dev).
func (d *Deps) webhookGuard() event.Guard {
	return event.Guard{AllowLoopback: d.Config.WebhooksAllowLoopback}
}

// WebhooksAPI builds the events capability's routes: the feed and the
// webhook endpoints.
func (d *Deps) WebhooksAPI(ctx context.Context) (*httpapi.API, error) {
	return d.keyedAPI(ctx, httpapi.FnWebhooks, func(ctx context.Context, svc *httpapi.Services) error {
		v, err := d.vault(ctx)
		if err != nil {
			return err
		}
		svc.Events = event.NewService(event.ServiceConfig{Repo: d.Store.Events(), Vault: v, Guard: d.webhookGuard(), Logger: d.Logger})
		return nil
	})
}

// EventDispatcher builds event-dispatcher's work, once per process: it
// derives events from the table's stream and delivers them.
func (d *Deps) EventDispatcher(ctx context.Context) (*event.Dispatcher, error) {
	v, err := d.vault(ctx)
	if err != nil {
		return nil, err
	}
	repo := d.Store.Events()
	return event.NewDispatcher(event.DispatcherConfig{
		Repo: repo, Lookup: repo, Vault: v, Sender: event.NewSender(d.webhookGuard()), Logger: d.Logger,
	}), nil
}

// EventStreamRun is event-dispatcher's stream half: each batch of records,
// in order, becomes events in the feed and deliveries, each tried once.
func (d *Deps) EventStreamRun(ctx context.Context) (StreamHandler, error) {
	disp, err := d.EventDispatcher(ctx)
	if err != nil {
		return nil, err
	}
	return d.eventStream(disp), nil
}

func (d *Deps) eventStream(disp *event.Dispatcher) StreamHandler {
	return adapter.StreamInOrder(d.Logger, store.ChangeFromStream, func(ctx context.Context, changes []event.Change) int {
		failed, _, _ := disp.Dispatch(ctx, changes)
		return failed
	})
}

// WebhookRetriesRun is event-dispatcher's scheduled half: every minute it
// tries the deliveries that are due again.
func (d *Deps) WebhookRetriesRun(ctx context.Context) (ScheduledHandler, error) {
	disp, err := d.EventDispatcher(ctx)
	if err != nil {
		return nil, err
	}
	return d.webhookRetries(disp), nil
}

func (d *Deps) webhookRetries(disp *event.Dispatcher) ScheduledHandler {
	return adapter.Schedule(EventDispatcher, func(ctx context.Context, t adapter.Tick) (RunReport, error) {
		return disp.RetryDue(ctx, t.At)
	})
}

// EventDispatcherRun is event-dispatcher's handler, as its main.go serves
// it: both halves over one dispatcher, told apart by the event's shape.
func (d *Deps) EventDispatcherRun(ctx context.Context) (adapter.StreamOrScheduleHandler, error) {
	disp, err := d.EventDispatcher(ctx)
	if err != nil {
		return nil, err
	}
	return adapter.StreamOrSchedule(d.eventStream(disp), d.webhookRetries(disp)), nil
}

// EventStream builds event-dispatcher's stream half by name, composed as
// its main.go composes it, for make dev and tests.
func EventStream(ctx context.Context, opt Options) (StreamHandler, error) {
	d, err := NewDeps(ctx, EventDispatcher, opt)
	if err != nil {
		return nil, err
	}
	return d.EventStreamRun(ctx)
}

// EventDispatcherHandler builds event-dispatcher by name, composed as its
// main.go composes it, for `make invoke` and tests.
func EventDispatcherHandler(ctx context.Context, opt Options) (adapter.StreamOrScheduleHandler, error) {
	d, err := NewDeps(ctx, EventDispatcher, opt)
	if err != nil {
		return nil, err
	}
	return d.EventDispatcherRun(ctx)
}
