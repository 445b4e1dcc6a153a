// Package vault is the one way Switchboard keeps a secret: access and
// refresh tokens, API keys, JaaS private keys, stream keys, PKCE verifiers
// and database connection strings are all sealed here before they are
// stored, and opened here only when a call needs them (ARCHITECTURE.md,
// invariant 3).
//
// # Sealing
//
// Vault.Seal asks the keyring for a fresh 256-bit data key (KMS
// GenerateDataKey, with the encryption context as KMS EncryptionContext),
// encrypts the plaintext with AES-256-GCM under a random 96-bit nonce with
// the canonical context as additional data, zeroes the data key and returns
// an envelope. Vault.Open reverses it; with any other context, key or a
// single changed byte it fails with ErrCannotOpen, which says nothing about
// which of these it was. No error, and no log (the package logs nothing),
// holds plaintext, key material or envelope bytes.
//
// The context is an EncryptionContext, normally built by Context(tenant,
// platform, purpose, record) with a Purpose* constant. It is not secret.
//
// # Envelope format, version 1
//
// An envelope is binary. All integers are big-endian.
//
//	offset     size   field
//	0          2      magic "SB" (0x53 0x42)
//	2          1      format version, 0x01
//	3          2      L: length of the key id, 1..2048
//	5          L      key id, UTF-8: the KMS key ARN, or "local:<16 hex>" for a local KEK
//	5+L        2      E: length of the encrypted data key, 1..4096
//	7+L        E      encrypted data key: the KMS CiphertextBlob, or for a local
//	                  KEK a 12-byte nonce and the AES-256-GCM-wrapped key with its tag
//	7+L+E      12     nonce of the body
//	19+L+E     N+16   body: AES-256-GCM ciphertext of the N-byte plaintext, then the 16-byte tag
//
// The body's additional data is the bytes "switchboard/vault" and 0x00, the
// format version byte, then the canonical context. The key id and encrypted
// data key are outside it, so rotation can replace them without touching
// the body; they are bound by the keyring instead (KMS binds the context to
// its ciphertext blob and refuses a Decrypt naming another key; the local
// keyring puts the key id and context in its own additional data).
//
// An unknown magic is ErrMalformed; the right magic with another version is
// ErrUnknownVersion, so a later format can be told apart and introduced
// alongside this one.
//
// Text form: where a value must be a string (a DynamoDB S attribute, a
// JSON field), the envelope is written as "sb1." followed by the binary
// envelope in unpadded base64url (EncodeString, Vault.SealString). Open and
// Rewrap accept either form; DynamoDB items may hold the binary form as a B
// attribute. Rewrap keeps the form it found.
//
// # Canonical context
//
// The canonical encoding of a context, used as additional data and as part
// of the cache key: the number of pairs as a uint16, then, in ascending byte
// order of the keys, each key and then its value as a uint16 length followed
// by the bytes. A context has 1 to 16 pairs, keys of 1 to 128 bytes and
// values of 1 to 1024 bytes, all UTF-8 (Validate).
//
// # Data key cache
//
// Open keeps unwrapped data keys so that reading the same credentials again
// in a warm Lambda costs no KMS call: at most DefaultCacheSize (1,000)
// entries, each at most MaxCacheAge (5 minutes) old, keyed by SHA-256 of the
// key id, the encrypted data key and the canonical context. When full, the
// oldest entry goes. Expired entries are removed on every Seal and Open;
// removed keys are zeroed; concurrent Opens of the same envelope share one
// keyring call. Seal never caches. Key material is zeroed as soon as it is
// not needed (see Wipe for how far Go allows that). WithCacheSize,
// WithCacheMaxAge and WithClock tune it; Stats counts keyring calls and hits.
//
// # Keyrings
//
// A Keyring makes, unwraps and re-wraps data keys. KMSKeyring uses AWS KMS
// through a KMSAPI (a *kms.Client); LocalKeyring uses a key-encryption key
// from LOCAL_KEK, for `make dev`. KeyringFromEnv and FromEnv choose between
// them from the environment (see EnvKMSKeyID and the other Env* constants):
// KMS_KEY_ID set means KMS; otherwise LOCAL_KEK, which is refused inside
// Lambda unless ALLOW_LOCAL_KEK_IN_LAMBDA=true.
//
// # Rotation
//
// Each envelope names the key that wrapped its data key, and Open unwraps
// with that key, so envelopes made under an older key keep opening after
// KMS_KEY_ID changes (KMS's own yearly rotation of a key's material needs
// nothing at all). Rewrap moves stored envelopes to a new key: for each
// envelope in an EnvelopeStore it calls ReEncrypt on the data key only (the
// body is byte for byte the same) and writes the result back with a
// conditional write, counting what it moved; it can be resumed from the
// cursor it returns. The command is `go run ./infra/cmd/vault rewrap -table
// T -to KEY_ARN [-cursor C]`.
//
// # Legacy import
//
// The earlier system stored tokens as "iv:authTag:encrypted" (hex fields,
// AES-256-GCM, a 32-byte key in hex as TOKEN_ENCRYPTION_KEY). OpenLegacy
// opens such a value and ImportLegacy re-seals it; `go run ./infra/cmd/vault
// import-legacy` does it for JSON lines on standard input.
package vault
