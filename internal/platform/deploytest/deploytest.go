// Package deploytest drives a platform.Deployer through its steps the way
// the deploy worker does, for the deploy clients' tests against their fakes.
package deploytest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Context is a test's context with a deadline, cancelled when it ends.
func Context(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// RunSteps runs the worker's steps in order: Validate, EnsureProject,
// ProvisionDatabase (putting a connection string into the environment as
// DATABASE_URL, as the worker does), SetEnv, Upload, StartDeployment. It
// returns the connection string, "" when no database was made.
func RunSteps(t testing.TB, d platform.Deployer, token string, spec *platform.DeploySpec, p *platform.DeployProgress) string {
	t.Helper()
	cx := Context(t)
	if err := d.Validate(*spec); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := d.EnsureProject(cx, token, *spec, p); err != nil {
		t.Fatalf("EnsureProject: %v", err)
	}
	conn, err := d.ProvisionDatabase(cx, token, *spec, p)
	if err != nil {
		t.Fatalf("ProvisionDatabase: %v", err)
	}
	if conn != "" {
		if spec.Env == nil {
			spec.Env = map[string]string{}
		}
		spec.Env["DATABASE_URL"] = conn
	}
	if err := d.SetEnv(cx, token, *spec, p); err != nil {
		t.Fatalf("SetEnv: %v", err)
	}
	if err := d.Upload(cx, token, *spec, p); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if err := d.StartDeployment(cx, token, *spec, p); err != nil {
		t.Fatalf("StartDeployment: %v", err)
	}
	return conn
}

// WaitTerminal polls Status and Logs (at most 20 rounds) until the
// deployment ends, then reads the logs once more for lines written as it
// ended, and returns its last state and every log line.
func WaitTerminal(t testing.TB, d platform.Deployer, token string, p platform.DeployProgress) (platform.DeployState, []platform.LogLine) {
	t.Helper()
	var (
		lines  []platform.LogLine
		cursor string
		seen   []platform.DeployStatus
	)
	for range 20 {
		st, err := d.Status(Context(t), token, p)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		seen = append(seen, st.Status)
		got, next, err := d.Logs(Context(t), token, p, cursor)
		if err != nil {
			t.Fatalf("Logs: %v", err)
		}
		lines, cursor = append(lines, got...), next
		if st.Status.Terminal() {
			got, _, err := d.Logs(Context(t), token, p, cursor)
			if err != nil {
				t.Fatalf("Logs: %v", err)
			}
			return st, append(lines, got...)
		}
	}
	t.Fatalf("the deployment never ended: %v", seen)
	return platform.DeployState{}, nil
}

// Joined is the log lines as text, one "type: text" line each.
func Joined(lines []platform.LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(string(l.Type) + ": " + l.Text + "\n")
	}
	return b.String()
}
