package vault

import (
	"context"
	"fmt"
	"log/slog"
)

// Keyring makes and unwraps data keys. KMSKeyring and LocalKeyring
// implement it. Implementations must bind the wrapped key to the key id and
// to the encryption context, so that Decrypt and ReEncrypt with another
// context or another key id fail, and must return errors wrapping
// ErrCannotOpen for such failures and ErrKeyring for all others.
type Keyring interface {
	// GenerateDataKey returns a fresh 256-bit data key, in plaintext and
	// wrapped under the keyring's current key with ec bound to it.
	GenerateDataKey(ctx context.Context, ec EncryptionContext) (DataKey, error)

	// Decrypt unwraps an encrypted data key made under keyID with ec. The
	// caller owns the returned slice and should zero it after use.
	Decrypt(ctx context.Context, keyID string, encrypted []byte, ec EncryptionContext) ([]byte, error)

	// ReEncrypt moves an encrypted data key from keyID to destKeyID, keeping
	// ec, without exposing the plaintext key to the caller. It returns the
	// key id the new wrapped key is under, as Decrypt will need it.
	ReEncrypt(ctx context.Context, keyID string, encrypted []byte, ec EncryptionContext, destKeyID string) (newKeyID string, newEncrypted []byte, err error)
}

// DataKey is a data key from GenerateDataKey. Its formatting methods redact
// Plaintext, so printing or logging a DataKey shows no key material.
type DataKey struct {
	// KeyID is the key that wrapped Encrypted (for KMS, the key ARN).
	KeyID string
	// Plaintext is the 32-byte key. Zero it when done (see Wipe).
	Plaintext []byte
	// Encrypted is the wrapped key, stored in the envelope.
	Encrypted []byte
}

// String redacts the plaintext.
func (k DataKey) String() string {
	return fmt.Sprintf("DataKey{KeyID:%q, Plaintext:[redacted %d bytes], Encrypted:[%d bytes]}", k.KeyID, len(k.Plaintext), len(k.Encrypted))
}

// GoString redacts the plaintext.
func (k DataKey) GoString() string { return k.String() }

// Format redacts the plaintext whatever the verb.
func (k DataKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue redacts the plaintext in slog output.
func (k DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_id", k.KeyID), slog.Int("encrypted_len", len(k.Encrypted)))
}

// Wipe overwrites b with zeros. Go gives no guarantee that no other copy of
// the bytes exists (the garbage collector may have moved them, and the AES
// key schedule made by crypto/aes lives in memory we cannot reach), so this
// shortens the life of key material in memory as far as Go allows; it is not
// a guarantee.
func Wipe(b []byte) { clear(b) }
