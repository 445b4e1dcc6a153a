package streams_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// run starts a Poller on the fixture's table with h and stops it when the
// test ends (before the fixture drops the table).
func run(t *testing.T, f *dynamotest.Fixture, h streams.Handler, mutate ...func(*streams.Config)) {
	t.Helper()
	client := dynamodbstreams.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(f.Endpoint) })
	cfg := streams.Config{
		DB: f.DB, Streams: client, Table: f.Table, Handler: h, Filter: streams.DeploymentInserts,
		PollInterval: 100 * time.Millisecond, RetryBackoff: 50 * time.Millisecond,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := streams.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-p.Ready():
	case err := <-errc:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the poller was not ready within 30s")
	}
}

func put(t *testing.T, f *dynamotest.Fixture, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := f.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(f.Table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

func deployment(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": s("TENANT#t1"), "sk": s("DEPLOY#" + id), "type": s("deployment"), "status": s("queued"),
		"attempt": &ddbtypes.AttributeValueMemberN{Value: "1"},
		"env":     &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"SITE": s("Grace")}},
		"tags":    &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"files":   &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{s("index.html"), &ddbtypes.AttributeValueMemberBOOL{Value: true}}},
		"blob":    &ddbtypes.AttributeValueMemberB{Value: []byte{1, 2, 3}},
		"none":    &ddbtypes.AttributeValueMemberNULL{Value: true},
	}
}

// collector is a handler that records what it is given.
type collector struct {
	mu      sync.Mutex
	records []events.DynamoDBEventRecord
	batches int
	noLC    bool
	fail    func(r events.DynamoDBEventRecord, seen int) bool // fail r on its seen-th delivery
	seen    map[string]int
	arrived chan struct{}
}

func newCollector() *collector {
	return &collector{seen: map[string]int{}, arrived: make(chan struct{}, 100)}
}

func (c *collector) handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	_, hasLC := lambdacontext.FromContext(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	c.noLC = c.noLC || !hasLC
	var resp events.DynamoDBEventResponse
	for _, r := range ev.Records {
		c.records = append(c.records, r)
		sk := r.Change.Keys["sk"].String()
		c.seen[sk]++
		if c.fail != nil && c.fail(r, c.seen[sk]) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	c.arrived <- struct{}{}
	return resp, nil
}

func (c *collector) snapshot() ([]events.DynamoDBEventRecord, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]int{}
	for k, v := range c.seen {
		seen[k] = v
	}
	return append([]events.DynamoDBEventRecord(nil), c.records...), seen
}

// waitFor waits until cond holds, failing the test after a while.
func waitFor(t *testing.T, what string, c *collector, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-c.arrived:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestOnlyNewDeploymentItemsReachTheWorkerAsLambdaDeliversThem(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	c := newCollector()
	run(t, f, c.handle)

	// ApproximateCreationDateTime is rounded down to the minute (by DynamoDB
	// Local, as by DynamoDB Streams).
	before := time.Now().Add(-61 * time.Second)
	put(t, f, map[string]ddbtypes.AttributeValue{"pk": s("TENANT#t1"), "sk": s("LIVE#1"), "type": s("livestream")})
	put(t, f, deployment("1"))
	// A change to the deployment is a MODIFY: the filter keeps it out.
	if _, err := f.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:        aws.String(f.Table),
		Key:              map[string]ddbtypes.AttributeValue{"pk": s("TENANT#t1"), "sk": s("DEPLOY#1")},
		UpdateExpression: aws.String("SET #s = :s"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": s("building")},
	}); err != nil {
		t.Fatal(err)
	}
	// A marker written last: once it has arrived, everything before it has
	// been through the filter.
	put(t, f, deployment("marker"))
	waitFor(t, "the marker", c, func() bool { _, seen := c.snapshot(); return seen["DEPLOY#marker"] > 0 })

	recs, seen := c.snapshot()
	if len(recs) != 2 || seen["DEPLOY#1"] != 1 || seen["LIVE#1"] != 0 {
		t.Fatalf("the worker saw %v", seen)
	}
	desc, err := f.DB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(f.Table)})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	img := r.Change.NewImage
	checks := []struct {
		what      string
		got, want any
	}{
		{"eventName", r.EventName, "INSERT"},
		{"eventSource", r.EventSource, "aws:dynamodb"},
		{"awsRegion", r.AWSRegion, "us-east-1"},
		{"eventSourceARN", r.EventSourceArn, aws.ToString(desc.Table.LatestStreamArn)},
		{"streamViewType", r.Change.StreamViewType, "NEW_AND_OLD_IMAGES"},
		{"key pk", r.Change.Keys["pk"].String(), "TENANT#t1"},
		{"key sk", r.Change.Keys["sk"].String(), "DEPLOY#1"},
		{"keys are only the key", len(r.Change.Keys), 2},
		{"type", img["type"].String(), "deployment"},
		{"status as inserted", img["status"].String(), "queued"},
		{"number", img["attempt"].Number(), "1"},
		{"map", img["env"].Map()["SITE"].String(), "Grace"},
		{"string set", strings.Join(img["tags"].StringSet(), ","), "a,b"},
		{"list", img["files"].List()[0].String() + "," + map[bool]string{true: "true"}[img["files"].List()[1].Boolean()], "index.html,true"},
		{"binary", string(img["blob"].Binary()), "\x01\x02\x03"},
		{"null", img["none"].IsNull(), true},
		{"no old image", r.Change.OldImage == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %#v, want %#v", c.what, c.got, c.want)
		}
	}
	if r.EventID == "" || r.Change.SequenceNumber == "" || r.Change.SizeBytes <= 0 {
		t.Errorf("eventID %q sequenceNumber %q sizeBytes %d", r.EventID, r.Change.SequenceNumber, r.Change.SizeBytes)
	}
	if at := r.Change.ApproximateCreationDateTime.Time; at.Before(before) || at.After(time.Now().Add(2*time.Second)) {
		t.Errorf("approximateCreationDateTime %v is not about now", at)
	}
	if c.noLC {
		t.Error("an invocation had no LambdaContext")
	}
}

