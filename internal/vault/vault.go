package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Vault seals and opens secrets. It is safe for concurrent use; build one
// per process (per Lambda cold start) so its data key cache is shared by the
// invocations of a warm Lambda.
type Vault struct {
	kr    Keyring
	cache *keyCache // nil when caching is off

	seals, opens, keyringCalls, hits, misses atomic.Int64
}

type config struct {
	cacheSize int
	maxAge    time.Duration
	now       func() time.Time
}

// Option configures a Vault.
type Option func(*config)

// WithCacheSize bounds the data key cache to n entries (default
// DefaultCacheSize); n <= 0 turns the cache off, so every Open asks the
// keyring.
func WithCacheSize(n int) Option { return func(c *config) { c.cacheSize = n } }

// WithCacheMaxAge sets how long an unwrapped data key is kept. It is capped
// at MaxCacheAge (5 minutes), the default; d <= 0 turns the cache off.
func WithCacheMaxAge(d time.Duration) Option {
	return func(c *config) { c.maxAge = min(d, MaxCacheAge) }
}

// WithClock sets the clock the cache ages entries by (for tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New builds a Vault over a keyring.
func New(kr Keyring, opts ...Option) *Vault {
	cfg := config{cacheSize: DefaultCacheSize, maxAge: MaxCacheAge, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	v := &Vault{kr: kr}
	if cfg.cacheSize > 0 && cfg.maxAge > 0 {
		v.cache = newKeyCache(cfg.cacheSize, cfg.maxAge, cfg.now)
	}
	return v
}

// Keyring is the vault's keyring.
func (v *Vault) Keyring() Keyring { return v.kr }

// Stats counts what a Vault has done since it was built.
type Stats struct {
	Seals, Opens int64
	// KeyringCalls counts GenerateDataKey and Decrypt calls made by Seal
	// and Open (with KMS, one KMS request each, retries aside).
	KeyringCalls int64
	// CacheHits and CacheMisses count Opens that found or did not find
	// their data key in the cache.
	CacheHits, CacheMisses int64
	// CachedKeys is how many data keys the cache holds now.
	CachedKeys int
}

// Stats reports the vault's counters.
func (v *Vault) Stats() Stats {
	s := Stats{
		Seals: v.seals.Load(), Opens: v.opens.Load(), KeyringCalls: v.keyringCalls.Load(),
		CacheHits: v.hits.Load(), CacheMisses: v.misses.Load(),
	}
	if v.cache != nil {
		s.CachedKeys = v.cache.len()
	}
	return s
}

// PurgeCache zeroes and drops every cached data key.
func (v *Vault) PurgeCache() {
	if v.cache != nil {
		v.cache.purgeAll()
	}
}

// Sealer is what the capabilities need of the vault: sealing a secret bound
// to its context, and opening it again. *Vault is one; tests may put a
// wrapper in front of it.
type Sealer interface {
	Seal(ctx context.Context, plaintext []byte, ec EncryptionContext) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec EncryptionContext) ([]byte, error)
}

var _ Sealer = (*Vault)(nil)

// Seal encrypts plaintext under a fresh data key bound to ec and returns the
// binary envelope. It costs one keyring call (KMS GenerateDataKey) and never
// caches the data key, which is zeroed before Seal returns.
func (v *Vault) Seal(ctx context.Context, plaintext []byte, ec EncryptionContext) ([]byte, error) {
	if err := ec.Validate(); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(plaintext), MaxPlaintext)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyring, err)
	}
	v.seals.Add(1)
	if v.cache != nil {
		v.cache.purgeExpired()
	}
	v.keyringCalls.Add(1)
	dk, err := v.kr.GenerateDataKey(ctx, ec)
	defer Wipe(dk.Plaintext)
	if err != nil {
		return nil, keyringError(err)
	}
	if len(dk.Plaintext) != dataKeySize || dk.KeyID == "" || len(dk.KeyID) > maxKeyID ||
		!utf8.ValidString(dk.KeyID) || len(dk.Encrypted) == 0 || len(dk.Encrypted) > maxEDK {
		return nil, fmt.Errorf("%w: keyring returned an unusable data key", ErrKeyring)
	}
	aead, err := newGCM(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("%w: random: %w", ErrKeyring, err)
	}
	e := envelope{
		version: Version,
		keyID:   dk.KeyID,
		edk:     dk.Encrypted,
		nonce:   nonce,
		body:    aead.Seal(nil, nonce, plaintext, bodyAAD(Version, ec)),
	}
	return e.marshal(), nil
}

