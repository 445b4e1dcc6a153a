// Package devenv prepares what the functions run in locally, for `make dev`
// (infra/cmd/dev) and `make invoke` (infra/cmd/invoke) alike: DynamoDB Local
// (or the one AWS_ENDPOINT_URL_DYNAMODB names), the table, the environment
// variables the functions read, and an aws.Config pointing at the local
// endpoints. It never changes the process's environment: the functions get
// it through app.Options.Getenv (a map over os.Getenv) and app.Options.AWS.
//
// Variables it sets when they are not set already:
//
//	TABLE_NAME                 switchboard-dev
//	AWS_REGION                 us-east-1
//	AWS_ACCESS_KEY_ID,
//	AWS_SECRET_ACCESS_KEY      dummy static credentials (DynamoDB Local takes any)
//	AWS_ENDPOINT_URL_DYNAMODB  the DynamoDB Local it started
//	LOCAL_KEK                  a random 256-bit key, kept in <cache>/local-kek.hex
//	                           so what was sealed can be opened after a restart;
//	                           not set when KMS_KEY_ID is
//
// Sandbox services (see Sandbox) may add more before the functions are built.
package devenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Defaults for the local stack.
const (
	DefaultTable  = "switchboard-dev"
	DefaultRegion = "us-east-1"
	// KEKFile holds LOCAL_KEK under the cache folder.
	KEKFile = "local-kek.hex"
)

// Options tune Prepare. The zero value is `make dev`'s.
type Options struct {
	// Root is the repository root; found from the working directory when empty.
	Root string
	// CacheDir keeps the stack's files (the KEK, the dev signing key, logs);
	// <Root>/.cache/dev when empty.
	CacheDir string
	// Getenv is the environment the stack starts from; os.Getenv when nil.
	Getenv func(string) string
	// Log receives progress lines; io.Discard when nil.
	Log io.Writer
}

// Env is a prepared local environment. Close it to stop what it started.
type Env struct {
	Root     string
	CacheDir string
	Table    string
	// Endpoint is DynamoDB's: the DynamoDB Local started, or the one
	// AWS_ENDPOINT_URL_DYNAMODB named.
	Endpoint string
	// StartedDynamoDB is true when Prepare started DynamoDB Local itself.
	StartedDynamoDB bool
	// AWS is the configuration the functions get: the region, the
	// credentials, and each service's endpoint from AWS_ENDPOINT_URL_<SERVICE>
	// or AWS_ENDPOINT_URL in this environment (read when a client is built,
	// so variables sandboxes add count).
	AWS aws.Config

	base   func(string) string
	log    io.Writer
	mu     sync.RWMutex
	vars   map[string]string
	order  []string
	dynamo *dynamolocal.Instance
	stops  []stopper
}

type stopper struct {
	name string
	stop func(context.Context) error
}

// Prepare makes the environment: it starts DynamoDB Local unless
// AWS_ENDPOINT_URL_DYNAMODB is set, creates the table, and fills in the
// variables listed in the package comment. On error, whatever it started is
// stopped.
func Prepare(ctx context.Context, opt Options) (_ *Env, err error) {
	e := &Env{base: opt.Getenv, log: opt.Log, vars: map[string]string{}}
	if e.base == nil {
		e.base = os.Getenv
	}
	if e.log == nil {
		e.log = io.Discard
	}
	defer func() {
		if err != nil {
			_ = e.Close(context.Background())
		}
	}()
	if e.Root = opt.Root; e.Root == "" {
		if e.Root, err = dynamolocal.FindRepoRoot(); err != nil {
			return nil, err
		}
	}
	if e.CacheDir = opt.CacheDir; e.CacheDir == "" {
		e.CacheDir = filepath.Join(e.Root, ".cache", "dev")
	}
	if err := os.MkdirAll(e.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}

	e.SetDefault("AWS_REGION", DefaultRegion)
	session := e.Getenv("AWS_SESSION_TOKEN")
	if e.Getenv("AWS_ACCESS_KEY_ID") == "" {
		// Both or neither: never a dummy id with the shell's secret.
		e.Set("AWS_ACCESS_KEY_ID", "local")
		e.Set("AWS_SECRET_ACCESS_KEY", "local")
		session = ""
	}
	e.Table = e.SetDefault("TABLE_NAME", DefaultTable)
	// The sample events' app (events/oauth-start.json returns to it), so
	// the sample authorization starts; a developer's own list wins.
	e.SetDefault("RETURN_URL_ALLOWLIST", "https://app.example.com")

	if e.Endpoint = e.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); e.Endpoint == "" {
		start := time.Now()
		logFile, err := os.OpenFile(filepath.Join(e.CacheDir, "dynamodb-local.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("devenv: %w", err)
		}
		e.stops = append(e.stops, stopper{"dynamodb-local log", func(context.Context) error { return logFile.Close() }})
		fmt.Fprintln(e.log, "devenv: starting DynamoDB Local (the first run fetches it)…")
		in, err := dynamolocal.Start(ctx, dynamolocal.Options{RepoRoot: e.Root, Log: logFile})
		if err != nil {
			return nil, err
		}
		e.dynamo, e.StartedDynamoDB, e.Endpoint = in, true, in.Endpoint
		e.Set("AWS_ENDPOINT_URL_DYNAMODB", in.Endpoint)
		fmt.Fprintf(e.log, "devenv: DynamoDB Local at %s (%s)\n", in.Endpoint, time.Since(start).Round(time.Millisecond))
	}

	if e.Getenv("KMS_KEY_ID") == "" && e.Getenv("LOCAL_KEK") == "" {
		kek, err := loadOrCreateKEK(filepath.Join(e.CacheDir, KEKFile))
		if err != nil {
			return nil, err
		}
		e.Set("LOCAL_KEK", kek)
	}

	e.AWS = aws.Config{
		Region:         e.Getenv("AWS_REGION"),
		Credentials:    credentials.NewStaticCredentialsProvider(e.Getenv("AWS_ACCESS_KEY_ID"), e.Getenv("AWS_SECRET_ACCESS_KEY"), session),
		ServiceOptions: []func(string, any){e.endpointFor},
	}
	if err := store.EnsureTable(ctx, e.DB(), e.Table); err != nil {
		return nil, fmt.Errorf("devenv: %w", err)
	}
	return e, nil
}

