package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/adapter"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// deployParts are what the deployments function and deploy-worker share
// (their configuration is in Config).
type deployParts struct {
	conns     deploy.Connections
	vault     vault.Sealer
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
	return deployParts{
		conns: conns, vault: v,
		deployers: d.deployers(),
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
		MaxFileBytes: httpapi.MaxDeploymentBody,
		QueueGrace:   2 * parts.lease,
		Logger:       d.Logger,
	})
	return nil
}

// RunDeployment builds deploy-worker's work for one record: run the
// deployment it names (a new deployment, or a resume ticket from the
// sweep). Only work that could not be recorded is an error, so that Lambda
// delivers the record again; a deployment ended or held by another worker
// is done.
func (d *Deps) RunDeployment(ctx context.Context) (func(context.Context, store.DeploymentRef) error, error) {
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
	return func(ctx context.Context, ref store.DeploymentRef) error {
		out, err := worker.Run(ctx, ref.Tenant, ref.ID)
		if err != nil {
			d.Logger.Error("deployment could not be recorded; the record comes again", slog.String("deployment", ref.ID),
				slog.String("error", err.Error()))
			return err
		}
		d.Logger.Info("deployment run", slog.String("deployment", ref.ID), slog.String("outcome", string(out)))
		return nil
	}, nil
}

// SweepDeployments builds the deployments capability's scheduled work:
// find deployments no worker is running (a crashed worker, a record given
// up on) and hand them to deploy-worker again through the stream, after
// Config.DeployLease without a write. It needs a schedule that may query
// the due index; functions/token-refresher/main.go gives it its own.
func (d *Deps) SweepDeployments() adapter.Job {
	sweeper := deploy.NewSweeper(deploy.SweepConfig{Repo: d.Store.Deployments(), KickEvery: d.Config.DeployLease, Logger: d.Logger})
	return func(ctx context.Context, _ adapter.Tick) (RunReport, error) {
		rep, err := sweeper.Run(ctx)
		d.Logger.Info("deployment sweep", slog.Int("found", rep.Found), slog.Int("kicked", rep.Kicked),
			slog.Int("expired", rep.Expired), slog.Int("failed", rep.Failed))
		return RunReport{Found: rep.Found, Done: rep.Kicked + rep.Expired, Failed: rep.Failed, Skipped: rep.Skipped}, err
	}
}

// DeploymentSweeper builds the deployment sweep as a scheduled handler of
// its own, for tests; in AWS and make dev it runs in token-refresher's
// schedule (functions/token-refresher/main.go).
func DeploymentSweeper(ctx context.Context, opt Options) (ScheduledHandler, error) {
	d, err := NewDeps(ctx, StreamSched, opt)
	if err != nil {
		return nil, err
	}
	return adapter.Schedule(StreamSched, d.SweepDeployments()), nil
}
