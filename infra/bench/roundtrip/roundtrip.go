// Package roundtrip counts what an operation costs in calls to other
// services: every AWS SDK request attempt (DynamoDB, KMS, ...) through a
// middleware on the SDK's stack, and every platform HTTP request through an
// http.RoundTripper. The bench measures each API operation with it and sets
// the counts beside the minimum the operation needs.
package roundtrip

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// HTTP is the Service of platform HTTP calls.
const HTTP = "HTTP"

// Call is one round trip.
type Call struct {
	// Service is the SDK's service id ("DynamoDB", "KMS") or HTTP.
	Service string
	// Operation is the SDK operation ("GetItem") or the HTTP method.
	Operation string
	// Target is, for HTTP, the label of the host called (or the host).
	Target string
	// Items are, for DynamoDB, the kinds of item the call touched: the
	// sort key's text up to and with its first '#' (the partition key's
	// when the sort key has none; for a query, its key values'), e.g.
	// "CONN#", "RATE#", "DUE#LIVE" for a query of the index.
	Items []string
	// Units is, for DynamoDB, the capacity the operation consumed as
	// DynamoDB reported it (the counter asks every request for
	// ReturnConsumedCapacity INDEXES); set on the operation's last attempt
	// once it has ended, nil on the others and when nothing was reported.
	Units *Units
}

// Units is the capacity one DynamoDB operation consumed: on the table and
// on its global secondary indexes, in read units for a read operation and
// write units for a write.
type Units struct {
	Table, Indexes float64
}

// Counter records calls. It is safe for concurrent use; the zero value is
// ready.
type Counter struct {
	mu    sync.Mutex
	calls []*Call
	// Label names an HTTP host (host:port) for Target; the host itself when
	// nil or when it answers "".
	Label func(host string) string
}

func (c *Counter) record(call Call) {
	c.mu.Lock()
	c.calls = append(c.calls, &call)
	c.mu.Unlock()
}

// Take returns the calls recorded since the last Take and forgets them.
// An operation still under way when Take is called has no Units.
func (c *Counter) Take() Calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Calls, len(c.calls))
	for i, call := range c.calls {
		out[i] = *call
	}
	c.calls = nil
	return out
}

// AddTo puts the counter on an SDK client's middleware stack; append it to
// aws.Config.APIOptions (or a service's Options.APIOptions). It counts in
// the Finalize step after the retry middleware, so each attempt, each
// actual request, counts once.
func (c *Counter) AddTo(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("roundtrip.items",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askConsumedCapacity(in.Parameters)
			last := &lastAttempt{}
			ctx = middleware.WithStackValue(ctx, itemsKey{}, itemKinds(in.Parameters))
			ctx = middleware.WithStackValue(ctx, lastAttemptKey{}, last)
			out, md, err := next.HandleInitialize(ctx, in)
			if u := consumed(out.Result); u != nil {
				c.mu.Lock()
				if last.call != nil {
					last.call.Units = u
				}
				c.mu.Unlock()
			}
			return out, md, err
		}), middleware.Before)
	if err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("roundtrip.count",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			items, _ := middleware.GetStackValue(ctx, itemsKey{}).([]string)
			call := &Call{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx), Items: items}
			c.mu.Lock()
			c.calls = append(c.calls, call)
			if last, ok := middleware.GetStackValue(ctx, lastAttemptKey{}).(*lastAttempt); ok {
				last.call = call
			}
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

type (
	itemsKey       struct{}
	lastAttemptKey struct{}
	// lastAttempt is the call recorded for an operation's latest attempt,
	// which its consumed capacity is set on.
	lastAttempt struct{ call *Call }
)

// Transport wraps next (http.DefaultTransport when nil) so that every
// request through it is counted.
func (c *Counter) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return countingTransport{c: c, next: next}
}

type countingTransport struct {
	c    *Counter
	next http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	target := r.URL.Host
	if t.c.Label != nil {
		if l := t.c.Label(r.URL.Host); l != "" {
			target = l
		}
	}
	t.c.record(Call{Service: HTTP, Operation: r.Method, Target: target})
	return t.next.RoundTrip(r)
}

// Calls is a list of recorded calls.
type Calls []Call

// Count is how many calls were to service (any operation when op is "").
func (cs Calls) Count(service, op string) int {
	n := 0
	for _, c := range cs {
		if c.Service == service && (op == "" || c.Operation == op) {
			n++
		}
	}
	return n
}

