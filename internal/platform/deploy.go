package platform

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// A deployment runs at a platform as a sequence of steps. Each step is one
// method of Deployer; it reads what earlier steps produced from a
// DeployProgress and adds what it produced. The deploy worker stores the
// progress after every step, so a retried worker resumes with the step that
// had not finished instead of creating a second project, service or
// deployment. The worker's order is:
//
//	Validate (before anything is accepted)
//	EnsureProject -> ProvisionDatabase -> SetEnv -> Upload -> StartDeployment
//	then Status and Logs until the status is terminal; Cancel and Rollback on request.
//
// A worker that wants the application to reach its database adds the
// connection string (e.g. as DATABASE_URL) to DeploySpec.Env after
// ProvisionDatabase and before SetEnv; it seals the string before storing it
// anywhere.

// ProjectFile is one file of a generated project.
type ProjectFile struct {
	Path string // relative, slash-separated: "src/index.js"
	Data []byte
}

// DatabasePostgres is the one database engine deployments can ask for.
const DatabasePostgres = "postgres"

// DeploySpec is what to deploy. Exactly one source is given: Files, Repo
// (with an optional Branch) or Image.
type DeploySpec struct {
	ProjectName string
	Files       []ProjectFile
	Repo        string // a Git repository URL: https://github.com/owner/name
	Branch      string
	Image       string // a registry image: docker.io/library/nginx:1.27
	Env         map[string]string
	Database    string // "" or DatabasePostgres
	// TeamID is the account's scope where the platform has one: Vercel's
	// teamId, Railway's workspaceId, Render's ownerId. Optional except for
	// Render, where the client looks it up when empty.
	TeamID string
	// OwnedProjectID is the platform's id of the project Switchboard itself
	// created under ProjectName for this tenant and scope before (from
	// Switchboard's record, never the user's word); "" when it made none. A
	// client that reuses projects by name reuses this one and adopts no
	// other project of the name (Vercel).
	OwnedProjectID string
	// Framework is a Vercel framework preset ("nextjs"); empty lets Vercel
	// detect it. Ignored elsewhere.
	Framework string
	// Runtime, BuildCommand and StartCommand describe how to build and run
	// a repository where the platform needs telling (Render: runtime node,
	// python, docker, ...; none makes a static site there). PublishPath is
	// the directory a static site's build leaves its files in. Empty leaves
	// the choice to the platform; no client invents a command.
	Runtime, BuildCommand, StartCommand, PublishPath string
}

// Source names the kind of source the spec gives: "files", "repo", "image"
// or "" when none.
func (s DeploySpec) Source() string {
	switch {
	case len(s.Files) > 0:
		return "files"
	case s.Repo != "":
		return "repo"
	case s.Image != "":
		return "image"
	}
	return ""
}

// DeployProgress is what the steps produced so far; the worker stores it
// between steps. A step skips what the progress says exists already.
// Extra holds platform-specific facts (never a secret).
type DeployProgress struct {
	ProjectID     string            `json:"projectId,omitempty"`
	ServiceID     string            `json:"serviceId,omitempty"`
	EnvironmentID string            `json:"environmentId,omitempty"`
	DatabaseID    string            `json:"databaseId,omitempty"`
	DeploymentID  string            `json:"deploymentId,omitempty"`
	URL           string            `json:"url,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"`
}

// Get reads an Extra value.
func (p *DeployProgress) Get(key string) string {
	if p == nil || p.Extra == nil {
		return ""
	}
	return p.Extra[key]
}

// Set records an Extra value ("" deletes it).
func (p *DeployProgress) Set(key, value string) {
	if value == "" {
		delete(p.Extra, key)
		return
	}
	if p.Extra == nil {
		p.Extra = map[string]string{}
	}
	p.Extra[key] = value
}

// DeployStatus is a deployment's state in Switchboard's words; each client
// maps its platform's states onto these.
type DeployStatus string

