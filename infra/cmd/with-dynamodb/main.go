// Command with-dynamodb starts DynamoDB Local, runs a command with
// AWS_ENDPOINT_URL_DYNAMODB pointing at it, and stops the emulator when the
// command ends. `make test` uses it so that every test package shares one
// emulator instead of starting its own.
//
//	go run ./infra/cmd/with-dynamodb -- go test ./...
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: with-dynamodb -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	os.Exit(run(args))
}

func run(args []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	in, err := dynamolocal.Start(ctx, dynamolocal.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "with-dynamodb: %v\n", err)
		return 1
	}
	defer in.Stop()
	fmt.Fprintf(os.Stderr, "with-dynamodb: DynamoDB Local at %s\n", in.Endpoint)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_DYNAMODB="+in.Endpoint)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "with-dynamodb: %v\n", err)
		return 1
	}
	go func() {
		s := <-sig
		_ = cmd.Process.Signal(s)
	}()
	err = cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "with-dynamodb: %v\n", err)
		return 1
	}
	return 0
}
