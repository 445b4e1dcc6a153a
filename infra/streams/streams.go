// Package streams plays Lambda's DynamoDB stream event source locally: it
// reads a table's stream (from DynamoDB Local in `make dev`), turns its
// records into events.DynamoDBEvent records exactly as Lambda delivers them,
// keeps only the records the event source's filter admits, and calls a
// handler with batches, retrying what the handler reports in
// BatchItemFailures.
//
// How it follows Lambda's event source mapping:
//
//   - Shards. DescribeTable gives the stream's ARN; DescribeStream, polled,
//     gives the shards. Shards open when Run starts are read from LATEST
//     (like a mapping created now with StartingPosition LATEST); shards that
//     appear later are read from TRIM_HORIZON, so nothing written after the
//     start is missed; a child shard waits until its parent is read to the
//     end, so a key's changes stay in order. Each shard is polled with
//     GetRecords about every PollInterval while it is idle.
//   - Filtering. Records the Filter refuses are dropped before batching and
//     count as processed, as with FilterCriteria.
//   - Batches. Up to BatchSize records of one shard, in order; one batch of
//     a shard at a time.
//   - Failures (FunctionResponseTypes: ReportBatchItemFailures). A handler
//     error, a panic or a BatchItemFailures entry that names no record of
//     the batch fails the whole batch; otherwise the batch is retried from
//     its first failed record (the lowest sequence number), records after it
//     included, as Lambda checkpoints at the first failure. With Bisect
//     (BisectBatchOnFunctionError), a batch of several records that fails as
//     a whole is split in two halves, delivered one after the other, without
//     counting as a retry. Retries back off exponentially; after MaxAttempts
//     deliveries (MaximumRetryAttempts + 1) the remaining records are logged
//     as dead-lettered (where Lambda would send them to the on-failure
//     destination) and the shard moves on.
//   - Not emulated: ParallelizationFactor (one batch of a shard at a time
//     here), MaximumRecordAgeInSeconds, tumbling windows.
package streams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// Handler is a stream function's Lambda handler.
type Handler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Filter says whether a record reaches the handler.
type Filter func(events.DynamoDBEventRecord) bool

// DeploymentInserts is the filter template.yaml gives deploy-worker's event
// source:
//
//	FilterCriteria:
//	  Filters:
//	    - Pattern: '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["deployment"]}}}}'
func DeploymentInserts(r events.DynamoDBEventRecord) bool {
	if r.EventName != "INSERT" {
		return false
	}
	t, ok := r.Change.NewImage["type"]
	return ok && t.DataType() == events.DataTypeString && t.String() == "deployment"
}

// EventItems is the filter template.yaml gives event-dispatcher's event
// source: every record (INSERT, MODIFY, REMOVE) of an item whose sort key
// begins with one of store.EventItemPrefixes:
//
//	FilterCriteria:
//	  Filters:
//	    - Pattern: '{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"CONN#"},...]}}}}'
func EventItems(r events.DynamoDBEventRecord) bool {
	sk, ok := r.Change.Keys["sk"]
	if !ok || sk.DataType() != events.DataTypeString {
		return false
	}
	for _, p := range store.EventItemPrefixes() {
		if strings.HasPrefix(sk.String(), p) {
			return true
		}
	}
	return false
}

// Defaults, in Lambda's terms where it has them.
const (
	DefaultBatchSize     = 10
	DefaultPollInterval  = 250 * time.Millisecond
	DefaultDiscoverEvery = time.Second
	DefaultMaxAttempts   = 4 // the first delivery and three retries
	DefaultRetryBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultTimeout       = 5 * time.Minute
)

