package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
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
	// PublicBaseURL is the API's public base URL (PUBLIC_BASE_URL): connect
	// links are <PublicBaseURL>/connect/<token>; empty: none can be made.
	PublicBaseURL string
	// ConnectFrameAncestors are the origins that may show the connect page
	// in a frame (CONNECT_FRAME_ANCESTORS); none: it cannot be framed.
	ConnectFrameAncestors []httpapi.Origin

	RefreshConcurrency         int // REFRESH_CONCURRENCY
	StreamSchedulerConcurrency int // STREAM_SCHEDULER_CONCURRENCY

	MaxDeploymentsPerHour int           // MAX_DEPLOYMENTS_PER_HOUR
	MaxRollbacksPerHour   int           // MAX_ROLLBACKS_PER_HOUR
	DeploymentTimeout     time.Duration // DEPLOYMENT_TIMEOUT_MS
	DeployLease           time.Duration // DEPLOY_LEASE_MS
	DeployPollInterval    time.Duration // DEPLOY_POLL_INTERVAL_MS

	// WebhooksAllowLoopback (WEBHOOKS_ALLOW_LOOPBACK) lets webhook
	// endpoints be http or https URLs on loopback: make dev's local
	// receivers. Off by default, and in AWS.
	WebhooksAllowLoopback bool

	// Endpoints are every platform's endpoints from its <PLATFORM>_*
	// variables, over the vendors' defaults.
	Endpoints map[platform.ID]platform.Endpoints
	// PlatformSettings are the values of each platform's own Settings
	// (VERCEL_UPLOAD_CONCURRENCY, JITSI_PUBLIC_URL, ...), checked by the
	// platform's package; "" when unset.
	PlatformSettings map[platform.ID]map[string]string
}

// ConfigVar is one variable LoadConfig reads, with its default and what it
// sets; `make dev` lists them.
type ConfigVar struct {
	Name, Default, Meaning string
}

// ConfigVars lists the variables LoadConfig reads besides the platforms'
// endpoints, in the order a reader meets them: Switchboard's own, then each
// platform's Settings.
func ConfigVars() []ConfigVar {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	vars := []ConfigVar{
		{"TABLE_NAME", "(required)", "the DynamoDB table"},
		{"TENANT_CLAIM", "tenant_id", "the JWT claim that names the tenant"},
		{"LOG_LEVEL", "info", "info, or debug for more"},
		{"RETURN_URL_ALLOWLIST", "(none)", "comma-separated origins an OAuth returnTo may point at"},
		{"PUBLIC_BASE_URL", "(none: no connect links)", "the API's public base URL; connect links are <base>/connect/<token>"},
		{"CONNECT_FRAME_ANCESTORS", "(none: never framed)", "comma-separated origins that may show the connect page in a frame"},
		{"REFRESH_CONCURRENCY", strconv.Itoa(defaultRefreshConcurrency), "token-refresher's parallel checks"},
		{"STREAM_SCHEDULER_CONCURRENCY", strconv.Itoa(defaultStreamConcurrency), "livestreams the scheduler moves at once"},
		{"MAX_DEPLOYMENTS_PER_HOUR", strconv.Itoa(deploy.DefaultMaxPerHour), "deployments accepted per user in any sliding hour"},
		{"MAX_ROLLBACKS_PER_HOUR", strconv.Itoa(deploy.DefaultMaxRollbacksPerHour), "rollbacks accepted per user in any sliding hour (a window of their own)"},
		{"DEPLOYMENT_TIMEOUT_MS", ms(deploy.DefaultTimeout), "how long a deployment may run before it is timed_out"},
		{"DEPLOY_LEASE_MS", ms(deploy.DefaultLease), "how long a worker's claim holds without renewal; the sweep resumes a deployment this long after its last write"},
		{"DEPLOY_POLL_INTERVAL_MS", ms(deploy.DefaultPollInterval), "the worker's first wait between status polls"},
		{"WEBHOOKS_ALLOW_LOOPBACK", "false", "true lets webhook endpoints be loopback URLs (make dev's local receivers)"},
	}
	for _, reg := range registry.Registrations() {
		for _, s := range reg.Settings {
			vars = append(vars, ConfigVar{s.Name, s.Default, s.Meaning})
		}
	}
	return vars
}

