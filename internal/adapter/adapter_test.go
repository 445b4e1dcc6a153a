package adapter_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/adapter"
)

func TestScheduleRunsEveryJobAddsTheirReportsAndJoinsTheirErrors(t *testing.T) {
	t.Parallel()
	first := errors.New("first failed")
	var ran []string
	job := func(name string, rep adapter.RunReport, err error) adapter.Job {
		return func(context.Context, adapter.Tick) (adapter.RunReport, error) {
			ran = append(ran, name)
			return rep, err
		}
	}
	run := adapter.Schedule("token-refresher",
		job("refresh", adapter.RunReport{Found: 3, Done: 1, Failed: 1, Skipped: 1, Unchanged: 1}, first),
		job("sweep", adapter.RunReport{Found: 2, Done: 2}, nil))
	rep, err := run(context.Background(), events.EventBridgeEvent{ID: "e1"})
	if !errors.Is(err, first) {
		t.Fatalf("error %v, want the first job's", err)
	}
	want := adapter.RunReport{Function: "token-refresher", Found: 5, Done: 3, Failed: 1, Skipped: 1, Unchanged: 1}
	if rep != want || !slices.Equal(ran, []string{"refresh", "sweep"}) {
		t.Fatalf("report %+v ran %v, want %+v after both jobs", rep, ran, want)
	}
}

func TestScheduleActsForTheEventsTimeOrNowWhenLater(t *testing.T) {
	t.Parallel()
	var got adapter.Tick
	run := adapter.Schedule("stream-scheduler", func(_ context.Context, tk adapter.Tick) (adapter.RunReport, error) {
		got = tk
		return adapter.RunReport{}, nil
	})
	future := time.Now().Add(time.Hour).Truncate(time.Minute)
	if _, err := run(context.Background(), events.EventBridgeEvent{ID: "e1", Time: future}); err != nil || !got.At.Equal(future) || got.EventID != "e1" {
		t.Fatalf("tick %+v %v, want the event's time %v", got, err, future)
	}
	before := time.Now()
	if _, err := run(context.Background(), events.EventBridgeEvent{ID: "e2", Time: before.Add(-time.Hour)}); err != nil || got.At.Before(before) {
		t.Fatalf("a late event acts for %v, want now (>= %v)", got.At, before)
	}
}

func TestStreamAcknowledgesWhatNamesNothingAndReportsOnlyFailedWork(t *testing.T) {
	t.Parallel()
	decode := func(r events.DynamoDBEventRecord) (string, bool) {
		v, ok := r.Change.Keys["id"]
		if !ok {
			return "", false
		}
		return v.String(), true
	}
	var mu sync.Mutex
	var worked []string
	work := func(_ context.Context, id string) error {
		mu.Lock()
		worked = append(worked, id)
		mu.Unlock()
		if id == "bad" {
			return errors.New("cannot record")
		}
		return nil
	}
	rec := func(seq, id string) events.DynamoDBEventRecord {
		keys := map[string]events.DynamoDBAttributeValue{}
		if id != "" {
			keys["id"] = events.NewStringAttribute(id)
		}
		return events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{SequenceNumber: seq, Keys: keys}}
	}
	h := adapter.Stream(slog.New(slog.NewTextHandler(io.Discard, nil)), decode, work)
	resp, err := h(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		rec("1", ""), rec("2", "good"), rec("3", "bad"),
	}})
	slices.Sort(worked)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "3" ||
		!slices.Equal(worked, []string{"bad", "good"}) {
		t.Fatalf("%+v %v worked %v, want only record 3 reported and record 1 skipped", resp, err, worked)
	}
}
