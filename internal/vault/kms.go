package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSAPI is the part of the KMS client the vault uses; *kms.Client
// satisfies it.
type KMSAPI interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
	ReEncrypt(ctx context.Context, in *kms.ReEncryptInput, optFns ...func(*kms.Options)) (*kms.ReEncryptOutput, error)
}

// KMSKeyring gets data keys from AWS KMS. The encryption context goes to KMS
// as EncryptionContext on every call, so KMS binds it to the wrapped key and
// records it in CloudTrail. Decrypt names the key id from the envelope, so an
// envelope whose key id was changed fails at KMS (IncorrectKeyException).
type KMSKeyring struct {
	client KMSAPI
	keyID  string
}

// NewKMSKeyring builds a keyring that makes new data keys under keyID (a key
// id, key ARN, alias name or alias ARN). Envelopes record the key ARN KMS
// answers with, and open under it whatever keyID is now, so a change of
// KMS_KEY_ID leaves older envelopes readable.
func NewKMSKeyring(client KMSAPI, keyID string) (*KMSKeyring, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil KMS client", ErrConfig)
	}
	if keyID == "" {
		return nil, fmt.Errorf("%w: empty KMS key id", ErrConfig)
	}
	return &KMSKeyring{client: client, keyID: keyID}, nil
}

// KeyID is the key id new data keys are made under, as configured.
func (kr *KMSKeyring) KeyID() string { return kr.keyID }

// GenerateDataKey implements Keyring (KMS GenerateDataKey, AES_256).
func (kr *KMSKeyring) GenerateDataKey(ctx context.Context, ec EncryptionContext) (DataKey, error) {
	out, err := kr.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(kr.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec,
	})
	if err != nil {
		return DataKey{}, kmsError("GenerateDataKey", err)
	}
	if len(out.Plaintext) != dataKeySize || len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > maxEDK || aws.ToString(out.KeyId) == "" {
		Wipe(out.Plaintext)
		return DataKey{}, fmt.Errorf("%w: KMS GenerateDataKey answered an unexpected shape", ErrKeyring)
	}
	// Keep our own copy and clear the SDK's, so only one copy is live.
	dk := DataKey{KeyID: aws.ToString(out.KeyId), Plaintext: make([]byte, dataKeySize), Encrypted: out.CiphertextBlob}
	copy(dk.Plaintext, out.Plaintext)
	Wipe(out.Plaintext)
	return dk, nil
}

// Decrypt implements Keyring (KMS Decrypt with the envelope's key id).
func (kr *KMSKeyring) Decrypt(ctx context.Context, keyID string, encrypted []byte, ec EncryptionContext) ([]byte, error) {
	out, err := kr.client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    encrypted,
		KeyId:             aws.String(keyID),
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, kmsError("Decrypt", err)
	}
	if len(out.Plaintext) != dataKeySize {
		Wipe(out.Plaintext)
		return nil, ErrCannotOpen
	}
	return out.Plaintext, nil
}

// ReEncrypt implements Keyring (KMS ReEncrypt; the plaintext key never
// leaves KMS).
func (kr *KMSKeyring) ReEncrypt(ctx context.Context, keyID string, encrypted []byte, ec EncryptionContext, destKeyID string) (string, []byte, error) {
	out, err := kr.client.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob:               encrypted,
		SourceKeyId:                  aws.String(keyID),
		SourceEncryptionContext:      ec,
		DestinationKeyId:             aws.String(destKeyID),
		DestinationEncryptionContext: ec,
	})
	if err != nil {
		return "", nil, kmsError("ReEncrypt", err)
	}
	if len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > maxEDK || aws.ToString(out.KeyId) == "" {
		return "", nil, fmt.Errorf("%w: KMS ReEncrypt answered an unexpected shape", ErrKeyring)
	}
	return aws.ToString(out.KeyId), out.CiphertextBlob, nil
}

// kmsError sorts a KMS failure: one that says the wrapped key does not open
// under this key and context is ErrCannotOpen (and carries nothing else);
// anything else is ErrKeyring with the SDK's error (which holds the
// operation, request id and KMS's message, never a blob or plaintext).
//
// For Decrypt, an unknown key or malformed key ARN (the envelope's key id
// was changed, or the key was deleted) also counts as ErrCannotOpen; for
// GenerateDataKey and ReEncrypt those name the configured or target key and
// are ErrKeyring.
func kmsError(op string, err error) error {
	var (
		invalid   *types.InvalidCiphertextException
		incorrect *types.IncorrectKeyException
		notFound  *types.NotFoundException
		arn       *types.InvalidArnException
	)
	if op != "GenerateDataKey" && (errors.As(err, &invalid) || errors.As(err, &incorrect)) {
		return ErrCannotOpen
	}
	if op == "Decrypt" && (errors.As(err, &notFound) || errors.As(err, &arn)) {
		return ErrCannotOpen
	}
	return fmt.Errorf("%w: KMS %s: %w", ErrKeyring, op, err)
}
