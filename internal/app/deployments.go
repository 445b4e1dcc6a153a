package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// deployParts are what the deployments function and deploy-worker share
// (their configuration is in Config).
type deployParts struct {
	conns     deploy.Connections
	vault     deploy.Sealer
	deployers map[platform.ID]platform.Deployer
	timeout   time.Duration
	lease     time.Duration
}

func (d *Deps) deployParts(ctx context.Context) (deployParts, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return deployParts{}, err
	}
	v, err := d.vault(ctx)
	if err != nil {
		return deployParts{}, err
	}
	endpoints, clients := d.endpoints(), d.clients()
	railwayPoll := d.Config.RailwayPollInterval
	var rw platform.Deployer = railway.New(d.HTTP, endpoints[platform.Railway].APIURL,
		railway.WithUndocumentedUpload(d.Config.RailwayUndocumentedUpload),
		railway.WithStatusPolling(railwayPoll), railway.WithPolling(railwayPoll, 0))
	return deployParts{
		conns: conns, vault: v,
		deployers: map[platform.ID]platform.Deployer{platform.Vercel: clients.vercel, platform.Railway: rw, platform.Render: clients.render},
		timeout:   d.Config.DeploymentTimeout,
		lease:     d.Config.DeployLease,
	}, nil
}

// deploymentRoutes wires the deployment service into the deployments
// function.
func (d *Deps) deploymentRoutes(ctx context.Context, svc *httpapi.Services) error {
	parts, err := d.deployParts(ctx)
	if err != nil {
		return err
	}
	svc.Deployments = deploy.New(deploy.Config{
		Repo: d.Store.Deployments(), Connections: parts.conns, Vault: parts.vault, Deployers: parts.deployers,
		Limit:         ratelimit.Window{Limit: d.Config.MaxDeploymentsPerHour, Period: time.Hour},
		RollbackLimit: ratelimit.Window{Limit: d.Config.MaxRollbacksPerHour, Period: time.Hour},
		Timeout:       parts.timeout,
		// Whatever the route takes decodes to no more than this.
		MaxFileBytes: routeMaxBody("createDeployment"),
		QueueGrace:   2 * parts.lease,
		Logger:       d.Logger,
	})
	return nil
}

func routeMaxBody(op string) int64 {
	for _, r := range httpapi.Routes() {
		if r.Operation == op && r.MaxBody > 0 {
			return r.MaxBody
		}
	}
	return httpapi.DefaultMaxBody
}

// deployWorker builds deploy-worker's handler: each record of a batch
// (a new deployment, or a resume ticket from the sweep) names a
// deployment, which the worker runs; the records run concurrently, since
// ten deployments one after another would not fit in one invocation. Only
// a record whose work could not be recorded is reported as failed, so
// that Lambda delivers it again; a deployment ended or held by another
// worker is acknowledged.
func (d *Deps) deployWorker(ctx context.Context) (StreamHandler, error) {
	parts, err := d.deployParts(ctx)
	if err != nil {
		return nil, err
	}
	worker := deploy.NewWorker(deploy.WorkerConfig{
		Repo: d.Store.Deployments(), Connections: parts.conns, Vault: parts.vault, Deployers: parts.deployers,
		Lease:        parts.lease,
		PollInterval: d.Config.DeployPollInterval,
		Logger:       d.Logger,
	})
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var (
			resp events.DynamoDBEventResponse
			mu   sync.Mutex
			wg   sync.WaitGroup
		)
		for _, rec := range ev.Records {
			tenant, id := stringAttr(rec.Change.NewImage, "tenant"), stringAttr(rec.Change.NewImage, "id")
			if tenant == "" || id == "" {
				d.Logger.Warn("stream record names no deployment; acknowledged", slog.String("event_id", rec.EventID))
				continue
			}
			wg.Go(func() {
				out, err := worker.Run(ctx, tenant, id)
				if err != nil {
					d.Logger.Error("deployment could not be recorded; the record comes again", slog.String("deployment", id),
						slog.String("error", err.Error()))
					mu.Lock()
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
					mu.Unlock()
					return
				}
				d.Logger.Info("deployment run", slog.String("deployment", id), slog.String("outcome", string(out)))
			})
		}
		wg.Wait()
		return resp, nil
	}, nil
}

func stringAttr(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// sweepDeployments builds the sweep that finds deployments no worker is
// running (a crashed worker, a record given up on) and hands them to the
// worker again through the stream. token-refresher's run calls it (the
// schedulers are the functions allowed to query the due index), so a dead
// worker's deployment is picked up within ten minutes.
func (d *Deps) sweepDeployments(_ context.Context) (func(context.Context) (RunReport, error), error) {
	sweeper := deploy.NewSweeper(deploy.SweepConfig{Repo: d.Store.Deployments(), KickEvery: d.Config.DeployLease, Logger: d.Logger})
	return func(ctx context.Context) (RunReport, error) {
		rep, err := sweeper.Run(ctx)
		out := RunReport{Function: d.Function, Found: rep.Found, Done: rep.Kicked + rep.Expired, Failed: rep.Failed, Skipped: rep.Skipped}
		d.Logger.Info("deployment sweep", slog.Int("found", rep.Found), slog.Int("kicked", rep.Kicked),
			slog.Int("expired", rep.Expired), slog.Int("failed", rep.Failed))
		return out, err
	}, nil
}

// DeploymentSweeper builds the deployment sweep as a scheduled handler of
// its own, for tests; in AWS and make dev it runs inside token-refresher's
// run (see Scheduled).
func DeploymentSweeper(ctx context.Context, opt Options) (ScheduledHandler, error) {
	d, err := NewDeps(ctx, StreamSched, opt)
	if err != nil {
		return nil, err
	}
	sweep, err := d.sweepDeployments(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, _ events.EventBridgeEvent) (RunReport, error) { return sweep(ctx) }, nil
}
