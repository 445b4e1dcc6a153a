package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// SweepRepo is the storage the sweep needs. Deployments that are queued or
// building are in the due index at their DueAt: a queued one QueueGrace
// after acceptance (the stream normally hands it over in seconds), a
// building one when its worker's lease runs out. A live worker keeps
// pushing its DueAt forward; a dead one stops, and its deployment falls due.
type SweepRepo interface {
	// Due lists deployments due at or before before, earliest first.
	Due(ctx context.Context, before time.Time, cursor string, limit int) ([]*Deployment, string, error)
	// Kick hands the deployment to the worker again: it writes a resume
	// item whose INSERT the table's stream delivers to deploy-worker, and
	// moves DueAt to next, in one transaction, only while DueAt is still
	// the one listed (a Conflict otherwise: it moved on by itself).
	Kick(ctx context.Context, d *Deployment, next, now time.Time) error
	// Expire ends the deployment as timed_out with info, only while DueAt
	// is still the one listed (a Conflict otherwise).
	Expire(ctx context.Context, d *Deployment, info ErrorInfo, now time.Time) error
}

// SweepConfig is what a Sweeper is built from.
type SweepConfig struct {
	Repo SweepRepo
	// KickEvery is how long after a kick the deployment falls due again if
	// no worker took it (the worker's lease by default).
	KickEvery time.Duration
	// GiveUpAfter is how long past its deadline a deployment no worker
	// could finish is ended as timed_out by the sweep itself.
	GiveUpAfter time.Duration
	// Margin: the run stops this long before its invocation's deadline.
	Margin time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Sweeper finds deployments that nothing is running (a worker crashed, a
// stream record was given up on) and hands them to the worker again. It
// runs on a schedule (token-refresher's run); only schedulers may query
// the due index.
type Sweeper struct{ cfg SweepConfig }

// NewSweeper builds a Sweeper, filling defaults.
func NewSweeper(cfg SweepConfig) *Sweeper {
	if cfg.KickEvery <= 0 {
		cfg.KickEvery = DefaultLease
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = 10 * time.Minute
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{cfg: cfg}
}

// SweepReport counts what a sweep did.
type SweepReport struct {
	Found   int // due deployments seen
	Kicked  int // handed to the worker again
	Expired int // ended as timed_out by the sweep
	Failed  int // could not be handled this time; the next sweep sees them again
	Skipped int // left for the next sweep: time ran short
}

// Run handles every deployment due now, a page at a time.
func (s *Sweeper) Run(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	now := s.cfg.Now().UTC()
	cursor := ""
	for {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < s.cfg.Margin {
			rep.Skipped++
			return rep, nil
		}
		due, next, err := s.cfg.Repo.Due(ctx, now, cursor, 50)
		if err != nil {
			return rep, fmt.Errorf("deploy: listing due deployments: %w", err)
		}
		for _, d := range due {
			rep.Found++
			switch err := s.handle(ctx, d, now); {
			case err == nil:
				if now.After(d.Deadline.Add(s.cfg.GiveUpAfter)) {
					rep.Expired++
				} else {
					rep.Kicked++
				}
			case apperr.Is(err, apperr.Conflict):
				// It moved on by itself meanwhile: nothing to do.
			default:
				rep.Failed++
				s.cfg.Logger.Warn("handling a due deployment failed", slog.String("deployment", d.ID), slog.String("error", err.Error()))
			}
		}
		if next == "" {
			return rep, nil
		}
		cursor = next
	}
}

func (s *Sweeper) handle(ctx context.Context, d *Deployment, now time.Time) error {
	if now.After(d.Deadline.Add(s.cfg.GiveUpAfter)) {
		// Kicks have not brought it to an end: end it here, so every
		// accepted deployment reaches a terminal status.
		info := ErrorInfo{Code: "timed_out", At: now,
			Message: "the deployment did not finish within its timeout and no worker could finish it; it may still be running at the platform"}
		if err := s.cfg.Repo.Expire(ctx, d, info, now); err != nil {
			return err
		}
		s.cfg.Logger.Warn("deployment ended by the sweep", slog.String("deployment", d.ID), slog.String("was", string(d.Status)))
		return nil
	}
	if err := s.cfg.Repo.Kick(ctx, d, now.Add(s.cfg.KickEvery), now); err != nil {
		return err
	}
	s.cfg.Logger.Info("deployment handed to the worker again", slog.String("deployment", d.ID),
		slog.String("status", string(d.Status)), slog.Int("kicks", d.Kicks+1))
	return nil
}
