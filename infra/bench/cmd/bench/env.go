package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// region is the AWS region every part of the bench names.
const region = "us-east-1"

// world is what the functions run against: DynamoDB Local with one table,
// the KMS fake, and the platform sandbox (the OAuth mock and every fake).
// The functions' own processes (cold start) and the in-process stack
// (round trips, latency) share it.
type world struct {
	ddb     *dynamolocal.Instance
	kms     *kmsfake.Server
	sb      *sandbox.Sandbox
	table   string
	gwLn    net.Listener // the gateway's listener: the OAuth callbacks point at it
	gwBase  string
	env     map[string]string // the functions' configuration
	counter *roundtrip.Counter
	replays *replays          // the like-for-like baselines' recordings
	labels  map[string]string // host:port -> what it is, for counted HTTP calls
}

// benchCredentials are the static AWS credentials of every part of the
// bench, in process and in the functions' processes (AWS_ACCESS_KEY_ID).
var benchCredentials = credentials.NewStaticCredentialsProvider(accessKeyID, "bench", "")

const accessKeyID = "bench"

// appURL is the SaaS app that OAuth flows return to; it is never called.
const appURL = "https://app.example.com"

func startWorld(ctx context.Context, logf func(string, ...any)) (*world, error) {
	w := &world{counter: &roundtrip.Counter{}, replays: &replays{}}
	ok := false
	defer func() {
		if !ok {
			w.close()
		}
	}()
	var err error
	logf("starting DynamoDB Local")
	if w.ddb, err = dynamolocal.Start(ctx, dynamolocal.Options{}); err != nil {
		return nil, err
	}
	w.table = dynamotest.TableName()
	// DynamoDB Local keeps one database per access key and region: the
	// table is made with the credentials every function uses.
	admin := dynamodb.NewFromConfig(aws.Config{Region: region, Credentials: benchCredentials},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(w.ddb.Endpoint) })
	if err := store.EnsureTable(ctx, admin, w.table); err != nil {
		return nil, err
	}
	w.kms = kmsfake.New()
	if w.gwLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	w.gwBase = "http://" + w.gwLn.Addr().String()
	logf("starting the platform sandbox (OAuth mock and fakes)")
	if w.sb, err = sandbox.Start(ctx, sandbox.Options{CallbackBase: w.gwBase}); err != nil {
		return nil, err
	}
	w.env = w.sb.Env()
	w.env["TABLE_NAME"] = w.table
	w.env["KMS_KEY_ID"] = w.kms.KeyID()
	w.env["RETURN_URL_ALLOWLIST"] = appURL
	w.labels = map[string]string{hostOf(w.sb.OAuth.URL): "oauth-mock"}
	for _, d := range registry.All() {
		if u := w.env[d.ID.EnvPrefix()+"_API_URL"]; u != "" {
			w.labels[hostOf(u)] = string(d.ID)
		}
	}
	w.counter.Label = func(host string) string { return w.labels[host] }
	ok = true
	return w, nil
}

func (w *world) close() {
	if w.sb != nil {
		w.sb.Close()
	}
	if w.kms != nil {
		w.kms.Close()
	}
	if w.gwLn != nil {
		_ = w.gwLn.Close()
	}
	if w.ddb != nil {
		w.ddb.Stop()
	}
}

// getenv is the in-process functions' configuration: the world's, and
// nothing from the bench's own environment.
func (w *world) getenv(extra map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := extra[k]; ok {
			return v
		}
		return w.env[k]
	}
}

// awsConfig is the in-process functions' AWS configuration, built as
// Lambda's is (app.AWSFromEnv) from the variables a function's process
// gets (bootEnv: static credentials, DynamoDB and KMS pointed at the
// world), with the round-trip counter on every client's stack.
func (w *world) awsConfig(context.Context) (aws.Config, error) {
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		// The SDK's clients then ignore per-service endpoints from config sources.
		return aws.Config{}, fmt.Errorf("unset AWS_ENDPOINT_URL: the bench points DynamoDB and KMS at its own emulators")
	}
	vars := w.awsVars()
	cfg, err := app.AWSFromEnv(func(k string) string { return vars[k] }, nil)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.APIOptions = append(cfg.APIOptions, w.counter.AddTo, w.replays.AddTo)
	return cfg, nil
}

// awsVars are the AWS variables Lambda (or the bench in its place) sets in
// a function's process.
func (w *world) awsVars() map[string]string {
	return map[string]string{
		"AWS_REGION": region, "AWS_DEFAULT_REGION": region,
		"AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
		"AWS_ENDPOINT_URL_DYNAMODB": w.ddb.Endpoint, "AWS_ENDPOINT_URL_KMS": w.kms.URL,
	}
}

// bootEnv is the environment of a function's own process: what Lambda
// sets, the world's configuration and extra. Nothing is inherited from the
// bench's environment, so a developer's AWS profile cannot leak in.
func (w *world) bootEnv(function, home string, extra map[string]string) []string {
	env := map[string]string{
		"HOME": home, "TZ": ":UTC", "LANG": "en_US.UTF-8",
		"AWS_LAMBDA_FUNCTION_NAME": "switchboard-" + function, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "_HANDLER": "bootstrap",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for k, v := range w.awsVars() {
		env[k] = v
	}
	for k, v := range w.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
