package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/switchboard-dev/switchboard/internal/app"
)

// recorder is an AWS endpoint that answers 500 (retryable) and notes who
// called it, with which access key.
type recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string // the X-Amz-Target of each attempt
	auth  []string
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.calls = append(r.calls, req.Header.Get("X-Amz-Target"))
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"InternalServerError","message":"recorded"}`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) seen() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...), append([]string(nil), r.auth...)
}

func TestAWSFromEnvSendsEachServiceWhereTheSDKsVariablesSay(t *testing.T) {
	t.Parallel()
	ddb, kmsSrv, general := newRecorder(t), newRecorder(t), newRecorder(t)
	cases := []struct {
		name                 string
		env                  map[string]string
		wantDDB, wantKMS     *recorder
		wantAttempts         int
		wantKeyInCredentials string
	}{
		{"per-service endpoints", map[string]string{
			"AWS_ENDPOINT_URL_DYNAMODB": ddb.srv.URL, "AWS_ENDPOINT_URL_KMS": kmsSrv.srv.URL, "AWS_MAX_ATTEMPTS": "2",
		}, ddb, kmsSrv, 2, "AKIDLAMBDA"},
		{"one endpoint for all", map[string]string{"AWS_ENDPOINT_URL": general.srv.URL, "AWS_MAX_ATTEMPTS": "1"}, general, general, 1, "AKIDLAMBDA"},
		{"a service's own endpoint wins over the general one", map[string]string{
			"AWS_ENDPOINT_URL": general.srv.URL, "AWS_ENDPOINT_URL_DYNAMODB": ddb.srv.URL, "AWS_MAX_ATTEMPTS": "1",
		}, ddb, general, 1, "AKIDLAMBDA"},
		{"the older key names", map[string]string{
			"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ACCESS_KEY": "AKIDOLD", "AWS_SECRET_KEY": "old",
			"AWS_ENDPOINT_URL": general.srv.URL, "AWS_MAX_ATTEMPTS": "1",
		}, general, general, 1, "AKIDOLD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Not parallel: the recorders are shared and counted per case.
			env := map[string]string{
				"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDLAMBDA", "AWS_SECRET_ACCESS_KEY": "shh", "AWS_SESSION_TOKEN": "tok",
			}
			for k, v := range c.env {
				env[k] = v
			}
			cfg, err := app.AWSFromEnv(func(k string) string { return env[k] }, nil)
			if err != nil {
				t.Fatal(err)
			}
			ddbBefore, _ := c.wantDDB.seen()
			_, _ = dynamodb.NewFromConfig(cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
			calls, auth := c.wantDDB.seen()
			if got := len(calls) - len(ddbBefore); got != c.wantAttempts {
				t.Fatalf("DynamoDB endpoint saw %d attempts, want %d (AWS_MAX_ATTEMPTS)", got, c.wantAttempts)
			}
			if last := calls[len(calls)-1]; last != "DynamoDB_20120810.ListTables" {
				t.Fatalf("DynamoDB endpoint saw %q", last)
			}
			if a := auth[len(auth)-1]; !strings.Contains(a, "Credential="+c.wantKeyInCredentials+"/") || !strings.Contains(a, "/eu-west-1/dynamodb/") {
				t.Fatalf("request not signed with the environment's key and region: %q", a)
			}
			kmsBefore, _ := c.wantKMS.seen()
			_, _ = kms.NewFromConfig(cfg).Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: []byte{1}})
			calls, _ = c.wantKMS.seen()
			if len(calls) == len(kmsBefore) || calls[len(calls)-1] != "TrentService.Decrypt" {
				t.Fatalf("KMS endpoint saw no Decrypt: %q", calls)
			}
		})
	}
}

func TestAWSFromEnvRefusesWhatItCannotUse(t *testing.T) {
	t.Parallel()
	base := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "shh"}
	cases := []struct {
		name, key, value, want string
	}{
		{"no access key", "AWS_ACCESS_KEY_ID", "", "no AWS credentials"},
		{"no secret", "AWS_SECRET_ACCESS_KEY", "", "no AWS credentials"},
		{"attempts not a number", "AWS_MAX_ATTEMPTS", "many", "AWS_MAX_ATTEMPTS"},
		{"zero attempts", "AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS"},
		{"unknown retry mode", "AWS_RETRY_MODE", "eager", "AWS_RETRY_MODE"},
		{"unknown account endpoint mode", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "sometimes", "AWS_ACCOUNT_ID_ENDPOINT_MODE"},
		{"ignore flag not a boolean", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "perhaps", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{c.key: c.value}
			for k, v := range base {
				if _, set := env[k]; !set {
					env[k] = v
				}
			}
			_, err := app.AWSFromEnv(func(k string) string { return env[k] }, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
	_, err := app.AWSFromEnv(func(string) string { return "" }, nil)
	if !errors.Is(err, app.ErrNoAWSCredentials) {
		t.Fatalf("empty environment: err = %v, want ErrNoAWSCredentials", err)
	}
}

func TestAWSFromEnvReadsRetryAndEndpointSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"AWS_DEFAULT_REGION": "ap-south-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "shh",
		"AWS_RETRY_MODE": "adaptive", "AWS_MAX_ATTEMPTS": "7", "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
	}
	cfg, err := app.AWSFromEnv(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-south-1" || cfg.RetryMode != aws.RetryModeAdaptive || cfg.RetryMaxAttempts != 7 ||
		cfg.BaseEndpoint != nil || cfg.AccountIDEndpointMode != aws.AccountIDEndpointModeDisabled {
		t.Fatalf("region %q, retry %q × %d, base endpoint %v, account id mode %q", cfg.Region, cfg.RetryMode, cfg.RetryMaxAttempts, cfg.BaseEndpoint, cfg.AccountIDEndpointMode)
	}
}

// The functions must not link config.LoadDefaultConfig's package: it
// brings the credential providers Lambda never uses (SSO, STS, IMDS, ...)
// and their package inits into every cold start.
func TestNoFunctionLinksTheSDKsDefaultConfigLoader(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "../../functions/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/sts", "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"} {
			if pkg == banned || strings.HasPrefix(pkg, banned+"/") {
				t.Errorf("a function links %s", pkg)
			}
		}
	}
}