// Touching is the calls that touched an item of the given kind ("RATE#").
func (cs Calls) Touching(kind string) Calls {
	var out Calls
	for _, c := range cs {
		for _, it := range c.Items {
			if it == kind {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Of is the calls to one service.
func (cs Calls) Of(service string) Calls {
	var out Calls
	for _, c := range cs {
		if c.Service == service {
			out = append(out, c)
		}
	}
	return out
}

// Summary writes a service's calls as "GetItem 1, PutItem 2" (HTTP calls
// by target: "youtube 3"), sorted; "0" when there are none.
func (cs Calls) Summary(service string) string {
	by := map[string]int{}
	for _, c := range cs {
		if c.Service != service {
			continue
		}
		k := c.Operation
		if service == HTTP {
			k = c.Target
		}
		by[k]++
	}
	if len(by) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + strconv.Itoa(by[k])
	}
	return strings.Join(parts, ", ")
}

// Detail lists a service's calls in order with the item kinds each
// touched: "GetItem CONN#; TransactWriteItems DEPLOY#+RATE#".
func (cs Calls) Detail(service string) string {
	var parts []string
	for _, c := range cs {
		if c.Service != service {
			continue
		}
		part := c.Operation
		if len(c.Items) > 0 {
			part += " " + strings.Join(c.Items, "+")
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// Consumed sums the DynamoDB capacity of the calls: read units of reads,
// write units of writes, each split into table and indexes.
func (cs Calls) Consumed() (read, write Units) {
	for _, c := range cs {
		if c.Units == nil {
			continue
		}
		sum := &write
		if IsRead(c.Operation) {
			sum = &read
		}
		sum.Table += c.Units.Table
		sum.Indexes += c.Units.Indexes
	}
	return read, write
}

// askConsumedCapacity sets ReturnConsumedCapacity INDEXES on a DynamoDB
// request that can report it and does not ask already.
func askConsumedCapacity(params any) {
	const want = types.ReturnConsumedCapacityIndexes
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = want
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = want
	}
}

// consumed reads the capacity a DynamoDB output reports.
func consumed(result any) *Units {
	var ccs []types.ConsumedCapacity
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		ccs = appendCC(ccs, out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		ccs = appendCC(ccs, out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		ccs = appendCC(ccs, out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		ccs = appendCC(ccs, out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		ccs = appendCC(ccs, out.ConsumedCapacity)
	case *dynamodb.TransactWriteItemsOutput:
		ccs = out.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		ccs = out.ConsumedCapacity
	case *dynamodb.BatchGetItemOutput:
		ccs = out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		ccs = out.ConsumedCapacity
	}
	if len(ccs) == 0 {
		return nil
	}
	u := &Units{}
	for _, cc := range ccs {
		switch {
		case cc.Table != nil && cc.Table.CapacityUnits != nil:
			u.Table += *cc.Table.CapacityUnits
		case cc.CapacityUnits != nil && len(cc.GlobalSecondaryIndexes) == 0:
			u.Table += *cc.CapacityUnits
		}
		for _, ix := range cc.GlobalSecondaryIndexes {
			if ix.CapacityUnits != nil {
				u.Indexes += *ix.CapacityUnits
			}
		}
	}
	return u
}

func appendCC(ccs []types.ConsumedCapacity, cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return ccs
	}
	return append(ccs, *cc)
}

// IsRead reports whether a DynamoDB operation only reads.
func IsRead(op string) bool {
	switch op {
	case "GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems":
		return true
	}
	return false
}

// itemKinds reads which kinds of item a DynamoDB request touches.
func itemKinds(params any) []string {
	var keys []map[string]types.AttributeValue
	var values []types.AttributeValue
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		keys = append(keys, in.Key)
	case *dynamodb.PutItemInput:
		keys = append(keys, in.Item)
	case *dynamodb.UpdateItemInput:
		keys = append(keys, in.Key)
	case *dynamodb.DeleteItemInput:
		keys = append(keys, in.Key)
	case *dynamodb.QueryInput:
		for _, v := range in.ExpressionAttributeValues {
			values = append(values, v)
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				keys = append(keys, it.Put.Item)
			case it.Update != nil:
				keys = append(keys, it.Update.Key)
			case it.Delete != nil:
				keys = append(keys, it.Delete.Key)
			case it.ConditionCheck != nil:
				keys = append(keys, it.ConditionCheck.Key)
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				keys = append(keys, it.Get.Key)
			}
		}
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			keys = append(keys, ka.Keys...)
		}
	case *dynamodb.BatchWriteItemInput:
		for _, ws := range in.RequestItems {
			for _, w := range ws {
				switch {
				case w.PutRequest != nil:
					keys = append(keys, w.PutRequest.Item)
				case w.DeleteRequest != nil:
					keys = append(keys, w.DeleteRequest.Key)
				}
			}
		}
	}
	for _, k := range keys {
		// The sort key names the kind of item; where it does not (a
		// partition of its own), the partition key does.
		if sk, ok := k["sk"].(*types.AttributeValueMemberS); ok && kindOf(sk.Value) != "" {
			values = append(values, sk)
		} else {
			values = append(values, k["pk"])
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			continue
		}
		kind := kindOf(s.Value)
		if kind != "" && !seen[kind] {
			seen[kind] = true
			out = append(out, kind)
		}
	}
	sort.Strings(out)
	return out
}

// kindOf is a key's text up to and with its first '#' ("CONN#youtube" is
// "CONN#"); the due-work partitions keep their kind's whole name, without
// the shard ("DUE#LIVE#7" and the older unsharded "DUE#LIVE" are
// "DUE#LIVE").
func kindOf(key string) string {
	if strings.HasPrefix(key, "DUE#") {
		if i := strings.LastIndexByte(key, '#'); i > len("DUE#") && strings.Trim(key[i+1:], "0123456789") == "" {
			return key[:i]
		}
		return key
	}
	i := strings.IndexByte(key, '#')
	if i < 0 {
		return ""
	}
	return key[:i+1]
}