func TestARecordTheWorkerFailsIsDeliveredAgain(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	c := newCollector()
	c.fail = func(r events.DynamoDBEventRecord, seen int) bool {
		return r.Change.Keys["sk"].String() == "DEPLOY#flaky" && seen == 1
	}
	var mu sync.Mutex
	var dead []events.DynamoDBEventRecord
	run(t, f, c.handle, func(cfg *streams.Config) {
		cfg.OnDeadLetter = func(rs []events.DynamoDBEventRecord, _ error) { mu.Lock(); dead = append(dead, rs...); mu.Unlock() }
	})

	put(t, f, deployment("flaky"))
	put(t, f, deployment("after"))
	waitFor(t, "the retry", c, func() bool {
		_, seen := c.snapshot()
		return seen["DEPLOY#flaky"] >= 2 && seen["DEPLOY#after"] >= 1
	})
	time.Sleep(300 * time.Millisecond) // room for a wrong third delivery
	_, seen := c.snapshot()
	if seen["DEPLOY#flaky"] != 2 {
		t.Fatalf("the failed record was delivered %d times, want 2", seen["DEPLOY#flaky"])
	}
	// "after" follows the failed record: delivered again only if it was in
	// the failed batch (Lambda retries from the failure on), never more.
	if n := seen["DEPLOY#after"]; n < 1 || n > 2 {
		t.Fatalf("the next record was delivered %d times", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dead) != 0 {
		t.Fatalf("dead-lettered %d records", len(dead))
	}
}

func TestRecordsThatAlwaysFailAreDeadLetteredAndLaterOnesStillArrive(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	c := newCollector()
	c.fail = func(r events.DynamoDBEventRecord, _ int) bool { return r.Change.Keys["sk"].String() == "DEPLOY#poison" }
	deadc := make(chan []events.DynamoDBEventRecord, 10)
	run(t, f, c.handle, func(cfg *streams.Config) {
		cfg.MaxAttempts = 3
		cfg.OnDeadLetter = func(rs []events.DynamoDBEventRecord, _ error) { deadc <- rs }
	})
	put(t, f, deployment("poison"))
	var dead []events.DynamoDBEventRecord
	select {
	case dead = <-deadc:
	case <-time.After(20 * time.Second):
		t.Fatal("the poison record was never dead-lettered")
	}
	if len(dead) != 1 || dead[0].Change.Keys["sk"].String() != "DEPLOY#poison" {
		t.Fatalf("dead-lettered %v", dead)
	}
	put(t, f, deployment("later"))
	waitFor(t, "the later record", c, func() bool { _, seen := c.snapshot(); return seen["DEPLOY#later"] == 1 })
	if _, seen := c.snapshot(); seen["DEPLOY#poison"] != 3 {
		t.Fatalf("the poison record was delivered %d times, want MaxAttempts (3)", seen["DEPLOY#poison"])
	}
}

func TestRunRefusesATableWithoutAStream(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	name := dynamotest.TableName()
	ctx := context.Background()
	_, err := f.DB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = f.DB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	p, err := streams.New(streams.Config{DB: f.DB, Streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1"}), Table: name,
		Handler: func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			return events.DynamoDBEventResponse{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err == nil || !strings.Contains(err.Error(), "no stream") {
		t.Fatalf("Run: %v", err)
	}
}
