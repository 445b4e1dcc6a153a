package app

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
)

// Config is the whole configuration of a function, parsed once at cold
// start by LoadConfig. Every value has its default here; a value that is
// set but cannot be read stops the start with an error naming it, never
// a silent fallback to the default.
//
// The vault's variables (KMS_KEY_ID, LOCAL_KEK, ALLOW_LOCAL_KEK_IN_LAMBDA)
// are read by vault.FromEnv, which checks them; the platforms' endpoints
// (<PLATFORM>_AUTH_URL, _TOKEN_URL, _API_URL, _CLIENT_ID, ...) by
// platform.LoadEndpoints, parsed here into Endpoints.
type Config struct {
	Table           string     // TABLE_NAME: the DynamoDB table; required
	TenantClaim     string     // TENANT_CLAIM: the JWT claim that names the tenant
	LogLevel        slog.Level // LOG_LEVEL
	ReturnAllowlist []string   // RETURN_URL_ALLOWLIST: where an OAuth returnTo may point

	RefreshConcurrency         int // REFRESH_CONCURRENCY
	StreamSchedulerConcurrency int // STREAM_SCHEDULER_CONCURRENCY

	MaxDeploymentsPerHour     int           // MAX_DEPLOYMENTS_PER_HOUR
	MaxRollbacksPerHour       int           // MAX_ROLLBACKS_PER_HOUR
	DeploymentTimeout         time.Duration // DEPLOYMENT_TIMEOUT_MS
	DeployLease               time.Duration // DEPLOY_LEASE_MS
	DeployPollInterval        time.Duration // DEPLOY_POLL_INTERVAL_MS
	RailwayPollInterval       time.Duration // RAILWAY_POLL_INTERVAL_MS
	RailwayUndocumentedUpload bool          // RAILWAY_UNDOCUMENTED_UPLOAD
	VercelUploadConcurrency   int           // VERCEL_UPLOAD_CONCURRENCY

	JitsiPublicURL           string // JITSI_PUBLIC_URL; the jitsi package's default when empty
	GoogleMeetCalendarAPIURL string // GOOGLE_MEET_CALENDAR_API_URL; Google's when empty
	GoogleMeetUserinfoURL    string // GOOGLE_MEET_USERINFO_URL; Google's when empty

	// Endpoints are every platform's endpoints from its <PLATFORM>_*
	// variables, over the vendors' defaults.
	Endpoints map[platform.ID]platform.Endpoints
}

// ConfigVar is one variable LoadConfig reads, with its default and what it
// sets; `make dev` lists them.
type ConfigVar struct {
	Name, Default, Meaning string
}

// ConfigVars lists the variables LoadConfig reads besides the platforms'
// endpoints, in the order a reader meets them.
func ConfigVars() []ConfigVar {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	return []ConfigVar{
		{"TABLE_NAME", "(required)", "the DynamoDB table"},
		{"TENANT_CLAIM", "tenant_id", "the JWT claim that names the tenant"},
		{"LOG_LEVEL", "info", "info, or debug for more"},
		{"RETURN_URL_ALLOWLIST", "(none)", "comma-separated origins an OAuth returnTo may point at"},
		{"REFRESH_CONCURRENCY", strconv.Itoa(defaultConcurrency), "token-refresher's parallel checks"},
		{"STREAM_SCHEDULER_CONCURRENCY", strconv.Itoa(defaultStreamConcurrency), "livestreams the scheduler moves at once"},
		{"MAX_DEPLOYMENTS_PER_HOUR", strconv.Itoa(deploy.DefaultMaxPerHour), "deployments accepted per user in any sliding hour"},
		{"MAX_ROLLBACKS_PER_HOUR", strconv.Itoa(deploy.DefaultMaxRollbacksPerHour), "rollbacks accepted per user in any sliding hour (a window of their own)"},
		{"DEPLOYMENT_TIMEOUT_MS", ms(deploy.DefaultTimeout), "how long a deployment may run before it is timed_out"},
		{"DEPLOY_LEASE_MS", ms(deploy.DefaultLease), "how long a worker's claim holds without renewal; the sweep resumes a deployment this long after its last write"},
		{"DEPLOY_POLL_INTERVAL_MS", ms(deploy.DefaultPollInterval), "the worker's first wait between status polls"},
		{"RAILWAY_POLL_INTERVAL_MS", ms(railway.DefaultPollEvery), "how often a Railway deployment's status is read"},
		{"RAILWAY_UNDOCUMENTED_UPLOAD", "false", "true lets Railway deployments take files through the CLI's undocumented upload endpoint"},
		{"VERCEL_UPLOAD_CONCURRENCY", strconv.Itoa(vercel.DefaultUploadConcurrency), "Vercel file uploads at once (1 to 50)"},
		{"JITSI_PUBLIC_URL", "https://meet.jit.si", "where public Jitsi rooms are made"},
		{"GOOGLE_MEET_CALENDAR_API_URL", "(Google's)", "Google Meet's Calendar API base"},
		{"GOOGLE_MEET_USERINFO_URL", "(Google's)", "Google Meet's userinfo endpoint"},
	}
}

