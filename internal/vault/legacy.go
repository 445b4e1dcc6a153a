package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"fmt"
	"strings"
)

// EnvLegacyKey names the variable the earlier system kept its token key in
// (64 hex digits). The vault does not read it; infra/cmd/vault does.
const EnvLegacyKey = "TOKEN_ENCRYPTION_KEY"

// OpenLegacy decrypts a value stored by the earlier system: "iv:authTag:
// encrypted", three hex fields, AES-256-GCM as Node's crypto makes it
// (createCipheriv("aes-256-gcm", key, iv), getAuthTag() kept apart), with no
// additional data. The IV may be 12 or 16 bytes; the tag is 16 bytes. keyHex
// is the 32-byte key in hex (TOKEN_ENCRYPTION_KEY). A wrong key or a changed
// value is ErrCannotOpen; a value or key of the wrong shape is
// ErrLegacyMalformed.
func OpenLegacy(keyHex, value string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(keyHex))
	defer Wipe(key)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: key must be 64 hex digits (32 bytes)", ErrLegacyMalformed)
	}
	parts := strings.Split(strings.TrimSpace(value), ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: want iv:authTag:encrypted", ErrLegacyMalformed)
	}
	iv, err1 := hex.DecodeString(parts[0])
	tag, err2 := hex.DecodeString(parts[1])
	ct, err3 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("%w: fields must be hex", ErrLegacyMalformed)
	}
	if len(iv) != 12 && len(iv) != 16 {
		return nil, fmt.Errorf("%w: IV must be 12 or 16 bytes, got %d", ErrLegacyMalformed, len(iv))
	}
	if len(tag) != 16 {
		return nil, fmt.Errorf("%w: auth tag must be 16 bytes, got %d", ErrLegacyMalformed, len(tag))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLegacyMalformed, err)
	}
	aead, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLegacyMalformed, err)
	}
	pt, err := aead.Open(nil, iv, append(ct, tag...), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: legacy value (wrong key, or the value was changed)", ErrCannotOpen)
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// ImportLegacy opens a legacy value (see OpenLegacy) and seals it with v
// under ec, returning the binary envelope. The plaintext is zeroed before
// ImportLegacy returns.
func ImportLegacy(ctx context.Context, v *Vault, keyHex, value string, ec EncryptionContext) ([]byte, error) {
	pt, err := OpenLegacy(keyHex, value)
	if err != nil {
		return nil, err
	}
	defer Wipe(pt)
	return v.Seal(ctx, pt, ec)
}
