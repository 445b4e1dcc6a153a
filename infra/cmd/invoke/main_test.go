package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/infra/eventfile"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// localEnv is the environment of one test: its own table and cache, over
// the process's (which carries dynamotest's AWS_ENDPOINT_URL_DYNAMODB).
func localEnv(t *testing.T) (getenv func(string) string, cache string) {
	t.Helper()
	table := dynamotest.TableName()
	t.Cleanup(func() {
		db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return func(k string) string {
		if k == "TABLE_NAME" {
			return table
		}
		return os.Getenv(k)
	}, t.TempDir()
}

func TestEverySampleEventIsInvocableAndAnswersInItsFunctionsShape(t *testing.T) {
	t.Parallel()
	files, err := eventfile.Samples()
	if err != nil {
		t.Fatal(err)
	}
	getenv, cache := localEnv(t)
	covered := map[string]bool{}
	for _, file := range files {
		fn := functionForEventFile(file)
		t.Run(filepath.Base(file), func(t *testing.T) {
			if fn == "" {
				t.Fatalf("%s is not named after a function (events/<function>[-what].json)", file)
			}
			covered[fn] = true
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"-fn", fn, "-event", file, "-cache", cache}, nil, &stdout, &stderr, getenv)
			if code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
			}
			checkShape(t, fn, file, stdout.Bytes())
		})
	}
	for _, fn := range app.Functions() {
		if !covered[fn] {
			t.Errorf("no sample event for %s", fn)
		}
	}
}

// expectedAnswers is what each HTTP sample event answers in a fresh make
// dev environment (the sandboxes, no connection yet): the status and, for
// a problem, its code. The creates get past every check of their body (a
// stale or bad time would be 400 or 422) to the first thing a fresh tenant
// lacks, its connections.
var expectedAnswers = map[string]struct {
	status int
	code   string
}{
	"connections-list-platforms.json": {200, ""},
	"oauth-start.json":                {200, ""},
	"livestreams-create.json":         {409, "target_not_connected"},
	"meetings-create.json":            {409, "target_not_connected"},
	"deployments-create.json":         {409, "not_connected"},
	"webhooks-list.json":              {200, ""},
}

// checkShape holds a printed response to its function's response type.
func checkShape(t *testing.T, fn, file string, out []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	switch {
	case slices.Contains(app.HTTPFunctions(), fn):
		var resp events.APIGatewayV2HTTPResponse
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("not an HTTP API response: %v\n%s", err, out)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 599 || !json.Valid([]byte(resp.Body)) || resp.Body == "" {
			t.Fatalf("status %d, body %q", resp.StatusCode, resp.Body)
		}
		if ct := resp.Headers["Content-Type"]; ct != "application/json" && ct != "application/problem+json" {
			t.Fatalf("Content-Type %q", ct)
		}
		// The event reaches its own function: the route key names it.
		raw, _ := os.ReadFile(file)
		var ev events.APIGatewayV2HTTPRequest
		_ = json.Unmarshal(raw, &ev)
		for _, r := range httpapi.Routes() {
			if r.Key() == ev.RouteKey && r.Function != fn {
				t.Fatalf("%s is %s's route, not %s's", ev.RouteKey, r.Function, fn)
			}
		}
		want, ok := expectedAnswers[filepath.Base(file)]
		if !ok {
			t.Fatalf("no expected answer for %s: add it to expectedAnswers", filepath.Base(file))
		}
		var problem struct{ Code string }
		_ = json.Unmarshal([]byte(resp.Body), &problem)
		if resp.StatusCode != want.status || problem.Code != want.code {
			t.Fatalf("answered %d %q, want %d %q: %s", resp.StatusCode, problem.Code, want.status, want.code, resp.Body)
		}
	case fn == app.StreamSched || fn == app.TokenRefresher:
		var rep app.RunReport
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("not a run report: %v\n%s", err, out)
		}
		if rep.Function != fn {
			t.Fatalf("report %+v", rep)
		}
	case fn == app.DeployWorker || fn == app.EventDispatcher:
		var resp events.DynamoDBEventResponse
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("not a batch response: %v\n%s", err, out)
		}
		raw, _ := os.ReadFile(file)
		var ev events.DynamoDBEvent
		_ = json.Unmarshal(raw, &ev)
		for _, f := range resp.BatchItemFailures {
			if !slices.ContainsFunc(ev.Records, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == f.ItemIdentifier }) {
				t.Fatalf("failure %q names no record of the event", f.ItemIdentifier)
			}
		}
	default:
		t.Fatalf("no shape known for %s", fn)
	}
}

func TestUnknownFunctionIsAUsageErrorListingTheFunctions(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-fn", "nope", "-event", "x.json"}, nil, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, stdout.String())
	}
	for _, fn := range app.Functions() {
		if !strings.Contains(stderr.String(), fn) {
			t.Fatalf("the usage does not list %s:\n%s", fn, stderr.String())
		}
	}
}

func TestAnEventOfTheWrongKindIsAUsageError(t *testing.T) {
	t.Parallel()
	getenv, cache := localEnv(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-fn", app.Connections, "-event", "-", "-cache", cache},
		strings.NewReader(`{"detail-type":"Scheduled Event","source":"aws.events"}`), &stdout, &stderr, getenv)
	if code != 2 || !strings.Contains(stderr.String(), "API Gateway HTTP API") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}

func TestFunctionForEventFile(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"events/deploy-worker.json":               app.DeployWorker,
		"events/deployments-create.json":          app.Deployments,
		"events/connections-list-platforms.json":  app.Connections,
		"events/stream-scheduler.json":            app.StreamSched,
		"/abs/events/token-refresher-manual.json": app.TokenRefresher,
		"events/unknown.json":                     "",
		"events/deploy.json":                      "",
	} {
		if got := functionForEventFile(file); got != want {
			t.Errorf("%s: %q, want %q", file, got, want)
		}
	}
}
