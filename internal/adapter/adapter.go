// Package adapter turns Lambda's events into calls of Switchboard's
// capabilities and their results into what Lambda expects back: Schedule
// for an EventBridge schedule, Stream for a DynamoDB stream. (The HTTP
// adapter, from API Gateway's events to routes, is httpapi.API.Handle.)
// It knows Lambda's event shapes and nothing of the capabilities: each
// functions/<name>/main.go hands it the work its capability builds.
package adapter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/run"
)

// RunReport is what a scheduled function answers: how much it did (the
// one run.Report every scheduled job gives).
type RunReport = run.Report

// add counts o's work in r.
func add(r *RunReport, o RunReport) {
	r.Found += o.Found
	r.Done += o.Done
	r.Failed += o.Failed
	r.Skipped += o.Skipped
	r.Unchanged += o.Unchanged
}

// Tick is one run of a schedule.
type Tick struct {
	EventID string
	// At is the time the run acts for: the minute EventBridge scheduled
	// it (the event's time), or now when that is later. A late invocation
	// does what is due by now, and a run driven with a scheduled event's
	// time (tests, `make invoke`) acts as the schedule would at that time.
	At time.Time
}

// Job is one piece of scheduled work.
type Job func(ctx context.Context, t Tick) (RunReport, error)

// ScheduleHandler serves an EventBridge schedule.
type ScheduleHandler func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error)

// Schedule serves an EventBridge schedule with jobs, run one after another
// on each event: each runs even when one before it failed, and the answer
// adds up their reports and joins their errors.
func Schedule(function string, jobs ...Job) ScheduleHandler {
	return func(ctx context.Context, ev events.EventBridgeEvent) (RunReport, error) {
		t := Tick{EventID: ev.ID, At: time.Now()}
		if ev.Time.After(t.At) {
			t.At = ev.Time
		}
		out := RunReport{Function: function}
		var errs []error
		for _, job := range jobs {
			rep, err := job(ctx, t)
			add(&out, rep)
			errs = append(errs, err)
		}
		return out, errors.Join(errs...)
	}
}

// StreamHandler serves a batch of DynamoDB stream records and reports the
// records that failed, so Lambda retries only those.
type StreamHandler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Stream serves a DynamoDB stream: decode reads what a record names (the
// store knows the item's attributes); a record it cannot read is
// acknowledged, since it will never read better. The records of a batch
// run concurrently; a record whose work fails is reported, so that Lambda
// delivers it again.
func Stream[K any](log *slog.Logger, decode func(events.DynamoDBEventRecord) (K, bool), work func(context.Context, K) error) StreamHandler {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var (
			resp events.DynamoDBEventResponse
			mu   sync.Mutex
			wg   sync.WaitGroup
		)
		for _, rec := range ev.Records {
			k, ok := decode(rec)
			if !ok {
				log.Warn("stream record names nothing to do; acknowledged", slog.String("event_id", rec.EventID))
				continue
			}
			wg.Go(func() {
				if err := work(ctx, k); err != nil {
					mu.Lock()
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return resp, nil
	}
}
