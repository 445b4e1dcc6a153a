package deploy

import (
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/sortid"
)

// Status is a deployment's state.
type Status string

const (
	StatusQueued   Status = "queued"
	StatusBuilding Status = "building"
	StatusReady    Status = "ready"
	StatusError    Status = "error"
	StatusCanceled Status = "canceled"
	StatusTimedOut Status = "timed_out"
)

// Statuses are every status, in the order a deployment goes through them.
var Statuses = []Status{StatusQueued, StatusBuilding, StatusReady, StatusError, StatusCanceled, StatusTimedOut}

// ListFilter narrows a list of deployments; an empty field matches all.
type ListFilter struct {
	Status      Status
	Platform    platform.ID
	ProjectName string // exact
}

// Terminal reports whether the deployment has ended.
func (s Status) Terminal() bool {
	switch s {
	case StatusReady, StatusError, StatusCanceled, StatusTimedOut:
		return true
	}
	return false
}

// Source is what a deployment deploys.
type Source string

const (
	SourceFiles    Source = "files"
	SourceRepo     Source = "repo"
	SourceImage    Source = "image"
	SourceRollback Source = "rollback" // makes an earlier deployment current again
)

// Step is one resumable step of the worker, recorded once done.
type Step string

const (
	StepProject  Step = "project"  // Deployer.EnsureProject
	StepDatabase Step = "database" // Deployer.ProvisionDatabase (DATABASE_URL sealed and kept)
	StepEnv      Step = "env"      // Deployer.SetEnv
	StepUpload   Step = "upload"   // Deployer.Upload
	StepStart    Step = "start"    // Deployer.StartDeployment
	StepRollback Step = "rollback" // Deployer.Rollback, for a rollback deployment
)

// buildSteps is the order the worker runs a deployment in.
var buildSteps = []Step{StepProject, StepDatabase, StepEnv, StepUpload, StepStart}

// ErrorInfo is why a deployment failed, safe to show.
type ErrorInfo struct {
	Code    string
	Message string
	At      time.Time
}

// FileSet describes the files of a files deployment, kept apart from the
// deployment's item as a compressed archive in Chunks pieces.
type FileSet struct {
	Count  int    // files
	Bytes  int64  // their total size
	Chunks int    // stored pieces of the archive
	SHA256 string // of the whole archive, checked when it is read back
}

// Deployment is one deployment of a project to a platform.
type Deployment struct {
	ID          string
	Tenant      string
	User        string // who asked for it: the rate limit counts per user
	Platform    platform.ID
	ProjectName string
	Source      Source
	Repo        string
	Branch      string
	Image       string
	Database    string // "" or platform.DatabasePostgres
	// Build is how a repository is built and run (nil: the platform's
	// choice); WorkspaceID the platform workspace asked for ("": the
	// connection's).
	Build       *Build
	WorkspaceID string
	Files       FileSet
	// SealedEnv is the environment variables as JSON, sealed by the vault
	// (purpose env_vars, record = ID). Never returned.
	SealedEnv []byte
	// RollbackOf is, for a rollback, the deployment made current again,
	// and RollbackTo its platform deployment id.
	RollbackOf string
	RollbackTo string

	Status               Status
	URL                  string
	PlatformDeploymentID string
	Error                *ErrorInfo

	// What the worker did: the platform's ids (never a secret), the steps
	// finished, the sealed DATABASE_URL, how many log items were written
	// and the platform's log cursor after the last line kept.
	Progress          platform.DeployProgress
	Steps             []Step
	SealedDatabaseURL []byte
	LogSeq            int64
	LogCursor         string

	// The worker's lease: who runs it and until when, unless renewed.
	LeaseOwner string
	LeaseUntil time.Time
	// DueAt is when the sweep looks at it if nothing else has (zero once
	// it has ended); Kicks counts how often the sweep resumed it.
	DueAt time.Time
	Kicks int

	CreatedAt time.Time
	UpdatedAt time.Time
	StartedAt time.Time
	EndedAt   time.Time
	Deadline  time.Time // CreatedAt + DEPLOYMENT_TIMEOUT_MS
}

// Done reports whether the step was recorded as finished.
func (d *Deployment) Done(s Step) bool { return slices.Contains(d.Steps, s) }

func (d *Deployment) markDone(s Step) {
	if !d.Done(s) {
		d.Steps = append(d.Steps, s)
	}
}

// LogLine is one line of a deployment's log: the platform's build log, and
// Switchboard's own notes (type info) such as retries.
type LogLine struct {
	At   time.Time
	Type string
	Text string
}

// LogPage is one page of a deployment's log. Cursor is never empty: it
// continues after the last line given (or where the page started when it
// is empty), so a caller can follow a log as it grows.
type LogPage struct {
	Lines  []LogLine
	Cursor string
}

// NewID is a time-sortable deployment id: "dpl_" and 26 characters
// encoding the millisecond of creation (48 bits) and 80 random bits, so
// that a tenant's deployments list newest first by key alone.
func NewID(now time.Time) string { return sortid.New("dpl_", now) }

// validID accepts what NewID makes, so that a path parameter never builds
// a key NewID could not have.
func validID(id string) bool { return sortid.Valid("dpl_", id) }
