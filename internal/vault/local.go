package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// LocalKeyring wraps data keys with a 256-bit key-encryption key (KEK) held
// in memory, using AES-256-GCM with the key id and the canonical context as
// additional data. It is for `make dev` and tests, where there is no KMS; in
// production use KMSKeyring.
//
// It can hold older KEKs besides the current one, so envelopes made before
// a change of LOCAL_KEK still open and Rewrap can move them.
type LocalKeyring struct {
	current string            // key id of the KEK new data keys are wrapped with
	keks    map[string][]byte // key id -> KEK
}

const localAADLabel = "switchboard/local-keyring\x00"

// NewLocalKeyring builds a local keyring from a KEK given as 64 hex digits
// (32 bytes). Older KEKs, in the same form, can follow; they are used only to
// open and re-wrap. Each KEK's key id is "local:" and the first 8 bytes of
// SHA-256 over a label and the KEK, in hex: it identifies the KEK without
// revealing it.
func NewLocalKeyring(kekHex string, older ...string) (*LocalKeyring, error) {
	kr := &LocalKeyring{keks: map[string][]byte{}}
	for i, h := range append([]string{kekHex}, older...) {
		kek, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(kek) != 32 {
			Wipe(kek)
			return nil, fmt.Errorf("%w: local KEK #%d must be 64 hex digits (32 bytes)", ErrConfig, i+1)
		}
		id := LocalKeyID(kek)
		if i == 0 {
			kr.current = id
		}
		kr.keks[id] = kek
	}
	return kr, nil
}

// LocalKeyID is the key id of a local KEK.
func LocalKeyID(kek []byte) string {
	h := sha256.New()
	h.Write([]byte("switchboard/local-kek-id\x00"))
	h.Write(kek)
	return "local:" + hex.EncodeToString(h.Sum(nil)[:8])
}

// KeyID is the key id new data keys are wrapped under.
func (kr *LocalKeyring) KeyID() string { return kr.current }

// GenerateDataKey implements Keyring.
func (kr *LocalKeyring) GenerateDataKey(_ context.Context, ec EncryptionContext) (DataKey, error) {
	dk := make([]byte, dataKeySize)
	if _, err := rand.Read(dk); err != nil {
		return DataKey{}, fmt.Errorf("%w: random: %w", ErrKeyring, err)
	}
	wrapped, err := kr.wrap(kr.current, dk, ec)
	if err != nil {
		Wipe(dk)
		return DataKey{}, err
	}
	return DataKey{KeyID: kr.current, Plaintext: dk, Encrypted: wrapped}, nil
}

// Decrypt implements Keyring. An unknown key id fails with ErrCannotOpen.
func (kr *LocalKeyring) Decrypt(_ context.Context, keyID string, encrypted []byte, ec EncryptionContext) ([]byte, error) {
	kek, ok := kr.keks[keyID]
	if !ok || len(encrypted) < nonceSize+tagSize {
		return nil, ErrCannotOpen
	}
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	dk, err := aead.Open(nil, encrypted[:nonceSize], encrypted[nonceSize:], localAAD(keyID, ec))
	if err != nil || len(dk) != dataKeySize {
		Wipe(dk)
		return nil, ErrCannotOpen
	}
	return dk, nil
}

// ReEncrypt implements Keyring; destKeyID must be one of the keyring's key
// ids (see KeyID and LocalKeyID).
func (kr *LocalKeyring) ReEncrypt(ctx context.Context, keyID string, encrypted []byte, ec EncryptionContext, destKeyID string) (string, []byte, error) {
	if _, ok := kr.keks[destKeyID]; !ok {
		return "", nil, fmt.Errorf("%w: local keyring has no key %q", ErrKeyring, destKeyID)
	}
	dk, err := kr.Decrypt(ctx, keyID, encrypted, ec)
	if err != nil {
		return "", nil, err
	}
	defer Wipe(dk)
	wrapped, err := kr.wrap(destKeyID, dk, ec)
	if err != nil {
		return "", nil, err
	}
	return destKeyID, wrapped, nil
}

func (kr *LocalKeyring) wrap(keyID string, dk []byte, ec EncryptionContext) ([]byte, error) {
	aead, err := newGCM(kr.keks[keyID])
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(dk)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("%w: random: %w", ErrKeyring, err)
	}
	return aead.Seal(out, out[:nonceSize], dk, localAAD(keyID, ec)), nil
}

func localAAD(keyID string, ec EncryptionContext) []byte {
	b := make([]byte, 0, 64)
	b = append(b, localAADLabel...)
	b = appendString16(b, keyID)
	return append(b, ec.Canonical()...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: aes: %w", ErrKeyring, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: gcm: %w", ErrKeyring, err)
	}
	return aead, nil
}
