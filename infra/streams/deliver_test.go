package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// poller builds a Poller for deliver alone: no AWS clients are needed.
func poller(h Handler, mutate ...func(*Config)) *Poller {
	cfg := Config{Handler: h, BatchSize: 10, MaxAttempts: 3, RetryBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	return &Poller{cfg: cfg, log: slog.New(slog.DiscardHandler)}
}

func records(n int) []events.DynamoDBEventRecord {
	out := make([]events.DynamoDBEventRecord, n)
	for i := range out {
		out[i] = events.DynamoDBEventRecord{EventID: fmt.Sprint("e", i), EventName: "INSERT",
			Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprintf("%03d", i+100)}}
	}
	return out
}

func seqs(ev events.DynamoDBEvent) []string {
	var s []string
	for _, r := range ev.Records {
		s = append(s, r.Change.SequenceNumber)
	}
	return s
}

func TestBatchesHoldAtMostBatchSizeRecordsInOrder(t *testing.T) {
	t.Parallel()
	var got [][]string
	p := poller(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got = append(got, seqs(ev))
		return events.DynamoDBEventResponse{}, nil
	})
	p.deliver(context.Background(), records(23))
	if len(got) != 3 || len(got[0]) != 10 || len(got[1]) != 10 || len(got[2]) != 3 || got[0][0] != "100" || got[2][2] != "122" {
		t.Fatalf("batches %v", got)
	}
}

func TestRetryStartsAtTheFirstFailedRecordAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	var got [][]string
	p := poller(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got = append(got, seqs(ev))
		if len(got) == 1 { // the first time, 104 and 102 fail
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
				{ItemIdentifier: "104"}, {ItemIdentifier: "102"},
			}}, nil
		}
		return events.DynamoDBEventResponse{}, nil
	})
	p.deliver(context.Background(), records(6))
	want := [][]string{{"100", "101", "102", "103", "104", "105"}, {"102", "103", "104", "105"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
}

func TestAHandlerErrorOrAnUnknownIdentifierRetriesTheWholeBatch(t *testing.T) {
	t.Parallel()
	for name, fail := range map[string]func() (events.DynamoDBEventResponse, error){
		"error": func() (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, errors.New("boom")
		},
		"unknown identifier": func() (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "999"}}}, nil
		},
		"empty identifier": func() (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{}}}, nil
		},
		"panic": func() (events.DynamoDBEventResponse, error) { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got [][]string
			p := poller(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
				got = append(got, seqs(ev))
				if len(got) == 1 {
					return fail()
				}
				return events.DynamoDBEventResponse{}, nil
			})
			p.deliver(context.Background(), records(3))
			if len(got) != 2 || !slices.Equal(got[0], got[1]) {
				t.Fatalf("deliveries %v, want the whole batch twice", got)
			}
		})
	}
}

func TestRecordsAreDeadLetteredAfterMaxAttemptsAndTheShardMovesOn(t *testing.T) {
	t.Parallel()
	var got [][]string
	var dead []string
	p := poller(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got = append(got, seqs(ev))
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			if r.Change.SequenceNumber == "101" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: "101"})
			}
		}
		return resp, nil
	}, func(c *Config) {
		c.BatchSize = 2
		c.OnDeadLetter = func(rs []events.DynamoDBEventRecord, _ error) {
			for _, r := range rs {
				dead = append(dead, r.Change.SequenceNumber)
			}
		}
	})
	p.deliver(context.Background(), records(4))
	want := [][]string{{"100", "101"}, {"101"}, {"101"}, {"102", "103"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	if !slices.Equal(dead, []string{"101"}) {
		t.Fatalf("dead-lettered %v", dead)
	}
}

func TestRetriesBackOffExponentiallyUpToTheCap(t *testing.T) {
	t.Parallel()
	p := poller(nil, func(c *Config) { c.RetryBackoff = 100 * time.Millisecond; c.MaxBackoff = time.Second })
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, p.retryDelay(a))
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("%v", got)
	}
}

func TestStoppingDuringRetriesReturnsPromptly(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := poller(func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		calls++
		cancel()
		return events.DynamoDBEventResponse{}, errors.New("boom")
	}, func(c *Config) { c.RetryBackoff = time.Hour; c.MaxBackoff = time.Hour })
	done := make(chan struct{})
	go func() { p.deliver(ctx, records(3)); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deliver kept waiting after ctx ended")
	}
	if calls != 1 {
		t.Fatalf("%d calls", calls)
	}
}

func TestDeploymentInsertsAdmitsOnlyNewDeploymentItems(t *testing.T) {
	t.Parallel()
	rec := func(name string, img map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{NewImage: img}}
	}
	dep := map[string]events.DynamoDBAttributeValue{"type": events.NewStringAttribute("deployment")}
	cases := []struct {
		r    events.DynamoDBEventRecord
		want bool
	}{
		{rec("INSERT", dep), true},
		{rec("MODIFY", dep), false},
		{rec("REMOVE", nil), false},
		{rec("INSERT", map[string]events.DynamoDBAttributeValue{"type": events.NewStringAttribute("livestream")}), false},
		{rec("INSERT", map[string]events.DynamoDBAttributeValue{"type": events.NewNumberAttribute("1")}), false},
		{rec("INSERT", map[string]events.DynamoDBAttributeValue{}), false},
	}
	for i, c := range cases {
		if got := DeploymentInserts(c.r); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

func TestBisectSplitsABatchThatFailsAsAWholeUntilThePoisonIsAlone(t *testing.T) {
	t.Parallel()
	var got [][]string
	var dead []string
	p := poller(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got = append(got, seqs(ev))
		if slices.Contains(seqs(ev), "102") {
			return events.DynamoDBEventResponse{}, errors.New("poison")
		}
		return events.DynamoDBEventResponse{}, nil
	}, func(c *Config) {
		c.Bisect = true
		c.MaxAttempts = 2
		c.OnDeadLetter = func(rs []events.DynamoDBEventRecord, _ error) {
			for _, r := range rs {
				dead = append(dead, r.Change.SequenceNumber)
			}
		}
	})
	p.deliver(context.Background(), records(4))
	want := [][]string{
		{"100", "101", "102", "103"}, // fails: split
		{"100", "101"},               // fine
		{"102", "103"},               // fails: split
		{"102"}, {"102"},             // alone: retried, then dead-lettered
		{"103"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	if !slices.Equal(dead, []string{"102"}) {
		t.Fatalf("dead-lettered %v", dead)
	}
}
