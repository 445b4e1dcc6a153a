// Package npmci installs a tool's npm packages exactly as its
// package-lock.json pins them (npm ci), once, when they are missing or older
// than the lock: the OAuth mock (infra/oauth-mock) and axe-core for the
// browser tests (infra/a11y) use it on first use, as their Makefile targets do.
package npmci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// installMu serialises Ensure within a process; a file lock does it across
// processes (go test runs packages in parallel).
var installMu sync.Mutex

// Ensure runs npm ci in dir when node_modules lacks pkg or is older than
// package-lock.json, and fails with npm's output when npm does.
func Ensure(ctx context.Context, dir, pkg string, log io.Writer) error {
	if Installed(dir, pkg) {
		return nil
	}
	installMu.Lock()
	defer installMu.Unlock()
	sum := sha256.Sum256([]byte(dir))
	lockPath := filepath.Join(os.TempDir(), "switchboard-npmci-"+hex.EncodeToString(sum[:8])+".lock")
	lf, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("npmci: install lock: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("npmci: install lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) }()
	if Installed(dir, pkg) { // another process did it while we waited
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npmci: %s/node_modules is missing and npm is not on PATH to install it: %w", dir, err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", dir, "--no-audit", "--no-fund")
	cmd.Dir = dir
	if log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, log), io.MultiWriter(&out, log)
	} else {
		cmd.Stdout, cmd.Stderr = &out, &out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npmci: npm ci --prefix %s failed: %w\n%s", dir, err, strings.TrimSpace(out.String()))
	}
	if !Installed(dir, pkg) {
		return fmt.Errorf("npmci: npm ci --prefix %s succeeded but %s is still not installed\n%s", dir, pkg, strings.TrimSpace(out.String()))
	}
	return nil
}

// Installed reports whether dir's node_modules holds pkg and is no older than
// package-lock.json: npm writes node_modules/.package-lock.json when an
// install completes, and an older one means the lock moved on.
func Installed(dir, pkg string) bool {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		return false
	}
	hidden, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return false
	}
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return true // no lock to compare with; npm ci would fail anyway
	}
	return !hidden.ModTime().Before(lock.ModTime())
}
