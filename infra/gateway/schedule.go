package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// Schedule is one EventBridge rate schedule: run Function every Every.
type Schedule struct {
	Function string
	Every    time.Duration // zero or less: never
	Run      app.ScheduledHandler
	Timeout  time.Duration // the function's timeout; Scheduler.Timeout when zero
}

// DefaultFirstRun is how long after start each schedule first fires.
const DefaultFirstRun = 2 * time.Second

// Scheduler plays EventBridge's rate schedules locally: each schedule fires
// FirstRun after Run starts, then every Every, with the "Scheduled Event"
// EventBridge sends (source aws.events, time = the tick, the rule's ARN in
// resources). A run that outlasts its interval delays the next tick rather
// than overlapping it (EventBridge would start another invocation; the
// functions must tolerate that anyway, and local logs stay readable).
type Scheduler struct {
	Schedules []Schedule
	FirstRun  time.Duration // DefaultFirstRun when zero
	// Timeout bounds each run of a schedule without its own, like the
	// function's Lambda timeout; the schedule's interval (at most 15
	// minutes) when zero.
	Timeout   time.Duration
	AccountID string // DefaultAccountID when empty
	Region    string // DefaultRegion when empty
	Logger    *slog.Logger
	// OnRun, when set, sees each run's outcome (tests use it).
	OnRun func(fn string, ev events.EventBridgeEvent, rep app.RunReport, err error)
}

// Run fires the schedules until ctx ends, then waits for runs in flight.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sc := range s.Schedules {
		if sc.Every <= 0 || sc.Run == nil {
			continue
		}
		wg.Go(func() { s.loop(ctx, sc) })
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, sc Schedule) {
	first := s.FirstRun
	if first <= 0 {
		first = DefaultFirstRun
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	// Each tick fires on its own, as EventBridge invokes a function each
	// time whether or not the last run has ended: a run may outlast the
	// rate (stream-scheduler waits for what is due up to 90 s ahead).
	var runs sync.WaitGroup
	defer runs.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case tick := <-timer.C:
			runs.Go(func() { s.fire(ctx, sc, tick) })
			timer.Reset(max(0, time.Until(tick.Add(sc.Every))))
		}
	}
}

// ScheduledEvent is the event EventBridge sends for a rate rule firing at t.
func ScheduledEvent(function, region, account string, t time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         NewUUID(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  account,
		Time:       t.UTC().Truncate(time.Second),
		Region:     region,
		Resources:  []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s%s", region, account, FunctionPrefix, function)},
		Detail:     json.RawMessage(`{}`),
	}
}

func (s *Scheduler) fire(ctx context.Context, sc Schedule, tick time.Time) {
	account, region := s.AccountID, s.Region
	if account == "" {
		account = DefaultAccountID
	}
	if region == "" {
		region = DefaultRegion
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeout := sc.Timeout
	if timeout <= 0 {
		timeout = s.Timeout
	}
	if timeout <= 0 {
		timeout = min(sc.Every, 15*time.Minute)
	}
	ev := ScheduledEvent(sc.Function, region, account, tick)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rctx = lambdacontext.NewContext(rctx, &lambdacontext.LambdaContext{
		AwsRequestID:       NewUUID(),
		InvokedFunctionArn: FunctionARN(region, account, sc.Function),
	})
	start := time.Now()
	rep, err := func() (rep app.RunReport, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler panicked: %v", p)
			}
		}()
		return sc.Run(rctx, ev)
	}()
	attrs := []any{slog.String("function", sc.Function), slog.String("event_id", ev.ID),
		slog.Time("tick", ev.Time), slog.Int64("duration_ms", time.Since(start).Milliseconds())}
	if err != nil {
		log.Error("scheduled run failed", append(attrs, slog.String("error", err.Error()))...)
	} else {
		log.Info("scheduled run", append(attrs, slog.Int("found", rep.Found), slog.Int("done", rep.Done),
			slog.Int("failed", rep.Failed))...)
	}
	if s.OnRun != nil {
		s.OnRun(sc.Function, ev, rep, err)
	}
}
