package devenv

import (
	"context"
	"fmt"
	"time"
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
// It is empty while no sandbox exists yet.
func Sandboxes() []Sandbox {
	return nil
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
