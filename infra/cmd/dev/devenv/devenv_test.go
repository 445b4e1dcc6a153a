package devenv_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// prepare runs Prepare over vars, then the process environment (which holds
// dynamotest's AWS_ENDPOINT_URL_DYNAMODB), with a fresh table and cache.
func prepare(t *testing.T, vars map[string]string) (*devenv.Env, string) {
	t.Helper()
	if _, ok := vars["TABLE_NAME"]; !ok {
		vars["TABLE_NAME"] = dynamotest.TableName()
	}
	cache := t.TempDir()
	env, err := devenv.Prepare(context.Background(), devenv.Options{CacheDir: cache, Getenv: func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return os.Getenv(k)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = env.DB().DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(env.Table)})
		_ = env.Close(context.Background())
	})
	return env, cache
}

func TestPrepareFillsTheFunctionsEnvironmentWithoutTouchingTheProcess(t *testing.T) {
	t.Parallel()
	env, cache := prepare(t, map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_REGION": "", "LOCAL_KEK": "", "KMS_KEY_ID": ""})
	for k, want := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		if got := env.Getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	kek := env.Getenv("LOCAL_KEK")
	if b, err := hex.DecodeString(kek); err != nil || len(b) != 32 {
		t.Fatalf("LOCAL_KEK %q is not a 256-bit hex key", kek)
	}
	raw, err := os.ReadFile(filepath.Join(cache, devenv.KEKFile))
	if err != nil || strings.TrimSpace(string(raw)) != kek {
		t.Fatalf("the KEK file holds %q (%v)", raw, err)
	}
	if info, _ := os.Stat(filepath.Join(cache, devenv.KEKFile)); info.Mode().Perm() != 0o600 {
		t.Errorf("KEK file mode %v", info.Mode().Perm())
	}
	if os.Getenv("LOCAL_KEK") != "" || os.Getenv("TABLE_NAME") != "" {
		t.Error("Prepare changed the process environment")
	}
	if env.AWS.Region != "us-east-1" || env.StartedDynamoDB {
		t.Errorf("region %q, started DynamoDB %v", env.AWS.Region, env.StartedDynamoDB)
	}
	// The table exists, reached through the config the functions get.
	opts := env.AppOptions(nil)
	db := dynamodb.NewFromConfig(*opts.AWS)
	if _, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(env.Table)}); err != nil {
		t.Fatal(err)
	}
	if opts.Getenv("TABLE_NAME") != env.Table {
		t.Error("app.Options.Getenv does not see the table")
	}
	for _, kv := range env.Added() {
		if kv[0] == "LOCAL_KEK" && kv[1] == kek {
			t.Error("Added shows the KEK")
		}
	}
}

func TestTheKEKIsKeptAcrossPrepares(t *testing.T) {
	t.Parallel()
	table := dynamotest.TableName()
	cache := t.TempDir()
	var keks []string
	for range 2 {
		env, err := devenv.Prepare(context.Background(), devenv.Options{CacheDir: cache, Getenv: func(k string) string {
			switch k {
			case "TABLE_NAME":
				return table
			case "LOCAL_KEK", "KMS_KEY_ID":
				return ""
			}
			return os.Getenv(k)
		}})
		if err != nil {
			t.Fatal(err)
		}
		keks = append(keks, env.Getenv("LOCAL_KEK"))
		if len(keks) == 2 {
			_, _ = env.DB().DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		}
		_ = env.Close(context.Background())
	}
	if keks[0] != keks[1] {
		t.Fatal("a second start made a new KEK: what the first sealed could not be opened")
	}
}

func TestTheDevelopersOwnVariablesWin(t *testing.T) {
	t.Parallel()
	env, cache := prepare(t, map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "shh",
		"LOCAL_KEK": strings.Repeat("ab", 32), "KMS_KEY_ID": "",
	})
	if env.Getenv("AWS_REGION") != "eu-west-1" || env.AWS.Region != "eu-west-1" || env.Getenv("LOCAL_KEK") != strings.Repeat("ab", 32) {
		t.Fatalf("region %q, KEK %q", env.Getenv("AWS_REGION"), env.Getenv("LOCAL_KEK"))
	}
	creds, err := env.AWS.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "shh" {
		t.Fatalf("credentials %+v %v", creds, err)
	}
	if _, err := os.Stat(filepath.Join(cache, devenv.KEKFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a KEK file was made though LOCAL_KEK was set")
	}
}

func TestAKMSKeyMeansNoLocalKEK(t *testing.T) {
	t.Parallel()
	env, _ := prepare(t, map[string]string{"KMS_KEY_ID": "alias/switchboard", "LOCAL_KEK": ""})
	if env.Getenv("LOCAL_KEK") != "" {
		t.Fatal("LOCAL_KEK set beside KMS_KEY_ID")
	}
}

func TestEachServiceGetsItsEndpointFromTheEnvironment(t *testing.T) {
	t.Parallel()
	env, _ := prepare(t, map[string]string{"AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:4599", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": ""})
	if got := aws.ToString(kms.NewFromConfig(env.AWS).Options().BaseEndpoint); got != "http://127.0.0.1:4599" {
		t.Errorf("KMS endpoint %q", got)
	}
	if got := aws.ToString(dynamodb.NewFromConfig(env.AWS).Options().BaseEndpoint); got != env.Endpoint {
		t.Errorf("DynamoDB endpoint %q, want %q", got, env.Endpoint)
	}
	if got := aws.ToString(dynamodbstreams.NewFromConfig(env.AWS).Options().BaseEndpoint); got != env.Endpoint {
		t.Errorf("DynamoDB Streams endpoint %q, want DynamoDB's %q", got, env.Endpoint)
	}
	// A variable set later (by a sandbox) counts for clients built after it.
	env.Set("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:4600")
	if got := aws.ToString(kms.NewFromConfig(env.AWS).Options().BaseEndpoint); got != "http://127.0.0.1:4600" {
		t.Errorf("KMS endpoint after Set %q", got)
	}
}

func TestSandboxesSetVariablesAndStopAtCloseInReverseOrder(t *testing.T) {
	t.Parallel()
	env, _ := prepare(t, map[string]string{})
	var stopped []string
	sandbox := func(name string) devenv.Sandbox {
		return devenv.Sandbox{Name: name, Start: func(_ context.Context, e *devenv.Env) (func(context.Context) error, error) {
			e.Set(strings.ToUpper(name)+"_API_URL", "http://127.0.0.1:1/"+name)
			return func(context.Context) error { stopped = append(stopped, name); return nil }, nil
		}}
	}
	if err := env.StartSandboxes(context.Background(), []devenv.Sandbox{sandbox("zoom"), sandbox("vercel")}); err != nil {
		t.Fatal(err)
	}
	if env.Getenv("ZOOM_API_URL") != "http://127.0.0.1:1/zoom" || env.AppOptions(nil).Getenv("VERCEL_API_URL") == "" {
		t.Fatal("a sandbox's variable does not reach the functions")
	}
	failing := devenv.Sandbox{Name: "broken", Start: func(context.Context, *devenv.Env) (func(context.Context) error, error) {
		return nil, errors.New("port taken")
	}}
	if err := env.StartSandboxes(context.Background(), []devenv.Sandbox{failing}); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("err %v", err)
	}
	if err := env.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Join(stopped, ",") != "vercel,zoom" {
		t.Fatalf("stopped %v", stopped)
	}
}
