// Command invoke runs one function's handler on one event, like `sam local
// invoke -e`: `make invoke FN=connections EVENT=events/connections-list-platforms.json`.
//
//	go run ./infra/cmd/invoke -fn NAME -event FILE   (FILE "-" reads stdin)
//
// It prepares the same environment as `make dev` (infra/cmd/dev/devenv:
// DynamoDB Local unless AWS_ENDPOINT_URL_DYNAMODB is set, the table, the
// variables, the sandboxes), builds only that function through internal/app,
// decodes the event into the function's event type (HTTP functions:
// events.APIGatewayV2HTTPRequest; stream-scheduler and token-refresher:
// events.EventBridgeEvent; deploy-worker: events.DynamoDBEvent), calls the
// handler with a LambdaContext and the function's Lambda timeout, and prints
// the response as JSON on stdout. Logs go to stderr. -fn may be left out
// when the event file is named after its function (events/<function>-*.json).
// The times in an HTTP event's body are moved ahead of now first
// (infra/eventfile), so the samples' fixed dates never go stale.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/infra/eventfile"
	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// errUsage marks a mistake in the command line (exit status 2).
var errUsage = errors.New("usage")

// run is the whole command: parse, prepare, invoke, print. It returns the
// exit status: 0 done, 1 failed, 2 usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fn := fs.String("fn", "", "the function: "+strings.Join(app.Functions(), ", "))
	eventPath := fs.String("event", "", "the event file (JSON), - for stdin")
	cache := fs.String("cache", "", "folder for the local KEK and logs (default <repo>/.cache/dev)")
	timeout := fs.Duration("timeout", 0, "the invocation's deadline (default: the function's Lambda timeout)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: invoke -fn NAME -event FILE\n\nfunctions: %s\n\n", strings.Join(app.Functions(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *fn == "" && *eventPath != "" && *eventPath != "-" {
		*fn = functionForEventFile(*eventPath)
	}
	if *eventPath == "" || !slices.Contains(app.Functions(), *fn) {
		if *fn != "" && !slices.Contains(app.Functions(), *fn) {
			fmt.Fprintf(stderr, "invoke: unknown function %q\n", *fn)
		}
		fs.Usage()
		return 2
	}
	var raw []byte
	var err error
	if *eventPath == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(*eventPath)
	}
	if err == nil {
		raw, err = eventfile.Refresh(raw, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "invoke: reading the event: %v\n", err)
		return 1
	}

	env, err := devenv.Prepare(ctx, devenv.Options{CacheDir: *cache, Getenv: getenv, Log: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 1
	}
	defer env.Close(context.Background())
	if err := env.StartSandboxes(ctx, devenv.Sandboxes()); err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		return 1
	}
	resp, err := invoke(ctx, env, *fn, raw, stderr, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "invoke: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	out, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "invoke: encoding the response: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(append(out, '\n'))
	return 0
}

// invoke builds fn through internal/app, decodes raw into fn's event type
// and calls the handler as Lambda would. It returns the handler's response.
func invoke(ctx context.Context, env *devenv.Env, fn string, raw []byte, log io.Writer, timeout time.Duration) (any, error) {
	if timeout <= 0 {
		timeout = devenv.Timeout(fn)
	}
	opts := env.AppOptions(log)
	build, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       gateway.NewUUID(),
		InvokedFunctionArn: gateway.FunctionARN(env.AWS.Region, gateway.DefaultAccountID, fn),
	}
	call := func() (context.Context, context.CancelFunc) {
		c, cancel := context.WithTimeout(ctx, timeout)
		return lambdacontext.NewContext(c, lc), cancel
	}

	switch {
	case slices.Contains(app.HTTPFunctions(), fn):
		var ev events.APIGatewayV2HTTPRequest
		if err := decode(raw, &ev); err != nil {
			return nil, err
		}
		if ev.RequestContext.HTTP.Method == "" {
			return nil, fmt.Errorf("%w: %s takes an API Gateway HTTP API (payload 2.0) event; this one has no requestContext.http.method", errUsage, fn)
		}
		api, err := app.HTTP(build, fn, opts)
		if err != nil {
			return nil, err
		}
		c, cancel := call()
		defer cancel()
		return api.Handle(c, ev)
	case fn == app.StreamSched || fn == app.TokenRefresher:
		var ev events.EventBridgeEvent
		if err := decode(raw, &ev); err != nil {
			return nil, err
		}
		if ev.DetailType == "" {
			return nil, fmt.Errorf("%w: %s takes an EventBridge event; this one has no detail-type", errUsage, fn)
		}
		run, err := app.Scheduled(build, fn, opts)
		if err != nil {
			return nil, err
		}
		c, cancel := call()
		defer cancel()
		return run(c, ev)
	case fn == app.EventDispatcher:
		if err := decode(raw, &struct{}{}); err != nil {
			return nil, err
		}
		h, err := app.EventDispatcherHandler(build, opts)
		if err != nil {
			return nil, err
		}
		c, cancel := call()
		defer cancel()
		return h(c, raw)
	case fn == app.DeployWorker:
		var ev events.DynamoDBEvent
		if err := decode(raw, &ev); err != nil {
			return nil, err
		}
		if ev.Records == nil {
			return nil, fmt.Errorf("%w: %s takes a DynamoDB stream event; this one has no Records", errUsage, fn)
		}
		work, err := app.Worker(build, opts)
		if err != nil {
			return nil, err
		}
		c, cancel := call()
		defer cancel()
		return work(c, ev)
	}
	return nil, fmt.Errorf("%w: unknown function %q (functions: %s)", errUsage, fn, strings.Join(app.Functions(), ", "))
}

// decode reads one JSON object, as the Lambda runtime does (unknown fields
// are ignored), refusing anything else.
func decode(raw []byte, v any) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: the event must be a JSON object", errUsage)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: the event is not the JSON expected: %v", errUsage, err)
	}
	return nil
}

// functionForEventFile is the function an event file is named after:
// events/deploy-worker.json → deploy-worker, events/deployments-create.json →
// deployments; "" when none is.
func functionForEventFile(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".json")
	best := ""
	for _, fn := range app.Functions() {
		if (base == fn || strings.HasPrefix(base, fn+"-")) && len(fn) > len(best) {
			best = fn
		}
	}
	return best
}
