package vault

import "errors"

// Errors. Every error the package returns wraps one of these (test with
// errors.Is), and none carries plaintext, key material or envelope bytes.
var (
	// ErrCannotOpen: the envelope does not open. The context differs from the
	// one it was sealed with, the key is not the one that wrapped its data
	// key, or a byte of it was changed. These causes are deliberately not
	// told apart.
	ErrCannotOpen = errors.New("vault: cannot open envelope (wrong context or key, or tampered)")

	// ErrMalformed: the input is not an envelope: empty, truncated, wrong
	// magic, bad lengths or bad text form.
	ErrMalformed = errors.New("vault: malformed envelope")

	// ErrUnknownVersion: the envelope has the vault magic but a format
	// version this build does not know.
	ErrUnknownVersion = errors.New("vault: unknown envelope version")

	// ErrInvalidContext: the encryption context is empty or breaks a limit.
	ErrInvalidContext = errors.New("vault: invalid encryption context")

	// ErrTooLarge: the plaintext is larger than MaxPlaintext.
	ErrTooLarge = errors.New("vault: plaintext too large")

	// ErrKeyring: the keyring failed for a reason other than the envelope
	// itself (KMS unreachable, throttled, key disabled, access denied, bad
	// configuration). Retrying later may help; the stored value is not
	// known to be bad.
	ErrKeyring = errors.New("vault: keyring failure")

	// ErrConfig: the vault cannot be configured from the environment.
	ErrConfig = errors.New("vault: configuration")

	// ErrEnvelopeChanged is what an EnvelopeStore's ReplaceEnvelope returns
	// when the stored value is no longer the one listed (a concurrent write
	// won); Rewrap counts it as skipped.
	ErrEnvelopeChanged = errors.New("vault: stored envelope changed")

	// ErrLegacyMalformed: a legacy value is not "iv:authTag:encrypted" in hex
	// with a 12- or 16-byte IV and a 16-byte tag, or the legacy key is not
	// 32 bytes of hex.
	ErrLegacyMalformed = errors.New("vault: malformed legacy value")
)