// SealString is Seal giving the text form (see EncodeString).
func (v *Vault) SealString(ctx context.Context, plaintext []byte, ec EncryptionContext) (string, error) {
	b, err := v.Seal(ctx, plaintext, ec)
	if err != nil {
		return "", err
	}
	return EncodeString(b), nil
}

// Open decrypts an envelope, in binary or text form, sealed with the same
// context. Any mismatch (context, key, a changed byte) is ErrCannotOpen;
// input that is not an envelope is ErrMalformed or ErrUnknownVersion; a
// keyring outage is ErrKeyring. The caller owns the plaintext; zero it when
// done where that is practical.
func (v *Vault) Open(ctx context.Context, sealed []byte, ec EncryptionContext) ([]byte, error) {
	e, err := parseEnvelope(sealed)
	if err != nil {
		return nil, err
	}
	if err := ec.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyring, err)
	}
	v.opens.Add(1)
	dk, err := v.dataKey(ctx, e, ec)
	if err != nil {
		return nil, err
	}
	defer Wipe(dk)
	aead, err := newGCM(dk)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, e.nonce, e.body, bodyAAD(e.version, ec))
	if err != nil {
		return nil, ErrCannotOpen
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// OpenString is Open for the text form.
func (v *Vault) OpenString(ctx context.Context, sealed string, ec EncryptionContext) ([]byte, error) {
	return v.Open(ctx, []byte(sealed), ec)
}

// dataKey unwraps the envelope's data key, from the cache when it can. The
// caller owns the result and must Wipe it.
func (v *Vault) dataKey(ctx context.Context, e *envelope, ec EncryptionContext) ([]byte, error) {
	if v.cache == nil {
		v.misses.Add(1)
		return v.unwrap(ctx, e, ec)
	}
	id := cacheKey(e.keyID, e.edk, ec)
	dk := make([]byte, dataKeySize)
	if v.cache.get(id, dk) {
		v.hits.Add(1)
		return dk, nil
	}
	wait, leader := v.cache.begin(id)
	if !leader {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrKeyring, ctx.Err())
		}
		if v.cache.get(id, dk) {
			v.hits.Add(1)
			return dk, nil
		}
		// The leader failed; try for ourselves.
		v.misses.Add(1)
		return v.unwrapAndCache(ctx, id, e, ec)
	}
	defer v.cache.end(id)
	v.misses.Add(1)
	return v.unwrapAndCache(ctx, id, e, ec)
}

func (v *Vault) unwrapAndCache(ctx context.Context, id cacheID, e *envelope, ec EncryptionContext) ([]byte, error) {
	dk, err := v.unwrap(ctx, e, ec)
	if err != nil {
		return nil, err
	}
	v.cache.put(id, dk)
	return dk, nil
}

func (v *Vault) unwrap(ctx context.Context, e *envelope, ec EncryptionContext) ([]byte, error) {
	v.keyringCalls.Add(1)
	dk, err := v.kr.Decrypt(ctx, e.keyID, e.edk, ec)
	if err != nil {
		Wipe(dk)
		return nil, keyringError(err)
	}
	if len(dk) != dataKeySize {
		Wipe(dk)
		return nil, ErrCannotOpen
	}
	return dk, nil
}

// keyringError makes sure a keyring's error wraps one of the package's
// sentinels (a Keyring not from this package might not).
func keyringError(err error) error {
	if errors.Is(err, ErrCannotOpen) || errors.Is(err, ErrKeyring) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrKeyring, err)
}