// defaultRefreshConcurrency is token-refresher's: a refresh mostly waits on
// a token endpoint, and 10,000 due at once must be done well within the
// run's 300 s (BENCHMARKS.md, “Refreshes at scale”: at 8 a refresh at
// 150 ms of token latency left ≈ 38 a second, ≈ 260 s for 10,000).
const defaultRefreshConcurrency = 32

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
		Table:                 r.str("TABLE_NAME"),
		TenantClaim:           r.str("TENANT_CLAIM"),
		LogLevel:              r.level("LOG_LEVEL"),
		ReturnAllowlist:       splitList(getenv("RETURN_URL_ALLOWLIST")),
		PublicBaseURL:         r.baseURL("PUBLIC_BASE_URL"),
		ConnectFrameAncestors: r.origins("CONNECT_FRAME_ANCESTORS"),

		RefreshConcurrency:         r.positive("REFRESH_CONCURRENCY", defaultRefreshConcurrency),
		StreamSchedulerConcurrency: r.positive("STREAM_SCHEDULER_CONCURRENCY", defaultStreamConcurrency),

		MaxDeploymentsPerHour: r.positive("MAX_DEPLOYMENTS_PER_HOUR", deploy.DefaultMaxPerHour),
		MaxRollbacksPerHour:   r.positive("MAX_ROLLBACKS_PER_HOUR", deploy.DefaultMaxRollbacksPerHour),
		DeploymentTimeout:     r.millis("DEPLOYMENT_TIMEOUT_MS", deploy.DefaultTimeout),
		DeployLease:           r.millis("DEPLOY_LEASE_MS", deploy.DefaultLease),
		DeployPollInterval:    r.millis("DEPLOY_POLL_INTERVAL_MS", deploy.DefaultPollInterval),

		WebhooksAllowLoopback: r.boolean("WEBHOOKS_ALLOW_LOOPBACK"),

		Endpoints:        map[platform.ID]platform.Endpoints{},
		PlatformSettings: map[platform.ID]map[string]string{},
	}
	for _, reg := range registry.Registrations() {
		c.Endpoints[reg.ID] = reg.LoadEndpoints(getenv)
		c.PlatformSettings[reg.ID] = r.settings(reg.Settings)
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

// settings reads a platform's own variables, each checked by its
// platform's package.
func (r *envReader) settings(settings []platform.Setting) map[string]string {
	out := make(map[string]string, len(settings))
	for _, s := range settings {
		v := r.str(s.Name)
		if v != "" && s.Check != nil {
			if err := s.Check(v); err != nil {
				r.errs = append(r.errs, fmt.Errorf("%s: %w", s.Name, err))
				continue
			}
		}
		out[s.Name] = v
	}
	return out
}

// baseURL reads an absolute http(s) URL without query or fragment, its
// trailing slash cut; "" when unset.
func (r *envReader) baseURL(name string) string {
	v := r.str(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		r.errs = append(r.errs, fmt.Errorf("%s=%q is not an http(s) base URL", name, v))
		return ""
	}
	return strings.TrimRight(v, "/")
}

// origins reads a comma-separated list of web origins (httpapi.ParseOrigins).
func (r *envReader) origins(name string) []httpapi.Origin {
	list, err := httpapi.ParseOrigins(r.getenv(name))
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
	}
	return list
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

// boolean reads true or false (strconv.ParseBool's spellings); false when unset.
func (r *envReader) boolean(name string) bool {
	b, err := platform.Bool(r.str(name))
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
	}
	return b
}
