package app_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

func TestMain(m *testing.M) {
	// The functions load AWS configuration from the environment, as in
	// Lambda; dynamotest.Run sets AWS_ENDPOINT_URL_DYNAMODB.
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dynamotest.Run(m)
}

func env(table string) app.Options {
	vars := map[string]string{"TABLE_NAME": table, "LOCAL_KEK": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
	return app.Options{Getenv: func(k string) string { return vars[k] }, Log: &bytes.Buffer{}}
}

func TestEveryHTTPFunctionAnswersItsRoutes(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	// What each function answers today: a route it serves, and the status.
	cases := []struct {
		function, method, path string
		status                 int
	}{
		{app.Connections, "GET", "/health", 200},
		{app.Connections, "GET", "/platforms", 200},
		{app.Connections, "GET", "/openapi.json", 200},
		{app.Connections, "GET", "/connections", 200},
		{app.Connections, "GET", "/connections/youtube", 404},
		{app.OAuth, "POST", "/connections/youtube/oauth", 501},
		{app.Livestreams, "GET", "/livestreams", 200},
		{app.Meetings, "GET", "/meetings", 200},
		{app.Deployments, "GET", "/deployments/limits", 200},
	}
	for _, c := range cases {
		t.Run(c.function+" "+c.method+" "+c.path, func(t *testing.T) {
			api, err := app.HTTP(context.Background(), c.function, env(f.Table))
			if err != nil {
				t.Fatal(err)
			}
			resp, _ := api.Handle(context.Background(), apitest.Event(c.method, c.path, apitest.As("t1", "u1")))
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if c.status >= 400 {
				apitest.DecodeProblem(t, resp, c.status)
			}
		})
	}
}

func TestEveryRouteBelongsToAnHTTPFunction(t *testing.T) {
	t.Parallel()
	fns := map[string]bool{}
	for _, fn := range app.HTTPFunctions() {
		fns[fn] = true
	}
	for _, r := range httpapi.Routes() {
		if !fns[r.Function] {
			t.Errorf("route %s names function %q, which is not an HTTP function", r.Key(), r.Function)
		}
	}
}

func TestFunctionsRefuseToStartWithoutATable(t *testing.T) {
	t.Parallel()
	_, err := app.HTTP(context.Background(), app.Connections, app.Options{Getenv: func(string) string { return "" }})
	if err == nil {
		t.Fatal("started without TABLE_NAME")
	}
}

func TestABadVercelUploadConcurrencyStopsTheDeployFunctionsAtColdStart(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	with := func(v string) app.Options {
		o := env(f.Table)
		get := o.Getenv
		o.Getenv = func(k string) string {
			if k == "VERCEL_UPLOAD_CONCURRENCY" {
				return v
			}
			return get(k)
		}
		return o
	}
	for _, bad := range []string{"0", "-1", "many", "51"} {
		if _, err := app.HTTP(context.Background(), app.Deployments, with(bad)); err == nil || !strings.Contains(err.Error(), "VERCEL_UPLOAD_CONCURRENCY") {
			t.Errorf("deployments started with VERCEL_UPLOAD_CONCURRENCY=%q: %v", bad, err)
		}
		if _, err := app.Worker(context.Background(), with(bad)); err == nil || !strings.Contains(err.Error(), "VERCEL_UPLOAD_CONCURRENCY") {
			t.Errorf("deploy-worker started with VERCEL_UPLOAD_CONCURRENCY=%q: %v", bad, err)
		}
	}
	for _, good := range []string{"", "1", "25"} {
		if _, err := app.Worker(context.Background(), with(good)); err != nil {
			t.Errorf("deploy-worker refused VERCEL_UPLOAD_CONCURRENCY=%q: %v", good, err)
		}
	}
}

func TestStreamSchedulerWithNothingDueReportsNothing(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	run, err := app.Scheduled(context.Background(), app.StreamSched, env(f.Table))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(context.Background(), events.EventBridgeEvent{ID: "e1", DetailType: "Scheduled Event"})
	if err != nil || rep.Found != 0 || rep.Function != app.StreamSched {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestTokenRefresherWithNothingDueReportsNothing(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	run, err := app.Scheduled(context.Background(), app.TokenRefresher, env(f.Table))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := run(context.Background(), events.EventBridgeEvent{ID: "e1", DetailType: "Scheduled Event"})
	if err != nil || rep.Found != 0 || rep.Function != app.TokenRefresher {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestDeployWorkerAcknowledgesWhatItHasNothingToDoForAndReportsWhatItCouldNotRecord(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	work, err := app.Worker(context.Background(), env(f.Table))
	if err != nil {
		t.Fatal(err)
	}
	str := events.NewStringAttribute
	unknown := map[string]events.DynamoDBAttributeValue{"type": str("deployment"), "tenant": str("t1"), "id": str("dpl_06h01nieposlikfcbovh978irc")}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "100"}},
		{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "200", NewImage: unknown}},
	}}
	resp, err := work(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	// A table it cannot reach: the work cannot be recorded, so the record
	// is reported and Lambda delivers it again.
	broken, err := app.Worker(context.Background(), env("no-such-table"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = broken(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "200" {
		t.Fatalf("%+v %v", resp, err)
	}
}

// Every list refuses a filter value it does not know (400 invalid_query)
// instead of ignoring it, and takes the ones it documents.
func TestListsRefuseFilterValuesTheyDoNotKnow(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	cases := []struct {
		function, path string
		status         int
	}{
		{app.Meetings, "/meetings?status=bogus", 400},
		{app.Livestreams, "/livestreams?status=bogus", 400},
		{app.Deployments, "/deployments?status=bogus", 400},
		{app.Deployments, "/deployments?platform=youtube", 400},
		{app.Deployments, "/deployments?platform=bogus", 400},
		{app.Deployments, "/deployments?projectName=" + strings.Repeat("x", 101), 400},
		{app.Meetings, "/meetings?status=scheduled", 200},
		{app.Livestreams, "/livestreams?status=live", 200},
		{app.Deployments, "/deployments?status=ready&platform=vercel&projectName=site", 200},
	}
	apis := map[string]*httpapi.API{}
	for _, c := range cases {
		if apis[c.function] == nil {
			api, err := app.HTTP(context.Background(), c.function, env(f.Table))
			if err != nil {
				t.Fatal(err)
			}
			apis[c.function] = api
		}
		resp, _ := apis[c.function].Handle(context.Background(), apitest.Event("GET", c.path, apitest.As("t1", "u1")))
		if resp.StatusCode != c.status {
			t.Errorf("GET %.60s: status %d, want %d: %s", c.path, resp.StatusCode, c.status, resp.Body)
			continue
		}
		if c.status == 400 {
			if p := apitest.DecodeProblem(t, resp, 400); p.Code != "invalid_query" {
				t.Errorf("GET %.60s: code %q, want invalid_query", c.path, p.Code)
			}
		}
	}
}

// Each HTTP function starts only with every one of its routes wired
// (httpapi.Build): a missing handler stops the cold start, here a test.
func TestEveryHTTPFunctionStartsWithEveryRouteWired(t *testing.T) {
	t.Parallel()
	for _, fn := range app.HTTPFunctions() {
		if _, err := app.HTTP(context.Background(), fn, env("any-table")); err != nil {
			t.Errorf("%s: %v", fn, err)
		}
	}
}