// Config is what a Poller reads and whom it calls.
type Config struct {
	DB      *dynamodb.Client        // finds the stream (DescribeTable)
	Streams *dynamodbstreams.Client // reads it
	Table   string
	Handler Handler
	Filter  Filter // nil: every record

	Function    string // the handler's function name, for logs; "deploy-worker" when empty
	FunctionARN string // in the LambdaContext; empty when not set

	BatchSize     int           // DefaultBatchSize when zero
	PollInterval  time.Duration // DefaultPollInterval when zero
	DiscoverEvery time.Duration // how often DescribeStream looks for new shards; DefaultDiscoverEvery when zero
	MaxAttempts   int           // deliveries of a record before it is dead-lettered; DefaultMaxAttempts when zero
	Bisect        bool          // split a batch that fails as a whole (BisectBatchOnFunctionError)
	RetryBackoff  time.Duration // before the first retry, doubling; DefaultRetryBackoff when zero
	MaxBackoff    time.Duration // DefaultMaxBackoff when zero
	Timeout       time.Duration // each invocation's deadline; DefaultTimeout when zero

	Logger *slog.Logger
	// OnDeadLetter, when set, sees the records given up on and the last error
	// (nil when the handler reported them in BatchItemFailures).
	OnDeadLetter func(records []events.DynamoDBEventRecord, lastErr error)
}

// Poller delivers a table's stream to a handler.
type Poller struct {
	cfg    Config
	log    *slog.Logger
	region string
	ready  chan struct{}
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Poller, error) {
	if cfg.DB == nil || cfg.Streams == nil || cfg.Table == "" || cfg.Handler == nil {
		return nil, errors.New("streams: DB, Streams, Table and Handler are required")
	}
	if cfg.Function == "" {
		cfg.Function = "deploy-worker"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.DiscoverEvery <= 0 {
		cfg.DiscoverEvery = DefaultDiscoverEvery
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	region := cfg.Streams.Options().Region
	if region == "" {
		region = "us-east-1"
	}
	return &Poller{cfg: cfg, region: region, ready: make(chan struct{}),
		log: log.With(slog.String("table", cfg.Table), slog.String("function", cfg.Function))}, nil
}

// Ready is closed once Run has its starting positions: a record written
// after that reaches the handler.
func (p *Poller) Ready() <-chan struct{} { return p.ready }

// Run reads the stream until ctx ends, then waits for the batch in flight on
// each shard. It fails only when it cannot start (no table, no stream).
func (p *Poller) Run(ctx context.Context) error {
	desc, err := p.cfg.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.cfg.Table)})
	if err != nil {
		return fmt.Errorf("streams: describing table %s: %w", p.cfg.Table, err)
	}
	arn := aws.ToString(desc.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("streams: table %s has no stream", p.cfg.Table)
	}
	shards, err := p.listShards(ctx, arn)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	known := map[string]chan struct{}{} // shard id → closed when read to its end (or never to be read)
	ended := make(chan struct{}, 1)
	start := func(id string, iter *string, from types.ShardIteratorType, parent chan struct{}) {
		done := make(chan struct{})
		known[id] = done
		wg.Go(func() {
			defer func() {
				close(done)
				select {
				case ended <- struct{}{}:
				default:
				}
			}()
			if parent != nil {
				select {
				case <-parent:
				case <-ctx.Done():
					return
				}
			}
			p.readShard(ctx, arn, id, iter, from)
		})
	}

	open := 0
	for _, s := range shards {
		id := aws.ToString(s.ShardId)
		if isClosed(s) {
			known[id] = closedChan() // history from before the start
			continue
		}
		iter, err := p.iterator(ctx, arn, id, types.ShardIteratorTypeLatest, "")
		if err != nil {
			return err
		}
		start(id, iter, types.ShardIteratorTypeLatest, nil)
		open++
	}
	p.log.Info("stream delivery started", slog.String("stream", arn), slog.Int("open_shards", open))
	close(p.ready)

	tick := time.NewTicker(p.cfg.DiscoverEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-ended: // a shard closed: its children are worth looking for now
		}
		shards, err := p.listShards(ctx, arn)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("listing shards failed", slog.String("error", err.Error()))
			}
			continue
		}
		for _, s := range shards {
			id := aws.ToString(s.ShardId)
			if _, ok := known[id]; ok {
				continue
			}
			// A new shard: everything in it was written after the start.
			start(id, nil, types.ShardIteratorTypeTrimHorizon, known[aws.ToString(s.ParentShardId)])
		}
	}
}