const (
	DeployQueued   DeployStatus = "queued"
	DeployBuilding DeployStatus = "building" // building or starting
	DeployReady    DeployStatus = "ready"
	DeployError    DeployStatus = "error"
	DeployCanceled DeployStatus = "canceled"
)

// Terminal reports whether the deployment will not change by itself.
func (s DeployStatus) Terminal() bool {
	return s == DeployReady || s == DeployError || s == DeployCanceled
}

// DeployState is a deployment's state as one status poll saw it.
type DeployState struct {
	Status DeployStatus
	URL    string
	// Message is the platform's own words about a failure (or a state
	// worth telling), safe to show.
	Message string
	// PlatformState is the platform's own state name (READY, build_failed).
	PlatformState string
}

// LogType is the kind of a build log line.
type LogType string

const (
	LogStdout  LogType = "stdout"
	LogStderr  LogType = "stderr"
	LogCommand LogType = "command"
	LogState   LogType = "state" // the deployment changed state
	LogExit    LogType = "exit"
	LogFatal   LogType = "fatal"
	LogInfo    LogType = "info"
)

// LogLine is one line of a deployment's build log.
type LogLine struct {
	At   time.Time
	Type LogType
	Text string
	// Cursor continues the log after this line (pass it as after).
	Cursor string
}

// Deployer deploys a project to one platform, one resumable step at a time.
// token is the user's credential at the platform (an OAuth access token or
// an API key); it never appears in an error. Every step takes the progress
// the earlier steps left and is idempotent given it: called again with the
// same progress it does not create a second project, service, database or
// deployment. Failures are *Error with a Reason.
type Deployer interface {
	// Whoami names the account the token belongs to; it also verifies an
	// API key or token (ReasonExpiredToken when it is refused).
	Whoami(ctx context.Context, token string) (Account, error)
	// CheckName reports whether a project may take the name in the scope
	// (DeploySpec.TeamID; "" for the token's own account), and a free name
	// to suggest when it may not. A name the platform's rules refuse is not
	// available; the suggestion is then a cleaned-up name that is free.
	CheckName(ctx context.Context, token, teamID, name string) (available bool, suggestion string, err error)
	// Validate checks a spec before anything is accepted, without calling
	// the platform: ReasonUnsupported for what the platform cannot do (a
	// file upload to Render), ReasonInvalid for a bad name, too many files,
	// or no source.
	Validate(spec DeploySpec) error
	// EnsureProject creates what the deployment lives in (project, service,
	// environment) unless p says it exists, and records the ids in p.
	EnsureProject(ctx context.Context, token string, spec DeploySpec, p *DeployProgress) error
	// ProvisionDatabase creates the database the spec asks for (unless
	// p.DatabaseID says it exists), waits for it, and returns its
	// connection string; "" when the spec asks for none. The string is a
	// secret: the caller seals it and never logs it.
	ProvisionDatabase(ctx context.Context, token string, spec DeploySpec, p *DeployProgress) (connectionString string, err error)
	// SetEnv sets the spec's environment variables so that the next build
	// sees them, without starting a build itself.
	SetEnv(ctx context.Context, token string, spec DeploySpec, p *DeployProgress) error
	// Upload sends the spec's files where the platform takes files; it
	// does nothing where the source is a repository or an image.
	Upload(ctx context.Context, token string, spec DeploySpec, p *DeployProgress) error
	// StartDeployment starts the deployment unless p.DeploymentID says one
	// was started already, and records its id and URL in p.
	StartDeployment(ctx context.Context, token string, spec DeploySpec, p *DeployProgress) error
	// Status is the deployment's state now.
	Status(ctx context.Context, token string, p DeployProgress) (DeployState, error)
	// Logs are the build log lines after the cursor ("" for the start),
	// and the cursor to continue from (the same one when nothing is new).
	Logs(ctx context.Context, token string, p DeployProgress, after string) ([]LogLine, string, error)
	// Cancel stops the deployment while it builds.
	Cancel(ctx context.Context, token string, p DeployProgress) error
	// Rollback makes an earlier deployment of the same project the live
	// one again.
	Rollback(ctx context.Context, token string, p DeployProgress, toDeploymentID string) error
}

