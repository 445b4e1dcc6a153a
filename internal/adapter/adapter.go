// Package adapter turns Lambda's events into calls of Switchboard's
// capabilities and their results into what Lambda expects back: Schedule
// for an EventBridge schedule, Stream for a DynamoDB stream. (The HTTP
// adapter, from API Gateway's events to routes, is httpapi.API.Handle.)
// It knows Lambda's event shapes and nothing of the capabilities: each
// functions/<name>/main.go hands it the work its capability builds.
package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// StreamInOrder serves a DynamoDB stream whose records must be worked in
// order, as one batch: work gets what decode read from each record (a
// record it cannot read is acknowledged) and answers the index of the
// first it could not do (-1: none). That record and every one after it
// are reported, so Lambda delivers them again, in order.
func StreamInOrder[K any](log *slog.Logger, decode func(events.DynamoDBEventRecord) (K, bool), work func(context.Context, []K) int) StreamHandler {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var (
			resp events.DynamoDBEventResponse
			keys []K
			seqs []string
		)
		for _, rec := range ev.Records {
			k, ok := decode(rec)
			if !ok {
				continue
			}
			keys, seqs = append(keys, k), append(seqs, rec.Change.SequenceNumber)
		}
		if len(keys) == 0 {
			return resp, nil
		}
		if failed := work(ctx, keys); failed >= 0 && failed < len(keys) {
			log.Warn("stream records not done; reported for delivery again", slog.Int("from", failed), slog.Int("records", len(keys)-failed))
			for _, seq := range seqs[failed:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: seq})
			}
		}
		return resp, nil
	}
}

// StreamOrScheduleHandler serves a function with two triggers: a DynamoDB
// stream and an EventBridge schedule. It answers the stream's batch
// response, or the schedule's report.
type StreamOrScheduleHandler func(ctx context.Context, raw json.RawMessage) (any, error)

// StreamOrSchedule tells the two triggers' events apart by their shape: a
// stream event has Records, a schedule's event has source aws.events (or
// aws.scheduler) and detail-type "Scheduled Event".
func StreamOrSchedule(stream StreamHandler, schedule ScheduleHandler) StreamOrScheduleHandler {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Records    json.RawMessage `json:"Records"`
			DetailType string          `json:"detail-type"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("adapter: an event that is not JSON: %w", err)
		}
		switch {
		case len(probe.Records) > 0:
			var ev events.DynamoDBEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("adapter: a stream event that does not decode: %w", err)
			}
			return stream(ctx, ev)
		case probe.DetailType != "":
			var ev events.EventBridgeEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, fmt.Errorf("adapter: a schedule event that does not decode: %w", err)
			}
			return schedule(ctx, ev)
		}
		return nil, errors.New("adapter: an event of neither the stream nor the schedule")
	}
}