func isClosed(s types.Shard) bool {
	return s.SequenceNumberRange != nil && s.SequenceNumberRange.EndingSequenceNumber != nil
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (p *Poller) listShards(ctx context.Context, arn string) ([]types.Shard, error) {
	var out []types.Shard
	var after *string
	for {
		d, err := p.cfg.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: after})
		if err != nil {
			return nil, fmt.Errorf("streams: describing stream %s: %w", arn, err)
		}
		out = append(out, d.StreamDescription.Shards...)
		if after = d.StreamDescription.LastEvaluatedShardId; after == nil {
			return out, nil
		}
	}
}

func (p *Poller) iterator(ctx context.Context, arn, shard string, typ types.ShardIteratorType, afterSeq string) (*string, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard), ShardIteratorType: typ}
	if afterSeq != "" {
		in.SequenceNumber = aws.String(afterSeq)
	}
	out, err := p.cfg.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("streams: iterator %s for shard %s: %w", typ, shard, err)
	}
	return out.ShardIterator, nil
}

// readShard polls one shard until it is closed and read to its end, or ctx
// ends. iter may be nil: it is then taken at from.
func (p *Poller) readShard(ctx context.Context, arn, shard string, iter *string, from types.ShardIteratorType) {
	log := p.log.With(slog.String("shard", shard))
	var lastSeq string
	failures := 0
	for ctx.Err() == nil {
		if iter == nil {
			typ, after := from, ""
			if lastSeq != "" {
				typ, after = types.ShardIteratorTypeAfterSequenceNumber, lastSeq
			}
			var err error
			if iter, err = p.iterator(ctx, arn, shard, typ, after); err != nil {
				var gone *types.ResourceNotFoundException
				if errors.As(err, &gone) {
					log.Info("shard is gone; reading stops", slog.String("error", err.Error()))
					return
				}
				failures++
				log.Warn("getting a shard iterator failed", slog.String("error", err.Error()))
				sleep(ctx, p.backoff(failures))
				continue
			}
		}
		out, err := p.cfg.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var expired *types.ExpiredIteratorException
			var trimmed *types.TrimmedDataAccessException
			var gone *types.ResourceNotFoundException
			switch {
			case errors.As(err, &expired):
				iter = nil
			case errors.As(err, &trimmed):
				iter, lastSeq, from = nil, "", types.ShardIteratorTypeTrimHorizon
				log.Warn("records were trimmed before they were read", slog.String("error", err.Error()))
			case errors.As(err, &gone):
				log.Info("stream is gone; reading stops", slog.String("error", err.Error()))
				return
			default:
				failures++
				log.Warn("GetRecords failed", slog.String("error", err.Error()))
				sleep(ctx, p.backoff(failures))
			}
			continue
		}
		failures = 0
		var batch []events.DynamoDBEventRecord
		for _, r := range out.Records {
			rec := ConvertRecord(r, arn, p.region)
			if p.cfg.Filter == nil || p.cfg.Filter(rec) {
				batch = append(batch, rec)
			}
		}
		if n := len(out.Records); n > 0 && out.Records[n-1].Dynamodb != nil {
			lastSeq = aws.ToString(out.Records[n-1].Dynamodb.SequenceNumber)
		}
		p.deliver(ctx, batch)
		if out.NextShardIterator == nil {
			log.Debug("shard read to its end")
			return
		}
		iter = out.NextShardIterator
		if len(out.Records) == 0 {
			sleep(ctx, p.cfg.PollInterval)
		}
	}
}

