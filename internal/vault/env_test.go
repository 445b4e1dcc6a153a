package vault_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestKeyringFromEnvChoosesByConfiguration(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	kek, kek2 := vaulttest.RandomKEK(t), vaulttest.RandomKEK(t)
	tests := []struct {
		name    string
		env     map[string]string
		cfg     aws.Config
		want    string // "kms", "local" or "" for an error
		wantErr error
		errHas  string
	}{
		{name: "KMS_KEY_ID means KMS", env: map[string]string{"KMS_KEY_ID": srv.KeyID()}, cfg: srv.AWSConfig(), want: "kms"},
		{name: "KMS wins over LOCAL_KEK", env: map[string]string{"KMS_KEY_ID": srv.KeyID(), "LOCAL_KEK": kek}, cfg: srv.AWSConfig(), want: "kms"},
		{name: "KMS in Lambda", env: map[string]string{"KMS_KEY_ID": srv.KeyID(), "AWS_LAMBDA_FUNCTION_NAME": "connections"}, cfg: srv.AWSConfig(), want: "kms"},
		{name: "KMS without a region", env: map[string]string{"KMS_KEY_ID": "k"}, wantErr: vault.ErrConfig, errHas: "AWS_REGION"},
		{name: "LOCAL_KEK means local", env: map[string]string{"LOCAL_KEK": kek}, want: "local"},
		{name: "LOCAL_KEK with an older KEK", env: map[string]string{"LOCAL_KEK": kek + "," + kek2}, want: "local"},
		{name: "LOCAL_KEK refused in Lambda", env: map[string]string{"LOCAL_KEK": kek, "AWS_LAMBDA_FUNCTION_NAME": "oauth"}, wantErr: vault.ErrConfig, errHas: "ALLOW_LOCAL_KEK_IN_LAMBDA"},
		{name: "LOCAL_KEK in Lambda when allowed", env: map[string]string{"LOCAL_KEK": kek, "AWS_LAMBDA_FUNCTION_NAME": "oauth", "ALLOW_LOCAL_KEK_IN_LAMBDA": "true"}, want: "local"},
		{name: "allowing needs true", env: map[string]string{"LOCAL_KEK": kek, "AWS_LAMBDA_FUNCTION_NAME": "oauth", "ALLOW_LOCAL_KEK_IN_LAMBDA": "yes please"}, wantErr: vault.ErrConfig},
		{name: "LOCAL_KEK too short", env: map[string]string{"LOCAL_KEK": "abcd"}, wantErr: vault.ErrConfig},
		{name: "LOCAL_KEK not hex", env: map[string]string{"LOCAL_KEK": strings.Repeat("zz", 32)}, wantErr: vault.ErrConfig},
		{name: "nothing configured", env: map[string]string{}, wantErr: vault.ErrConfig, errHas: "KMS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			kr, err := vault.KeyringFromEnv(getenv, tt.cfg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.errHas)
				}
				if strings.Contains(err.Error(), kek) {
					t.Fatal("error shows the KEK")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch kr.(type) {
			case *vault.KMSKeyring:
				if tt.want != "kms" {
					t.Fatalf("got KMS, want %s", tt.want)
				}
			case *vault.LocalKeyring:
				if tt.want != "local" {
					t.Fatalf("got local, want %s", tt.want)
				}
			}
			v := vault.New(kr)
			ec := ecFor("env")
			sealed, err := v.Seal(bg, []byte("x"), ec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Open(bg, sealed, ec); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLocalKeyringOpensWhatAnOlderKEKSealed(t *testing.T) {
	t.Parallel()
	oldKEK, newKEK := vaulttest.RandomKEK(t), vaulttest.RandomKEK(t)
	ec := ecFor("old-kek")
	before, err := vault.FromEnv(bg, func(k string) string { return map[string]string{"LOCAL_KEK": oldKEK}[k] }, aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := before.Seal(bg, []byte("kept"), ec)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := vault.NewLocalKeyring(newKEK)
	if _, err := vault.New(onlyNew).Open(bg, sealed, ec); !errors.Is(err, vault.ErrCannotOpen) {
		t.Fatalf("a keyring without the old KEK: %v", err)
	}
	after, err := vault.FromEnv(bg, func(k string) string { return map[string]string{"LOCAL_KEK": newKEK + "," + oldKEK}[k] }, aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(bg, sealed, ec); err != nil || string(got) != "kept" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	fresh, _ := after.Seal(bg, []byte("new"), ec)
	if info, _ := vault.Inspect(fresh); info.KeyID != onlyNew.KeyID() {
		t.Fatalf("new envelope under %q, want the first KEK %q", info.KeyID, onlyNew.KeyID())
	}
}

// The KMS endpoint comes from the SDK's own variables: with a config from
// config.LoadDefaultConfig, AWS_ENDPOINT_URL_KMS points the client at the
// fake. (Not parallel: it sets process environment variables.)
func TestFromEnvHonoursAWSEndpointURLKMS(t *testing.T) {
	srv := kmsfake.Start(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS":        srv.URL,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"KMS_KEY_ID":                  "alias/switchboard",
	} {
		t.Setenv(k, v)
	}
	if err := srv.AddAlias("alias/switchboard", kmsfake.DefaultKeyID); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.FromEnv(context.Background(), os.Getenv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ec := ecFor("endpoint")
	sealed, err := v.Seal(bg, []byte("x"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Calls(kmsfake.OpGenerateDataKey) != 1 {
		t.Fatal("the KMS client did not use AWS_ENDPOINT_URL_KMS")
	}
	if info, _ := vault.Inspect(sealed); info.KeyID != srv.KeyID() {
		t.Fatalf("envelope records %q, want the resolved key ARN", info.KeyID)
	}
}