// Paced is a Deployer whose platform limits requests tightly (Railway's
// Free plan: 100 an hour per token). The worker polls its status no more
// often than PollEvery and reads one page of logs per poll.
type Paced interface {
	PollEvery() time.Duration
}

// Sleep waits d, or less when ctx ends first (then it returns ctx's
// error): how a client polling a build and the worker pacing its polls
// wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MissingStep is the error of a step that needs what an earlier step
// records in the progress (what), when that step has not run.
func MissingStep(p ID, op, what string) error {
	return &Error{Platform: p, Op: op, Reason: ReasonInvalid, Message: what + " is not known yet: an earlier step has not run"}
}

// RollbackFollower is a Deployer whose rollback starts a new deployment at
// the platform (Render answers a rollback with a new deploy): StartRollback
// records that deployment in p (DeploymentID), and the worker follows its
// Status and Logs until it is live or fails, as for any build.
type RollbackFollower interface {
	StartRollback(ctx context.Context, token string, p *DeployProgress, toDeploymentID string) error
}

// Limits on a spec that hold for every platform. A platform's Validate adds
// its own (Vercel: 15,000 files).
const (
	MaxDeployFiles     = 15000
	MaxDeployFileBytes = 100 << 20 // one file; larger ones belong in a repository
	MaxEnvVars         = 500
)

// envKeyRE is compiled on first use, not in every function's cold start.
var envKeyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// CheckDeploySpec checks what holds for every platform: a project name,
// exactly one source, clean relative file paths without duplicates,
// environment variable names, and a known database engine. Errors are
// *Error with ReasonInvalid, for platform id.
func CheckDeploySpec(id ID, spec DeploySpec) error {
	bad := func(format string, args ...any) error {
		return &Error{Platform: id, Op: "validate deployment", Reason: ReasonInvalid, Message: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(spec.ProjectName) == "" {
		return bad("a project name is required")
	}
	sources := 0
	for _, given := range []bool{len(spec.Files) > 0, spec.Repo != "", spec.Image != ""} {
		if given {
			sources++
		}
	}
	switch {
	case sources == 0:
		return bad("give the project's files, a Git repository or an image")
	case sources > 1:
		return bad("give only one source: files, a Git repository or an image")
	}
	if spec.Branch != "" && spec.Repo == "" {
		return bad("a branch needs a Git repository")
	}
	if len(spec.Files) > MaxDeployFiles {
		return bad("%d files is more than the %d a deployment may have", len(spec.Files), MaxDeployFiles)
	}
	seen := make(map[string]bool, len(spec.Files))
	for _, f := range spec.Files {
		clean := path.Clean(f.Path)
		if f.Path == "" || strings.HasPrefix(f.Path, "/") || clean != f.Path || clean == "." || clean == ".." ||
			strings.HasPrefix(clean, "../") || strings.Contains(f.Path, "\\") {
			return bad("file path %q must be relative, clean and inside the project", f.Path)
		}
		if seen[f.Path] {
			return bad("file path %q is given twice", f.Path)
		}
		seen[f.Path] = true
		if len(f.Data) > MaxDeployFileBytes {
			return bad("file %q is larger than %d bytes", f.Path, MaxDeployFileBytes)
		}
	}
	if len(spec.Env) > MaxEnvVars {
		return bad("%d environment variables is more than %d", len(spec.Env), MaxEnvVars)
	}
	for k := range spec.Env {
		if !envKeyRE().MatchString(k) {
			return bad("environment variable name %q must be letters, digits and _ and not start with a digit", k)
		}
	}
	if spec.Database != "" && spec.Database != DatabasePostgres {
		return bad("database %q is not offered: only %q", spec.Database, DatabasePostgres)
	}
	return nil
}