// deliver hands records to the handler in batches, in order, with Lambda's
// retry rules (see the package comment).
func (p *Poller) deliver(ctx context.Context, records []events.DynamoDBEventRecord) {
	for len(records) > 0 && ctx.Err() == nil {
		n := min(len(records), p.cfg.BatchSize)
		p.deliverBatch(ctx, records[:n])
		records = records[n:]
	}
}

func (p *Poller) deliverBatch(ctx context.Context, batch []events.DynamoDBEventRecord) {
	for attempt := 1; ; attempt++ {
		resp, err := p.invoke(ctx, batch)
		first, whole := firstFailure(batch, resp, err)
		if first < 0 || ctx.Err() != nil {
			return
		}
		if whole && p.cfg.Bisect && len(batch) > 1 {
			mid := len(batch) / 2
			p.log.Warn("batch failed as a whole; bisecting", slog.Int("records", len(batch)))
			p.deliverBatch(ctx, batch[:mid])
			p.deliverBatch(ctx, batch[mid:])
			return
		}
		batch = batch[first:]
		attrs := []any{slog.Int("attempt", attempt), slog.Int("records", len(batch)),
			slog.String("first_sequence_number", batch[0].Change.SequenceNumber)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		if attempt >= p.cfg.MaxAttempts {
			p.deadLetter(batch, err, attempt)
			return
		}
		p.log.Warn("batch failed; retrying from the first failed record", attrs...)
		if !sleep(ctx, p.retryDelay(attempt)) {
			return
		}
	}
}

// firstFailure is the index the batch is retried from, -1 when it
// succeeded; whole is true when the batch failed as a whole.
func firstFailure(batch []events.DynamoDBEventRecord, resp events.DynamoDBEventResponse, err error) (first int, whole bool) {
	if err != nil {
		return 0, true
	}
	first = -1
	for _, f := range resp.BatchItemFailures {
		i := -1
		for j, r := range batch {
			if f.ItemIdentifier != "" && r.Change.SequenceNumber == f.ItemIdentifier {
				i = j
				break
			}
		}
		if i < 0 {
			return 0, true // Lambda: an empty or unknown identifier fails the whole batch
		}
		if first < 0 || i < first {
			first = i
		}
	}
	return first, false
}

func (p *Poller) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) (resp events.DynamoDBEventResponse, err error) {
	ictx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ictx = lambdacontext.NewContext(ictx, &lambdacontext.LambdaContext{AwsRequestID: newUUID(), InvokedFunctionArn: p.cfg.FunctionARN})
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	// The handler gets its own copy: what it does to the slice cannot change
	// what is retried.
	return p.cfg.Handler(ictx, events.DynamoDBEvent{Records: append([]events.DynamoDBEventRecord(nil), batch...)})
}

func (p *Poller) deadLetter(batch []events.DynamoDBEventRecord, err error, attempts int) {
	for _, r := range batch {
		attrs := []any{slog.String("event_id", r.EventID), slog.String("event_name", r.EventName),
			slog.String("sequence_number", r.Change.SequenceNumber), slog.Int("attempts", attempts)}
		for _, k := range []string{"pk", "sk"} {
			if v, ok := r.Change.Keys[k]; ok && v.DataType() == events.DataTypeString {
				attrs = append(attrs, slog.String(k, v.String()))
			}
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		p.log.Error("stream record dead-lettered: retries exhausted", attrs...)
	}
	if p.cfg.OnDeadLetter != nil {
		p.cfg.OnDeadLetter(batch, err)
	}
}

func (p *Poller) retryDelay(attempt int) time.Duration {
	d := p.cfg.RetryBackoff << (attempt - 1)
	if d <= 0 || d > p.cfg.MaxBackoff {
		d = p.cfg.MaxBackoff
	}
	return d
}

func (p *Poller) backoff(failures int) time.Duration {
	return min(p.cfg.PollInterval<<min(failures, 6), p.cfg.MaxBackoff)
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
