package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

// deployStack is the stack with deploy-worker behind the table's stream,
// delivered from DynamoDB Local the way Lambda's event source mapping
// does (infra/streams, with template.yaml's filter), and the deployment
// sweep that stream-scheduler runs, to tick by hand.
type deployStack struct {
	*stack
	workerLogs *servicetest.Logs
	sweep      app.ScheduledHandler
	// interrupt, when set, is called with each invocation's context and
	// may return a shorter-lived one: a test kills a worker mid-way there.
	mu        sync.Mutex
	interrupt func(ctx context.Context) context.Context
}

// Fast settings for the worker: polls every 20 ms, leases of 2 s.
var deployTestEnv = map[string]string{"DEPLOY_POLL_INTERVAL_MS": "20", "DEPLOY_LEASE_MS": "2000", "RAILWAY_POLL_INTERVAL_MS": "20"}

func newDeployStack(t *testing.T, extraEnv map[string]string) *deployStack {
	t.Helper()
	env := map[string]string{}
	for k, v := range deployTestEnv {
		env[k] = v
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	ds := &deployStack{stack: newStack(t, env), workerLogs: &servicetest.Logs{}}
	getenv := func(k string) string {
		if v, ok := ds.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	ctx := context.Background()
	work, err := app.Worker(ctx, app.Options{Getenv: getenv, Log: ds.workerLogs})
	if err != nil {
		t.Fatalf("building deploy-worker: %v", err)
	}
	if ds.sweep, err = app.DeploymentSweeper(ctx, app.Options{Getenv: getenv, Log: ds.workerLogs}); err != nil {
		t.Fatalf("building the sweep: %v", err)
	}
	handler := func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		ds.mu.Lock()
		cut := ds.interrupt
		ds.mu.Unlock()
		if cut != nil {
			ctx = cut(ctx)
		}
		return work(ctx, ev)
	}
	startStreamPoller(t, ds.table, streams.Config{Handler: handler, Filter: streams.DeploymentInserts, Function: app.DeployWorker})
	return ds
}

// tickSweep runs the deployment sweep as stream-scheduler's run would.
func (ds *deployStack) tickSweep() app.RunReport {
	ds.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := ds.sweep(ctx, gateway.ScheduledEvent(app.StreamSched, gateway.DefaultRegion, gateway.DefaultAccountID, time.Now()))
	if err != nil {
		ds.t.Fatalf("sweep: %v", err)
	}
	return rep
}

// Keys the tests connect with: secrets that must appear nowhere.
const (
	e2eVercelToken  = "vercel-e2e-secret-token-0123456789"
	e2eRailwayToken = "railway-e2e-secret-token-0123456789"
	e2eRenderKey    = "rnd_e2esecretrenderkey0123456789"
)

// connectDeployPlatforms connects Vercel, Railway and Render for a tenant
// with API keys, through the API.
func (ds *deployStack) connectDeployPlatforms(tenant string) {
	ds.t.Helper()
	for p, creds := range map[string]map[string]string{
		"vercel": {"token": e2eVercelToken}, "railway": {"token": e2eRailwayToken}, "render": {"apiKey": e2eRenderKey},
	} {
		if r := ds.call("POST", "/connections/"+p, tenant, map[string]any{"credentials": creds}, nil); r.StatusCode != http.StatusCreated {
			ds.t.Fatalf("connecting %s: %d %s", p, r.StatusCode, bodyOf(r))
		}
	}
}

// deploymentBody is a Deployment answer.
type deploymentBody struct {
	ID, Platform, ProjectName, Status string
	URL, PlatformDeploymentID         *string
	RollbackOf                        *string
	CreatedAt, UpdatedAt              string
	Error                             *struct{ Code, Message, At string }
}

// deploy posts a deployment and expects it accepted.
func (ds *deployStack) deploy(tenant string, body map[string]any) deploymentBody {
	ds.t.Helper()
	var d deploymentBody
	r := ds.call("POST", "/deployments", tenant, body, &d)
	if r.StatusCode != http.StatusAccepted || d.ID == "" || d.Status != "queued" {
		ds.t.Fatalf("deploy: %d %s", r.StatusCode, bodyOf(r))
	}
	requireRateLimitHeaders(ds.t, r)
	return d
}

// waitEnded polls GET /deployments/{id} until the deployment has ended.
func (ds *deployStack) waitEnded(tenant, id string) deploymentBody {
	ds.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		var d deploymentBody
		if r := ds.call("GET", "/deployments/"+id, tenant, nil, &d); r.StatusCode != http.StatusOK {
			ds.t.Fatalf("get %s: %d %s", id, r.StatusCode, bodyOf(r))
		}
		switch d.Status {
		case "ready", "error", "canceled", "timed_out":
			return d
		}
		if time.Now().After(deadline) {
			ds.t.Fatalf("deployment %s still %s; worker log:\n%s", id, d.Status, ds.workerLogs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type logEntry struct{ At, Type, Text string }

// deploymentLogs reads a deployment's whole log, page by page.
func (ds *deployStack) deploymentLogs(tenant, id string) []logEntry {
	ds.t.Helper()
	var out []logEntry
	cursor := ""
	for range 100 {
		var page struct {
			Items      []logEntry
			NextCursor string
		}
		path := "/deployments/" + id + "/logs"
		if cursor != "" {
			path += "?cursor=" + cursor
		}
		if r := ds.call("GET", path, tenant, nil, &page); r.StatusCode != http.StatusOK || page.NextCursor == "" {
			ds.t.Fatalf("logs: %d %s", r.StatusCode, bodyOf(r))
		}
		out = append(out, page.Items...)
		if len(page.Items) == 0 {
			return out
		}
		cursor = page.NextCursor
	}
	ds.t.Fatal("the log does not end")
	return nil
}

// rawTable is every item of the stack's table, as stored.
func (ds *deployStack) rawTable() string {
	ds.t.Helper()
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	var all []map[string]any
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(ds.table), ExclusiveStartKey: start})
		if err != nil {
			ds.t.Fatal(err)
		}
		for _, it := range out.Items {
			m := map[string]any{}
			for k, v := range it {
				m[k] = v
			}
			all = append(all, m)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	raw, _ := json.Marshal(all)
	return string(raw)
}

// requireRateLimitHeaders fails unless the answer carries the three
// RateLimit headers as whole numbers.
func requireRateLimitHeaders(t *testing.T, r *http.Response) (limit, remaining, reset int) {
	t.Helper()
	vals := make([]int, 3)
	for i, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		n, err := strconv.Atoi(r.Header.Get(h))
		if err != nil || n < 0 {
			t.Fatalf("%s %s: %s is %q", r.Request.Method, r.Request.URL.Path, h, r.Header.Get(h))
		}
		vals[i] = n
	}
	return vals[0], vals[1], vals[2]
}
