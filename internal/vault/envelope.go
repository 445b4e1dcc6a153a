package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

const (
	// Version is the envelope format version Seal writes.
	Version byte = 0x01

	// TextPrefix starts the text form of an envelope.
	TextPrefix = "sb1."

	// MaxPlaintext is the largest value Seal accepts (64 KiB). Secrets are
	// small; a DynamoDB item is at most 400 KB.
	MaxPlaintext = 64 << 10

	magic0, magic1 = 'S', 'B'
	nonceSize      = 12
	tagSize        = 16
	dataKeySize    = 32
	maxKeyID       = 2048
	maxEDK         = 4096
	headerFixed    = 2 + 1 + 2 + 2 + nonceSize // magic, version, two lengths, nonce
)

// envelope is a parsed envelope. Its slices alias the input.
type envelope struct {
	version byte
	keyID   string
	edk     []byte // encrypted data key
	nonce   []byte
	body    []byte // ciphertext || tag
}

func (e *envelope) marshal() []byte {
	b := make([]byte, 0, headerFixed+len(e.keyID)+len(e.edk)+len(e.body))
	b = append(b, magic0, magic1, e.version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.keyID)))
	b = append(b, e.keyID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.edk)))
	b = append(b, e.edk...)
	b = append(b, e.nonce...)
	return append(b, e.body...)
}

// parseEnvelope reads the binary form or the text form of an envelope.
func parseEnvelope(in []byte) (*envelope, error) {
	if bytes.HasPrefix(in, []byte(TextPrefix)) {
		raw, err := DecodeString(string(in))
		if err != nil {
			return nil, err
		}
		in = raw
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	if len(in) < 3 || in[0] != magic0 || in[1] != magic1 {
		return nil, fmt.Errorf("%w: not a vault envelope", ErrMalformed)
	}
	if in[2] != Version {
		return nil, fmt.Errorf("%w: version %d", ErrUnknownVersion, in[2])
	}
	rest := in[3:]
	keyID, rest, ok := take16(rest, maxKeyID)
	if !ok || !utf8.Valid(keyID) {
		return nil, fmt.Errorf("%w: bad key id field", ErrMalformed)
	}
	edk, rest, ok := take16(rest, maxEDK)
	if !ok {
		return nil, fmt.Errorf("%w: bad data key field", ErrMalformed)
	}
	if len(rest) < nonceSize+tagSize {
		return nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	if len(rest) > nonceSize+MaxPlaintext+tagSize {
		return nil, fmt.Errorf("%w: too long", ErrMalformed)
	}
	return &envelope{
		version: in[2],
		keyID:   string(keyID),
		edk:     edk,
		nonce:   rest[:nonceSize],
		body:    rest[nonceSize:],
	}, nil
}

// take16 reads a uint16 big-endian length (1..max) and that many bytes.
func take16(b []byte, max int) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || n > max || len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// bodyAAD is the additional data of the AES-GCM body: a domain label, the
// format version and the canonical context. The key id and the encrypted
// data key are not in it, so that Rewrap can replace them and leave the body
// as it is; they are authenticated by the keyring instead (KMS and the local
// keyring both refuse a wrapped key under another key id or context).
func bodyAAD(version byte, ec EncryptionContext) []byte {
	c := ec.Canonical()
	b := make([]byte, 0, len(aadLabel)+1+len(c))
	b = append(b, aadLabel...)
	b = append(b, version)
	return append(b, c...)
}

const aadLabel = "switchboard/vault\x00"

// EncodeString gives the text form of a binary envelope: TextPrefix followed
// by the envelope in unpadded base64url. It does not check the envelope.
func EncodeString(sealed []byte) string {
	return TextPrefix + base64.RawURLEncoding.EncodeToString(sealed)
}

// DecodeString turns the text form back into the binary envelope.
func DecodeString(s string) ([]byte, error) {
	if len(s) < len(TextPrefix) || s[:len(TextPrefix)] != TextPrefix {
		return nil, fmt.Errorf("%w: text form must start with %q", ErrMalformed, TextPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(TextPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64url in text form", ErrMalformed)
	}
	return b, nil
}

// IsText reports whether b is in the text form (starts with TextPrefix).
func IsText(b []byte) bool { return bytes.HasPrefix(b, []byte(TextPrefix)) }

// Info is what an envelope says about itself, without opening it.
type Info struct {
	Version byte
	KeyID   string
	// Size is the length of the plaintext inside.
	Size int
}

// Inspect parses an envelope (binary or text form) without opening it.
func Inspect(sealed []byte) (Info, error) {
	e, err := parseEnvelope(sealed)
	if err != nil {
		return Info{}, err
	}
	return Info{Version: e.version, KeyID: e.keyID, Size: len(e.body) - tagSize}, nil
}
