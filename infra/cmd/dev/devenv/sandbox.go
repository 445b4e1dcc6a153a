package devenv

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// Sandbox is a local stand-in for an outside service the functions talk to:
// an OAuth authorization server, a platform's API fake, a KMS double. dev and
// invoke start every sandbox of Sandboxes, in order, after DynamoDB Local and
// the table and before they build the functions, so what a sandbox sets in
// the environment is what the functions read.
//
// Start serves the sandbox (on 127.0.0.1:0, say), tells the functions where
// it is through env (env.Set("YOUTUBE_AUTH_URL", srv.URL+"/authorize"), or
// env.SetDefault to let the developer's own variable win) and returns how to
// stop it; dev stops sandboxes in reverse order on Ctrl-C. A sandbox may read
// env (env.Getenv, env.CacheDir for files that should outlive a restart,
// env.AWS for AWS clients). A Start that fails stops the stack.
type Sandbox struct {
	Name  string
	Start func(ctx context.Context, env *Env) (stop func(context.Context) error, err error)
}

// Sandboxes is the extension point: the sandbox services of the local stack,
// started in this order. Add one entry per service here, e.g.
//
//	{Name: "oauth", Start: startOAuthServer},        // oauth2-mock-server; sets <PLATFORM>_AUTH_URL, _TOKEN_URL, ...
//	{Name: "platform fakes", Start: startFakes},     // sets <PLATFORM>_API_URL for each platform
//
// The platform sandbox (infra/sandbox) is the one service: the OAuth mock
// as every provider and a fake of every platform's API. A platform whose
// <PLATFORM>_CLIENT_ID the developer set keeps its real endpoints;
// SWITCHBOARD_SANDBOX=off turns the sandbox off altogether.
func Sandboxes() []Sandbox {
	return []Sandbox{{Name: "platforms", Start: startPlatformSandbox}}
}

func startPlatformSandbox(ctx context.Context, env *Env) (func(context.Context) error, error) {
	if strings.EqualFold(env.Getenv("SWITCHBOARD_SANDBOX"), "off") {
		return nil, nil
	}
	base := env.Getenv("PUBLIC_BASE_URL")
	if base == "" {
		base = "http://127.0.0.1:3000"
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{CallbackBase: base, RepoRoot: env.Root, Encoder: true})
	if err != nil {
		return nil, err
	}
	real := map[string]bool{}
	for _, d := range registry.All() {
		if env.Getenv(d.ID.EnvPrefix()+"_CLIENT_ID") != "" {
			real[d.ID.EnvPrefix()+"_"] = true
		}
	}
	for k, v := range sb.Env() {
		if real[platformPrefix(k)] {
			continue
		}
		env.SetDefault(k, v)
	}
	return func(context.Context) error { sb.Close(); return nil }, nil
}

// platformPrefix is the <PLATFORM>_ part of a variable name, "" for others.
func platformPrefix(k string) string {
	for _, d := range registry.All() {
		if p := d.ID.EnvPrefix() + "_"; strings.HasPrefix(k, p) {
			return p
		}
	}
	return ""
}

// StartSandboxes starts each sandbox in order and registers its stop with
// Close. It returns the first failure; the sandboxes started before it stay
// registered, so Close stops them.
func (e *Env) StartSandboxes(ctx context.Context, list []Sandbox) error {
	for _, s := range list {
		start := time.Now()
		stop, err := s.Start(ctx, e)
		if err != nil {
			return fmt.Errorf("devenv: starting sandbox %s: %w", s.Name, err)
		}
		if stop != nil {
			e.OnClose("sandbox "+s.Name, stop)
		}
		fmt.Fprintf(e.log, "devenv: sandbox %s started (%s)\n", s.Name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