// defaultConcurrency is how many due items a scheduled run works on at once.
const defaultConcurrency = 8

// defaultStreamConcurrency is how many livestreams stream-scheduler moves
// at once: enough for 1,000 go-lives due in the same second to be sent
// within 5 s when each takes its platform ≈ 150 ms and the table a few
// writes (see BENCHMARKS.md, "On time"); the goroutines mostly wait.
const defaultStreamConcurrency = 200

// LoadConfig reads and checks the configuration. Every bad value is
// reported at once, each naming its variable.
func LoadConfig(getenv Getenv) (Config, error) {
	r := envReader{getenv: getenv}
	c := Config{
		Table:           r.str("TABLE_NAME"),
		TenantClaim:     r.str("TENANT_CLAIM"),
		LogLevel:        r.level("LOG_LEVEL"),
		ReturnAllowlist: splitList(getenv("RETURN_URL_ALLOWLIST")),

		RefreshConcurrency:         r.positive("REFRESH_CONCURRENCY", defaultConcurrency),
		StreamSchedulerConcurrency: r.positive("STREAM_SCHEDULER_CONCURRENCY", defaultStreamConcurrency),

		MaxDeploymentsPerHour:     r.positive("MAX_DEPLOYMENTS_PER_HOUR", deploy.DefaultMaxPerHour),
		MaxRollbacksPerHour:       r.positive("MAX_ROLLBACKS_PER_HOUR", deploy.DefaultMaxRollbacksPerHour),
		DeploymentTimeout:         r.millis("DEPLOYMENT_TIMEOUT_MS", deploy.DefaultTimeout),
		DeployLease:               r.millis("DEPLOY_LEASE_MS", deploy.DefaultLease),
		DeployPollInterval:        r.millis("DEPLOY_POLL_INTERVAL_MS", deploy.DefaultPollInterval),
		RailwayPollInterval:       r.millis("RAILWAY_POLL_INTERVAL_MS", railway.DefaultPollEvery),
		RailwayUndocumentedUpload: r.boolean("RAILWAY_UNDOCUMENTED_UPLOAD"),
		VercelUploadConcurrency:   r.vercelUploads("VERCEL_UPLOAD_CONCURRENCY"),

		JitsiPublicURL:           r.str("JITSI_PUBLIC_URL"),
		GoogleMeetCalendarAPIURL: r.str("GOOGLE_MEET_CALENDAR_API_URL"),
		GoogleMeetUserinfoURL:    r.str("GOOGLE_MEET_USERINFO_URL"),

		Endpoints: map[platform.ID]platform.Endpoints{},
	}
	for _, reg := range registry.Registrations() {
		c.Endpoints[reg.ID] = reg.LoadEndpoints(getenv)
	}
	if c.Table == "" {
		r.errs = append(r.errs, errors.New("TABLE_NAME is not set"))
	}
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("app: configuration: %w", err)
	}
	return c, nil
}

// envReader reads variables and collects what it cannot read.
type envReader struct {
	getenv Getenv
	errs   []error
}

func (r *envReader) str(name string) string { return strings.TrimSpace(r.getenv(name)) }

// vercelUploads reads Vercel's upload concurrency as the vercel package
// bounds it.
func (r *envReader) vercelUploads(name string) int {
	n, err := vercel.ParseUploadConcurrency(r.getenv(name))
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
	}
	return n
}

// positive reads a whole number above zero; def when unset.
func (r *envReader) positive(name string, def int) int {
	v := r.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not a whole number above zero", name, v))
		return def
	}
	return n
}

// millis reads a duration given in whole milliseconds above zero.
func (r *envReader) millis(name string, def time.Duration) time.Duration {
	return time.Duration(r.positive(name, int(def/time.Millisecond))) * time.Millisecond
}

// boolean reads true or false (strconv.ParseBool's spellings); false when unset.
func (r *envReader) boolean(name string) bool {
	v := r.str(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is neither true nor false", name, v))
	}
	return b
}

// level reads info or debug (template.yaml's LogLevel allows these two);
// info when unset.
func (r *envReader) level(name string) slog.Level {
	switch v := r.str(name); {
	case v == "" || strings.EqualFold(v, "info"):
		return slog.LevelInfo
	case strings.EqualFold(v, "debug"):
		return slog.LevelDebug
	default:
		r.errs = append(r.errs, fmt.Errorf("%s=%q is neither info nor debug", name, v))
		return slog.LevelInfo
	}
}
