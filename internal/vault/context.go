package vault

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"
)

// EncryptionContext binds a sealed value to what it is for. It is sent to
// KMS as the EncryptionContext of the data key and, canonically encoded, is
// the additional authenticated data of the AES-GCM body, so an envelope opens
// only with the same context it was sealed with. It is not secret: it is
// stored in the clear (in KMS's audit trail, too), so never put a secret in it.
type EncryptionContext map[string]string

// Keys of the common context built by Context.
const (
	KeyTenant   = "tenant"
	KeyPlatform = "platform"
	KeyPurpose  = "purpose"
	KeyRecord   = "record"
)

// Purposes: what a sealed value is. Use them as the purpose of Context.
const (
	PurposeAccessToken  = "access_token"
	PurposeRefreshToken = "refresh_token"
	PurposeAPIKey       = "api_key"
	PurposePrivateKey   = "private_key"
	PurposeStreamKey    = "stream_key"
	PurposePKCEVerifier = "pkce_verifier"
	PurposeDatabaseURL  = "database_url"
	PurposeEnvVars      = "env_vars" // a deployment's environment variables (values may be secrets)
	PurposeTokenSet     = "token_set"
	PurposeMeetingLink  = "meeting_link" // a meeting link that carries a credential (Zoom start_url, 8x8 JaaS links)
	// PurposeIdempotentAnswer: an answer kept for an Idempotency-Key replay
	// (it may carry what the request made, a credential link among them).
	PurposeIdempotentAnswer = "idempotent_answer"
	// PurposeWebhookSecret: a webhook endpoint's signing secret (whsec_...).
	PurposeWebhookSecret = "webhook_secret"
	// PurposeConnectLink: a hosted connect page's link (its token opens the
	// page), kept while an OAuth flow started there is under way.
	PurposeConnectLink = "connect_link"
)

// Limits on a context, well inside KMS's.
const (
	maxContextPairs = 16
	maxContextKey   = 128
	maxContextValue = 1024
)

// Context builds the common context: tenant, platform, purpose and record
// (the id of the item the value belongs to, such as a connection or a
// livestream target). Empty arguments are left out.
func Context(tenant, platform, purpose, record string) EncryptionContext {
	ec := make(EncryptionContext, 4)
	for k, v := range map[string]string{KeyTenant: tenant, KeyPlatform: platform, KeyPurpose: purpose, KeyRecord: record} {
		if v != "" {
			ec[k] = v
		}
	}
	return ec
}

// Clone returns a copy of the context.
func (ec EncryptionContext) Clone() EncryptionContext {
	if ec == nil {
		return nil
	}
	out := make(EncryptionContext, len(ec))
	for k, v := range ec {
		out[k] = v
	}
	return out
}

// Validate reports whether the context can be used: 1 to 16 pairs, keys of
// 1 to 128 bytes, values of 1 to 1024 bytes, all valid UTF-8. The error names
// the offending key, never a value.
func (ec EncryptionContext) Validate() error {
	if len(ec) == 0 {
		return fmt.Errorf("%w: empty context", ErrInvalidContext)
	}
	if len(ec) > maxContextPairs {
		return fmt.Errorf("%w: more than %d pairs", ErrInvalidContext, maxContextPairs)
	}
	for k, v := range ec {
		if len(k) == 0 || len(k) > maxContextKey || !utf8.ValidString(k) {
			return fmt.Errorf("%w: a key is empty, longer than %d bytes or not UTF-8", ErrInvalidContext, maxContextKey)
		}
		if len(v) == 0 || len(v) > maxContextValue || !utf8.ValidString(v) {
			return fmt.Errorf("%w: value of %q is empty, longer than %d bytes or not UTF-8", ErrInvalidContext, k, maxContextValue)
		}
	}
	return nil
}

// Canonical is the canonical encoding of the context (see the package doc):
// the pair count as a uint16, then for each pair in ascending byte order of
// the key, the key and the value each as a uint16 big-endian length followed
// by its bytes.
func (ec EncryptionContext) Canonical() []byte {
	keys := make([]string, 0, len(ec))
	n := 2
	for k, v := range ec {
		keys = append(keys, k)
		n += 4 + len(k) + len(v)
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint16(b, uint16(len(keys)))
	for _, k := range keys {
		b = appendString16(b, k)
		b = appendString16(b, ec[k])
	}
	return b
}

func appendString16(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// Purposes lists the Purpose* constants.
func Purposes() []string {
	return []string{
		PurposeAccessToken, PurposeRefreshToken, PurposeAPIKey, PurposePrivateKey,
		PurposeStreamKey, PurposePKCEVerifier, PurposeDatabaseURL, PurposeTokenSet, PurposeEnvVars, PurposeMeetingLink,
		PurposeIdempotentAnswer, PurposeWebhookSecret, PurposeConnectLink,
	}
}
