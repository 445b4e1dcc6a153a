package kmsfake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
)

var ec = map[string]string{"tenant": "t1", "purpose": "access_token"}

func TestGenerateDataKeyThenDecryptWithSameContextGivesSameKey(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	c := srv.Client()
	ctx := context.Background()

	gen, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(kmsfake.DefaultKeyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.Plaintext) != 32 || aws.ToString(gen.KeyId) != srv.KeyID() {
		t.Fatalf("got %d-byte key under %q", len(gen.Plaintext), aws.ToString(gen.KeyId))
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec, KeyId: gen.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.Plaintext, gen.Plaintext) {
		t.Fatal("Decrypt gave another key")
	}
	if srv.Calls(kmsfake.OpGenerateDataKey) != 1 || srv.Calls(kmsfake.OpDecrypt) != 1 {
		t.Fatalf("calls: %d generate, %d decrypt", srv.Calls(kmsfake.OpGenerateDataKey), srv.Calls(kmsfake.OpDecrypt))
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].EncryptionContext["tenant"] != "t1" {
		t.Fatalf("recorded %+v", reqs)
	}
}

func TestDecryptFailures(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	other := srv.AddKey("other")
	c := srv.Client()
	ctx := context.Background()
	gen, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(srv.KeyID()), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(gen.CiphertextBlob)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name string
		in   kms.DecryptInput
		want any
	}{
		{"another context", kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: map[string]string{"tenant": "t2", "purpose": "access_token"}}, &types.InvalidCiphertextException{}},
		{"no context", kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob}, &types.InvalidCiphertextException{}},
		{"changed blob", kms.DecryptInput{CiphertextBlob: flipped, EncryptionContext: ec}, &types.InvalidCiphertextException{}},
		{"another key named", kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(other)}, &types.IncorrectKeyException{}},
		{"unknown key named", kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String("nope")}, &types.NotFoundException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Decrypt(ctx, &tt.in)
			switch want := tt.want.(type) {
			case *types.InvalidCiphertextException:
				if !errors.As(err, &want) {
					t.Fatalf("err = %v, want InvalidCiphertextException", err)
				}
			case *types.IncorrectKeyException:
				if !errors.As(err, &want) {
					t.Fatalf("err = %v, want IncorrectKeyException", err)
				}
			case *types.NotFoundException:
				if !errors.As(err, &want) {
					t.Fatalf("err = %v, want NotFoundException", err)
				}
			}
		})
	}
}

func TestReEncryptMovesBlobToDestinationKeyAndContext(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	dst := srv.AddKey("next")
	if err := srv.AddAlias("alias/next", "next"); err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	ctx := context.Background()
	gen, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(srv.KeyID()), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob: gen.CiphertextBlob, SourceEncryptionContext: ec, SourceKeyId: gen.KeyId,
		DestinationKeyId: aws.String("alias/next"), DestinationEncryptionContext: ec,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.KeyId) != dst || aws.ToString(re.SourceKeyId) != srv.KeyID() {
		t.Fatalf("ReEncrypt: key %q from %q", aws.ToString(re.KeyId), aws.ToString(re.SourceKeyId))
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, gen.Plaintext) || aws.ToString(dec.KeyId) != dst {
		t.Fatalf("Decrypt after ReEncrypt: %v", err)
	}
	r := srv.Requests()[1]
	if r.Op != kmsfake.OpReEncrypt || r.DestinationKeyID != "alias/next" || r.DestinationEncryptionContext["tenant"] != "t1" {
		t.Fatalf("recorded %+v", r)
	}
}

func TestEncryptAndDisabledKey(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	c := srv.Client()
	ctx := context.Background()
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(srv.KeyID()), Plaintext: []byte("hi"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.SetEnabled(srv.KeyID(), false); err != nil {
		t.Fatal(err)
	}
	var disabled *types.DisabledException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}); !errors.As(err, &disabled) {
		t.Fatalf("Decrypt with disabled key: %v", err)
	}
}

func TestFailNextInjectsErrorsThenRecovers(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	srv.FailNext(kmsfake.OpGenerateDataKey, kmsfake.ErrThrottling, 0, 1)
	c := srv.Client()
	in := &kms.GenerateDataKeyInput{KeyId: aws.String(srv.KeyID()), KeySpec: types.DataKeySpecAes256}
	_, err := c.GenerateDataKey(context.Background(), in)
	if err == nil || !strings.Contains(err.Error(), kmsfake.ErrThrottling) {
		t.Fatalf("first call: %v", err)
	}
	if _, err := c.GenerateDataKey(context.Background(), in); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if got := srv.Calls(kmsfake.OpGenerateDataKey); got != 2 {
		t.Fatalf("calls = %d, want 2 (client makes one attempt)", got)
	}
}

func TestUnsignedOrForeignRequestsAreRefused(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	tests := []struct {
		name, target, ctype, auth string
		want                      string
	}{
		{"unsigned", "TrentService.Decrypt", "application/x-amz-json-1.1", "", kmsfake.ErrMissingAuth},
		{"wrong content type", "TrentService.Decrypt", "application/json", "AWS4-HMAC-SHA256 Credential=x", kmsfake.ErrValidation},
		{"unknown operation", "TrentService.Sign", "application/x-amz-json-1.1", "AWS4-HMAC-SHA256 Credential=x", kmsfake.ErrUnknownOperation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", tt.ctype)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != tt.want {
				t.Fatalf("status %d type %q, want 400 %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.want)
			}
		})
	}
}
