package adapter_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/adapter"
)

func record(seq, key string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
		Keys: map[string]events.DynamoDBAttributeValue{"k": events.NewStringAttribute(key)}}}
}

// Work is given the readable records in order; the first it could not do
// and every readable record after it are reported, so Lambda delivers them
// again in order.
func TestStreamInOrderReportsTheFirstFailureAndEverythingAfterIt(t *testing.T) {
	t.Parallel()
	decode := func(r events.DynamoDBEventRecord) (string, bool) {
		k := r.Change.Keys["k"].String()
		return k, k != "unreadable"
	}
	var seen []string
	h := adapter.StreamInOrder(slog.New(slog.NewTextHandler(io.Discard, nil)), decode, func(_ context.Context, keys []string) int {
		seen = keys
		return slices.Index(keys, "b")
	})
	resp, err := h(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record("1", "a"), record("2", "unreadable"), record("3", "b"), record("4", "c")}})
	if err != nil || !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Fatalf("work saw %v: %v", seen, err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"3", "4"}) {
		t.Fatalf("reported %v, want 3 and 4", failed)
	}
}

func TestStreamOrScheduleTellsTheTriggersApartByTheEventsShape(t *testing.T) {
	t.Parallel()
	var got []string
	h := adapter.StreamOrSchedule(
		func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			got = append(got, "stream:"+ev.Records[0].Change.SequenceNumber)
			return events.DynamoDBEventResponse{}, nil
		},
		func(_ context.Context, ev events.EventBridgeEvent) (adapter.RunReport, error) {
			got = append(got, "schedule:"+ev.ID)
			return adapter.RunReport{Function: "event-dispatcher"}, nil
		})
	for _, raw := range []string{
		`{"Records":[{"eventID":"e","eventName":"MODIFY","dynamodb":{"SequenceNumber":"42"}}]}`,
		`{"id":"tick-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-06T10:00:00Z"}`,
	} {
		if _, err := h(context.Background(), json.RawMessage(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h(context.Background(), json.RawMessage(`{"hello":"world"}`)); err == nil {
		t.Fatal("an event of neither kind was served")
	}
	if !slices.Equal(got, []string{"stream:42", "schedule:tick-1"}) {
		t.Fatalf("served %v", got)
	}
}
