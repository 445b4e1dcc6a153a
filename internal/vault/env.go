package vault

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// Environment variables read by KeyringFromEnv (and so FromEnv). The KMS
// endpoint is not among them: the SDK takes it from its standard variables
// (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL) when awsCfg comes from
// app.AWSFromEnv (or config.LoadDefaultConfig).
const (
	// EnvKMSKeyID: the KMS key (id, ARN, alias name or alias ARN) new data
	// keys are made under. When set, the KMS keyring is used.
	EnvKMSKeyID = "KMS_KEY_ID"
	// EnvLocalKEK: a 256-bit key-encryption key as 64 hex digits, for `make
	// dev`; older KEKs may follow, comma-separated, to open what they sealed.
	// Used only when KMS_KEY_ID is empty.
	EnvLocalKEK = "LOCAL_KEK"
	// EnvAllowLocalKEKInLambda: "true" lets LOCAL_KEK be used inside Lambda.
	EnvAllowLocalKEKInLambda = "ALLOW_LOCAL_KEK_IN_LAMBDA"
	// EnvLambdaFunctionName is set by the Lambda runtime; its presence means
	// the code runs in Lambda.
	EnvLambdaFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
)

// KeyringFromEnv chooses the keyring from configuration: KMS_KEY_ID set
// means KMS (a client built from awsCfg); otherwise LOCAL_KEK set means the
// local keyring, refused when AWS_LAMBDA_FUNCTION_NAME is set unless
// ALLOW_LOCAL_KEK_IN_LAMBDA is true; neither is an error. getenv is
// os.Getenv in production; the package never reads the environment itself.
func KeyringFromEnv(getenv func(string) string, awsCfg aws.Config) (Keyring, error) {
	if id := strings.TrimSpace(getenv(EnvKMSKeyID)); id != "" {
		if awsCfg.Region == "" {
			return nil, fmt.Errorf("%w: %s is set but the AWS config has no region (set AWS_REGION)", ErrConfig, EnvKMSKeyID)
		}
		return NewKMSKeyring(kms.NewFromConfig(awsCfg), id)
	}
	kek := strings.TrimSpace(getenv(EnvLocalKEK))
	if kek == "" {
		return nil, fmt.Errorf("%w: no keyring configured: set %s (KMS) or %s (local development)", ErrConfig, EnvKMSKeyID, EnvLocalKEK)
	}
	if getenv(EnvLambdaFunctionName) != "" {
		if ok, _ := strconv.ParseBool(getenv(EnvAllowLocalKEKInLambda)); !ok {
			return nil, fmt.Errorf("%w: %s is refused inside Lambda; use %s, or set %s=true to allow it", ErrConfig, EnvLocalKEK, EnvKMSKeyID, EnvAllowLocalKEKInLambda)
		}
	}
	parts := strings.Split(kek, ",")
	return NewLocalKeyring(parts[0], parts[1:]...)
}

// FromEnv builds a Vault over KeyringFromEnv's keyring. It makes no network
// call; ctx is accepted for symmetry with other constructors.
func FromEnv(ctx context.Context, getenv func(string) string, awsCfg aws.Config, opts ...Option) (*Vault, error) {
	_ = ctx
	kr, err := KeyringFromEnv(getenv, awsCfg)
	if err != nil {
		return nil, err
	}
	return New(kr, opts...), nil
}
