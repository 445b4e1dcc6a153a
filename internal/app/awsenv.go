package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The AWS SDK's standard variables AWSFromEnv reads; the names are the
// SDK's own (aws-sdk-go-v2 config/env_config.go), and Lambda sets the
// region and the execution role's credentials among them (Lambda developer
// guide, "Defined runtime environment variables").
const (
	envRegion                    = "AWS_REGION"
	envDefaultRegion             = "AWS_DEFAULT_REGION"
	envAccessKeyID               = "AWS_ACCESS_KEY_ID"
	envAccessKey                 = "AWS_ACCESS_KEY" // the SDK's older alias
	envSecretAccessKey           = "AWS_SECRET_ACCESS_KEY"
	envSecretKey                 = "AWS_SECRET_KEY" // the SDK's older alias
	envSessionToken              = "AWS_SESSION_TOKEN"
	envAccountID                 = "AWS_ACCOUNT_ID"
	envEndpointURL               = "AWS_ENDPOINT_URL"
	envIgnoreConfiguredEndpoints = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	envMaxAttempts               = "AWS_MAX_ATTEMPTS"
	envRetryMode                 = "AWS_RETRY_MODE"
	envAppID                     = "AWS_SDK_UA_APP_ID"
	envAccountIDEndpointMode     = "AWS_ACCOUNT_ID_ENDPOINT_MODE"
)

// ErrNoAWSCredentials: the environment holds no access key. Lambda always
// sets one (the execution role's); elsewhere set AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or pass Options.AWS.
var ErrNoAWSCredentials = errors.New("app: no AWS credentials in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")

// AWSFromEnv is the AWS configuration Lambda gives a function, read from
// the environment alone: the region, the execution role's credentials
// (static for the execution environment's life, which is what
// config.LoadDefaultConfig also takes from these variables in Lambda), the
// endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>,
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) and the retry settings
// (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE).
//
// It replaces config.LoadDefaultConfig, whose package links the shared
// config files' parser and the SSO, SSO-OIDC, STS, sign-in and IMDS
// credential providers (their endpoint tables are package inits) that a
// Lambda function never uses. What it does not read: shared config and
// credential files, profiles, web identity, container credentials, IMDS
// and AWS_CA_BUNDLE; none of them is set in Lambda's environment.
func AWSFromEnv(getenv Getenv, httpClient aws.HTTPClient) (aws.Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	region := get(envRegion)
	if region == "" {
		region = get(envDefaultRegion)
	}
	key, secret := get(envAccessKeyID), get(envSecretAccessKey)
	if key == "" {
		key = get(envAccessKey)
	}
	if secret == "" {
		secret = get(envSecretKey)
	}
	if key == "" || secret == "" {
		return aws.Config{}, ErrNoAWSCredentials
	}
	cfg := aws.Config{
		Region:     region,
		HTTPClient: httpClient,
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID: key, SecretAccessKey: secret, SessionToken: get(envSessionToken),
			AccountID: get(envAccountID), Source: "EnvConfigCredentials",
		}},
		AppID:                 get(envAppID),
		AccountIDEndpointMode: aws.AccountIDEndpointModePreferred, // LoadDefaultConfig's default
		DefaultsMode:          aws.DefaultsModeLegacy,             // likewise
		ConfigSources:         []any{envEndpoints(getenv)},
	}
	if v := get(envAccountIDEndpointMode); v != "" {
		switch m := aws.AccountIDEndpointMode(strings.ToLower(v)); m {
		case aws.AccountIDEndpointModePreferred, aws.AccountIDEndpointModeRequired, aws.AccountIDEndpointModeDisabled:
			cfg.AccountIDEndpointMode = m
		default:
			return aws.Config{}, fmt.Errorf("app: %s=%q: want preferred, required or disabled", envAccountIDEndpointMode, v)
		}
	}
	ignore, err := envEndpoints(getenv).ignored()
	if err != nil {
		return aws.Config{}, err
	}
	if ep := get(envEndpointURL); ep != "" && !ignore {
		cfg.BaseEndpoint = aws.String(ep)
	}
	if v := get(envMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return aws.Config{}, fmt.Errorf("app: %s=%q: want a whole number ≥ 1", envMaxAttempts, v)
		}
		cfg.RetryMaxAttempts = n
	}
	if v := get(envRetryMode); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			return aws.Config{}, fmt.Errorf("app: %s: %w", envRetryMode, err)
		}
		cfg.RetryMode = mode
	}
	return cfg, nil
}

// envEndpoints answers the service clients' question for a per-service
// endpoint from AWS_ENDPOINT_URL_<SERVICE ID> (upper case, spaces as
// underscores: the SDK's rule in config.EnvConfig.GetServiceBaseEndpoint),
// and for AWS_IGNORE_CONFIGURED_ENDPOINT_URLS. The service clients find it
// in aws.Config.ConfigSources by these two methods (the SDK's
// internal/configsources ServiceBaseEndpointProvider and
// IgnoreConfiguredEndpointsProvider).
type envEndpoints Getenv

func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := envEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
	v := strings.TrimSpace(e(name))
	return v, v != "", nil
}

func (e envEndpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	v, err := e.ignored()
	return v, err == nil && v, err
}

func (e envEndpoints) ignored() (bool, error) {
	v := strings.TrimSpace(e(envIgnoreConfiguredEndpoints))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("app: %s=%q: want true or false", envIgnoreConfiguredEndpoints, v)
	}
	return b, nil
}

// awsHTTPClient is the AWS clients' HTTP client: each attempt has its own
// deadline, so a silent network costs a retry, not the whole invocation;
// the SDK's standard retryer backs off between attempts (throttling
// included).
func awsHTTPClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTimeout(5 * time.Second).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 2 * time.Second })
}