// Getenv reads the environment: what the stack set, else the base.
func (e *Env) Getenv(k string) string {
	e.mu.RLock()
	v, ok := e.vars[k]
	e.mu.RUnlock()
	if ok {
		return v
	}
	return e.base(k)
}

// Set sets a variable for the functions, over the developer's own.
func (e *Env) Set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.vars[k]; !ok {
		e.order = append(e.order, k)
	}
	e.vars[k] = v
}

// SetDefault sets a variable unless it is set already (by the developer or
// the stack) and returns its value.
func (e *Env) SetDefault(k, v string) string {
	if cur := e.Getenv(k); cur != "" {
		return cur
	}
	e.Set(k, v)
	return v
}

// Added lists the variables the stack set, in the order it set them, with
// their values; a value whose name says it is secret is masked.
func (e *Env) Added() [][2]string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([][2]string, 0, len(e.order))
	for _, k := range e.order {
		v := e.vars[k]
		if isSecretName(k) && v != "" {
			v = "(set)"
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

func isSecretName(k string) bool {
	k = strings.ToUpper(k)
	return slices.ContainsFunc([]string{"SECRET", "KEK", "TOKEN", "PASSWORD", "PRIVATE"}, func(w string) bool { return strings.Contains(k, w) })
}

// AppOptions are the options every app.* constructor gets: this
// environment, this AWS config, logs to log.
func (e *Env) AppOptions(log io.Writer) app.Options {
	cfg := e.AWS
	return app.Options{Getenv: e.Getenv, Log: log, AWS: &cfg}
}

// DB is a DynamoDB client for the local table.
func (e *Env) DB() *dynamodb.Client { return dynamodb.NewFromConfig(e.AWS) }

// OnClose registers stop to run at Close, before what was registered
// earlier (last in, first out).
func (e *Env) OnClose(name string, stop func(context.Context) error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stops = append(e.stops, stopper{name, stop})
}

// Close stops what the environment started, last first, DynamoDB Local
// last of all.
func (e *Env) Close(ctx context.Context) error {
	e.mu.Lock()
	stops := e.stops
	e.stops = nil
	e.mu.Unlock()
	var errs []error
	for i := len(stops) - 1; i >= 0; i-- {
		if err := stops[i].stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", stops[i].name, err))
		}
	}
	if e.dynamo != nil {
		e.dynamo.Stop()
		e.dynamo = nil
	}
	return errors.Join(errs...)
}

// endpointFor applies the SDK's endpoint variables, read from this
// environment rather than the process's: AWS_ENDPOINT_URL_<SERVICE ID>
// (upper case, spaces as underscores), else AWS_ENDPOINT_URL. DynamoDB
// Streams falls back to DynamoDB's endpoint, since DynamoDB Local serves
// both. Every SDK client's Options has BaseEndpoint *string.
func (e *Env) endpointFor(serviceID string, options any) {
	env := strings.ReplaceAll(strings.ToUpper(serviceID), " ", "_")
	ep := e.Getenv("AWS_ENDPOINT_URL_" + env)
	if ep == "" && env == "DYNAMODB_STREAMS" {
		ep = e.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	if ep == "" {
		ep = e.Getenv("AWS_ENDPOINT_URL")
	}
	if ep == "" {
		return
	}
	v := reflect.ValueOf(options)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	f := v.Elem().FieldByName("BaseEndpoint")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeFor[*string]() {
		f.Set(reflect.ValueOf(aws.String(ep)))
	}
}

// loadOrCreateKEK reads a 64-hex-digit key from path or makes one there
// (mode 0600). Two processes creating it at once agree on the first.
func loadOrCreateKEK(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var b [32]byte
		if _, rerr := rand.Read(b[:]); rerr != nil {
			return "", rerr
		}
		kek := hex.EncodeToString(b[:])
		werr := writeNewFile(path, []byte(kek+"\n"))
		if werr == nil {
			return kek, nil
		}
		if !errors.Is(werr, fs.ErrExist) {
			return "", fmt.Errorf("devenv: saving the local KEK: %w", werr)
		}
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("devenv: reading the local KEK: %w", err)
	}
	kek := strings.TrimSpace(string(raw))
	if b, err := hex.DecodeString(kek); err != nil || len(b) != 32 {
		return "", fmt.Errorf("devenv: %s does not hold a 256-bit hex key; restore it (what it sealed needs it) or delete it", path)
	}
	return kek, nil
}

// writeNewFile writes data to path with mode 0600, whole or not at all;
// fs.ErrExist means path exists already.
func writeNewFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}

// Timeout is a function's Lambda timeout as template.yaml sets it: the HTTP
// functions 29 s (inside API Gateway's 30 s), stream-scheduler 120 s,
// token-refresher 300 s, deploy-worker 900 s, event-dispatcher 60 s.
func Timeout(function string) time.Duration {
	switch function {
	case app.StreamSched:
		return 120 * time.Second
	case app.TokenRefresher:
		return 300 * time.Second
	case app.DeployWorker:
		return 900 * time.Second
	case app.EventDispatcher:
		return 60 * time.Second
	}
	return 29 * time.Second
}
