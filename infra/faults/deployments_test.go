package faults_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

// Every accepted deployment still reaches a terminal status when the
// worker's way to DynamoDB is slow and its way to the platform is cut for a
// while: the worker retries with backoff, or ends the deployment with the
// platform's reason, and never leaves it hanging.
func TestAcceptedDeploymentsReachATerminalStatusThroughFaults(t *testing.T) {
	t.Parallel()
	f := newTCPFaults(t)
	ddb := f.proxy(t, "ddb-worker", hostPort(t, dynamoEndpoint(t)))
	render := &proxyRef{}
	w := newWorld(t, "", func(env map[string]string) {
		p := f.proxy(t, "render", hostPort(t, env["RENDER_API_URL"]))
		env["RENDER_API_URL"] = "http://" + p.Listen + "/v1"
		render.p = p
		env["DEPLOY_POLL_INTERVAL_MS"], env["DEPLOY_LEASE_MS"] = "20", "2000"
	})
	getenv := func(k string) string {
		if v, ok := w.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	ctx := context.Background()
	direct := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(dynamoEndpoint(t))}
	deployments, err := app.HTTP(ctx, app.Deployments, app.Options{Getenv: getenv, Log: io.Discard, AWS: &direct})
	if err != nil {
		t.Fatal(err)
	}
	// The worker reaches DynamoDB through the proxy.
	workerAWS := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + ddb.Listen), HTTPClient: awshttp.NewBuildableClient().WithTimeout(3 * time.Second)}
	work, err := app.Worker(ctx, app.Options{Getenv: getenv, Log: io.Discard, AWS: &workerAWS})
	if err != nil {
		t.Fatal(err)
	}
	startStream(t, w.fix.Table, func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return work(ctx, ev)
	})

	if code, _ := statusOf(t, w.connectRender("t1")); code != 201 {
		t.Fatalf("connect render: %d", code)
	}
	poison(t, ddb, "slow", "latency", `{"latency":150,"jitter":50}`)
	heal := poisonStream(t, render.p, "upstream", "reset", "reset_peer", `{"timeout":0}`)
	var ids []string
	for _, name := range []string{"web-a", "web-b", "web-c"} {
		r, _ := deployments.Handle(ctx, apitest.Event("POST", "/deployments", apitest.As("t1", "u1"),
			apitest.Body(map[string]any{"platform": "render", "projectName": name, "image": "docker.io/library/nginx:1.27"})))
		var d struct{ ID, Status string }
		apitest.DecodeJSON(t, r, 202, &d)
		ids = append(ids, d.ID)
	}
	time.Sleep(1500 * time.Millisecond) // the platform stays unreachable for a while
	heal()

	deadline := time.Now().Add(90 * time.Second)
	for _, id := range ids {
		for {
			r, _ := deployments.Handle(ctx, apitest.Event("GET", "/deployments/"+id, apitest.As("t1", "u1")))
			var d struct {
				Status string
				Error  *struct{ Code, Message string }
			}
			_ = json.Unmarshal([]byte(r.Body), &d)
			if d.Status == "ready" {
				t.Logf("%s: ready", id)
				break
			}
			if d.Status == "error" || d.Status == "timed_out" || d.Status == "canceled" {
				if d.Status == "error" && (d.Error == nil || d.Error.Code == "" || d.Error.Message == "") {
					t.Fatalf("%s ended in error without a reason", id)
				}
				t.Logf("%s: %s %+v", id, d.Status, d.Error)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deployment %s is still %q", id, d.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// startStream delivers the table's new deployment items to handle, as
// Lambda's event source mapping with template.yaml's filter does.
func startStream(t *testing.T, table string, handle streams.Handler) {
	t.Helper()
	endpoint := dynamoEndpoint(t)
	sc := dynamodbstreams.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
	poller, err := streams.New(streams.Config{
		DB: dynamotest.Client(endpoint), Streams: sc, Table: table, Handler: handle, Filter: streams.DeploymentInserts,
		Function: app.DeployWorker, PollInterval: 50 * time.Millisecond, DiscoverEvery: 200 * time.Millisecond,
		Bisect: true, Timeout: time.Minute, RetryBackoff: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	select {
	case <-poller.Ready():
	case err := <-done:
		t.Fatalf("stream delivery did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("stream delivery did not start in time")
	}
}
