package app_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

func vars(kv ...string) app.Getenv {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestConfigDefaultsAreInCode(t *testing.T) {
	t.Parallel()
	c, err := app.LoadConfig(vars("TABLE_NAME", "t"))
	if err != nil {
		t.Fatal(err)
	}
	want := app.Config{
		Table: "t", LogLevel: slog.LevelInfo, RefreshConcurrency: 32, StreamSchedulerConcurrency: 200,
		MaxDeploymentsPerHour: deploy.DefaultMaxPerHour, MaxRollbacksPerHour: deploy.DefaultMaxRollbacksPerHour,
		DeploymentTimeout: deploy.DefaultTimeout, DeployLease: deploy.DefaultLease, DeployPollInterval: deploy.DefaultPollInterval,
	}
	got := c
	got.Endpoints, got.PlatformSettings = nil, nil
	if got.Table != want.Table || got.LogLevel != want.LogLevel || got.RefreshConcurrency != want.RefreshConcurrency ||
		got.StreamSchedulerConcurrency != want.StreamSchedulerConcurrency || got.MaxDeploymentsPerHour != want.MaxDeploymentsPerHour ||
		got.MaxRollbacksPerHour != want.MaxRollbacksPerHour || got.DeploymentTimeout != want.DeploymentTimeout ||
		got.DeployLease != want.DeployLease || got.DeployPollInterval != want.DeployPollInterval {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	for _, p := range registry.Registrations() {
		if _, ok := c.Endpoints[p.ID]; !ok {
			t.Errorf("no endpoints for %s", p.ID)
		}
		for _, s := range p.Settings {
			if v, ok := c.PlatformSettings[p.ID][s.Name]; !ok || v != "" {
				t.Errorf("%s: setting %s = %q, %v; want unset (the platform's default applies)", p.ID, s.Name, v, ok)
			}
			if s.Default == "" {
				t.Errorf("%s: setting %s names no default", p.ID, s.Name)
			}
		}
	}
}

func TestConfigReadsEveryVariable(t *testing.T) {
	t.Parallel()
	c, err := app.LoadConfig(vars("TABLE_NAME", "t", "TENANT_CLAIM", "sub", "LOG_LEVEL", "DEBUG",
		"RETURN_URL_ALLOWLIST", " https://a.example , https://b.example", "REFRESH_CONCURRENCY", "64",
		"STREAM_SCHEDULER_CONCURRENCY", "3", "MAX_DEPLOYMENTS_PER_HOUR", "100000", "MAX_ROLLBACKS_PER_HOUR", "7",
		"DEPLOYMENT_TIMEOUT_MS", "10000", "DEPLOY_LEASE_MS", "2000", "DEPLOY_POLL_INTERVAL_MS", "20",
		"RAILWAY_POLL_INTERVAL_MS", "1000", "RAILWAY_UNDOCUMENTED_UPLOAD", "true", "JITSI_PUBLIC_URL", "http://127.0.0.1:1",
		"YOUTUBE_API_URL", "http://127.0.0.1:2/"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantClaim != "sub" || c.LogLevel != slog.LevelDebug || strings.Join(c.ReturnAllowlist, " ") != "https://a.example https://b.example" ||
		c.RefreshConcurrency != 64 || c.StreamSchedulerConcurrency != 3 || c.MaxDeploymentsPerHour != 100000 ||
		c.MaxRollbacksPerHour != 7 || c.DeploymentTimeout != 10*time.Second || c.DeployLease != 2*time.Second ||
		c.DeployPollInterval != 20*time.Millisecond || c.PlatformSettings[railway.ID]["RAILWAY_POLL_INTERVAL_MS"] != "1000" ||
		c.PlatformSettings[railway.ID]["RAILWAY_UNDOCUMENTED_UPLOAD"] != "true" ||
		c.PlatformSettings[jitsi.ID]["JITSI_PUBLIC_URL"] != "http://127.0.0.1:1" || c.Endpoints[youtube.ID].APIURL != "http://127.0.0.1:2" {
		t.Fatalf("%+v", c)
	}
}

func TestConfigRefusesBadValuesNamingEach(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, value string }{
		{"REFRESH_CONCURRENCY", "eight"},
		{"REFRESH_CONCURRENCY", "0"},
		{"STREAM_SCHEDULER_CONCURRENCY", "-1"},
		{"MAX_DEPLOYMENTS_PER_HOUR", "1.5"},
		{"MAX_ROLLBACKS_PER_HOUR", "lots"},
		{"DEPLOYMENT_TIMEOUT_MS", "5m"},
		{"DEPLOY_LEASE_MS", "0"},
		{"DEPLOY_POLL_INTERVAL_MS", "x"},
		{"RAILWAY_POLL_INTERVAL_MS", "20s"},
		{"RAILWAY_UNDOCUMENTED_UPLOAD", "yes"},
		{"LOG_LEVEL", "verbose"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			t.Parallel()
			_, err := app.LoadConfig(vars("TABLE_NAME", "t", c.name, c.value))
			if err == nil || !strings.Contains(err.Error(), c.name) {
				t.Fatalf("%s=%q: error %v, want one naming the variable", c.name, c.value, err)
			}
		})
	}
	t.Run("every bad value at once", func(t *testing.T) {
		t.Parallel()
		_, err := app.LoadConfig(vars("REFRESH_CONCURRENCY", "x", "DEPLOY_LEASE_MS", "y"))
		for _, name := range []string{"TABLE_NAME", "REFRESH_CONCURRENCY", "DEPLOY_LEASE_MS"} {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v does not name %s", err, name)
			}
		}
	})
}

func TestFunctionsRefuseToStartWithABadValue(t *testing.T) {
	t.Parallel()
	opt := app.Options{Getenv: vars("TABLE_NAME", "t", "MAX_DEPLOYMENTS_PER_HOUR", "ten")}
	if _, err := app.HTTP(t.Context(), app.Deployments, opt); err == nil || !strings.Contains(err.Error(), "MAX_DEPLOYMENTS_PER_HOUR") {
		t.Fatalf("started with MAX_DEPLOYMENTS_PER_HOUR=ten: %v", err)
	}
}

func TestConfigVarsListsWhatLoadConfigReads(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	_, _ = app.LoadConfig(func(k string) string { read[k] = true; return "" })
	listed := map[string]bool{}
	for _, v := range app.ConfigVars() {
		listed[v.Name] = true
		if !read[v.Name] {
			t.Errorf("ConfigVars lists %s, which LoadConfig does not read", v.Name)
		}
		if v.Default == "" || v.Meaning == "" {
			t.Errorf("%s has no default or meaning", v.Name)
		}
	}
	platformVar := func(k string) bool { // <PLATFORM>_*, read by platform.LoadEndpoints
		for _, p := range registry.All() {
			if strings.HasPrefix(k, p.ID.EnvPrefix()+"_") {
				return true
			}
		}
		return false
	}
	for k := range read {
		if !listed[k] && !platformVar(k) {
			t.Errorf("LoadConfig reads %s, which ConfigVars does not list", k)
		}
	}
}
