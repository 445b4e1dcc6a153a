package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// The like-for-like baseline of a route: a bare handler behind the same
// gateway and JWT check that makes exactly the DynamoDB calls the route
// made (recorded from one of its requests, then replayed: the same
// operations, keys, page sizes and projections, so the same items of the
// same size in the same round trips) and answers the items as JSON, padded
// to the length of the route's answer. What
// the route costs above it is Switchboard's own work on the request.
const (
	replayFunction = "bench-replay"
	replayPath     = "/bench/replay/{route}"
)

// replays records the DynamoDB requests of the in-process stack while a
// recording is under way, and keeps each recording for its replay route.
type replays struct {
	mu        sync.Mutex
	recording bool
	calls     []any // *dynamodb.GetItemInput or *dynamodb.QueryInput
	other     []string
	saved     []recording
}

// recording is one route's DynamoDB reads and the size of its answer.
type recording struct {
	calls      []any
	answerSize int
}

// AddTo puts the recorder on an SDK client's stack (aws.Config.APIOptions).
func (r *replays) AddTo(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench.replay.record",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.mu.Lock()
			if r.recording {
				switch p := in.Parameters.(type) {
				case *dynamodb.GetItemInput:
					c := *p
					r.calls = append(r.calls, &c)
				case *dynamodb.QueryInput:
					c := *p
					r.calls = append(r.calls, &c)
				default:
					r.other = append(r.other, fmt.Sprintf("%T", in.Parameters))
				}
			}
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// record runs do while recording and keeps what it read and the size of
// the answer it returned; it returns the path of the replay route. A route
// that writes cannot be replayed.
func (r *replays) record(do func() (answerSize int, err error)) (string, error) {
	r.mu.Lock()
	r.recording, r.calls, r.other = true, nil, nil
	r.mu.Unlock()
	size, err := do()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recording = false
	if err != nil {
		return "", err
	}
	if len(r.other) > 0 {
		return "", fmt.Errorf("the route made %v, which a read-only replay cannot repeat", r.other)
	}
	r.saved = append(r.saved, recording{calls: r.calls, answerSize: size})
	return "/bench/replay/" + strconv.Itoa(len(r.saved)-1), nil
}

// last describes the latest recording: its calls by operation.
func (r *replays) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.saved) == 0 {
		return ""
	}
	var gets, queries int
	for _, c := range r.saved[len(r.saved)-1].calls {
		if _, ok := c.(*dynamodb.GetItemInput); ok {
			gets++
		} else {
			queries++
		}
	}
	switch {
	case gets+queries == 0:
		return "no call"
	case queries == 0:
		return fmt.Sprintf("GetItem %d", gets)
	case gets == 0:
		return fmt.Sprintf("Query %d", queries)
	}
	return fmt.Sprintf("GetItem %d, Query %d", gets, queries)
}

// handler replays recording {route} with db and answers the items read.
func (r *replays) handler(db *dynamodb.Client) gateway.Handler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		i, err := strconv.Atoi(ev.PathParameters["route"])
		r.mu.Lock()
		var rec recording
		found := err == nil && i >= 0 && i < len(r.saved)
		if found {
			rec = r.saved[i]
		}
		r.mu.Unlock()
		if !found {
			return events.APIGatewayV2HTTPResponse{StatusCode: 404}, nil
		}
		var items []map[string]any
		for _, c := range rec.calls {
			switch in := c.(type) {
			case *dynamodb.GetItemInput:
				cp := *in
				out, err := db.GetItem(ctx, &cp)
				if err != nil {
					return events.APIGatewayV2HTTPResponse{}, err
				}
				if out.Item != nil {
					items = append(items, plain(out.Item))
				}
			case *dynamodb.QueryInput:
				cp := *in
				out, err := db.Query(ctx, &cp)
				if err != nil {
					return events.APIGatewayV2HTTPResponse{}, err
				}
				for _, it := range out.Items {
					items = append(items, plain(it))
				}
			}
		}
		body, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if pad := rec.answerSize - len(body) - len(`,"pad":""`); pad > 0 {
			// As long as the route's answer, so both send the same bytes.
			body = append(body[:len(body)-1], `,"pad":"`+strings.Repeat("x", pad)+`"}`...)
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
	}
}

// plain is an item's attributes as JSON values: strings, numbers (as
// their text), binaries (base64 by encoding/json), lists and maps.
func plain(it store.Item) map[string]any {
	out := make(map[string]any, len(it))
	for k, v := range it {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return json.Number(v.Value)
	case *types.AttributeValueMemberB:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = plainValue(e)
		}
		return l
	case *types.AttributeValueMemberM:
		return plain(v.Value)
	}
	return nil
}
