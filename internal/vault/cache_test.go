package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingKeyring wraps a LocalKeyring, counts calls and keeps the slices
// it handed out so tests can check they were zeroed.
type countingKeyring struct {
	*LocalKeyring
	generate, decrypt atomic.Int64
	gate              chan struct{} // when set, Decrypt waits for it

	mu     sync.Mutex
	handed [][]byte
}

func newCountingKeyring(t *testing.T) *countingKeyring {
	t.Helper()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	lk, err := NewLocalKeyring(hex.EncodeToString(kek))
	if err != nil {
		t.Fatal(err)
	}
	return &countingKeyring{LocalKeyring: lk}
}

func (k *countingKeyring) GenerateDataKey(ctx context.Context, ec EncryptionContext) (DataKey, error) {
	k.generate.Add(1)
	dk, err := k.LocalKeyring.GenerateDataKey(ctx, ec)
	k.mu.Lock()
	k.handed = append(k.handed, dk.Plaintext)
	k.mu.Unlock()
	return dk, err
}

func (k *countingKeyring) Decrypt(ctx context.Context, keyID string, edk []byte, ec EncryptionContext) ([]byte, error) {
	k.decrypt.Add(1)
	if k.gate != nil {
		<-k.gate
	}
	dk, err := k.LocalKeyring.Decrypt(ctx, keyID, edk, ec)
	k.mu.Lock()
	k.handed = append(k.handed, dk)
	k.mu.Unlock()
	return dk, err
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testEC = EncryptionContext{"tenant": "t", "platform": "zoom", "purpose": PurposeAccessToken, "record": "r"}

func TestRepeatedOpensOfOneEnvelopeMakeOneKeyringCall(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr)
	sealed, err := v.Seal(context.Background(), []byte("token"), testEC)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := v.Open(context.Background(), sealed, testEC); err != nil {
			t.Fatal(err)
		}
	}
	if got := kr.decrypt.Load(); got != 1 {
		t.Fatalf("Decrypt calls = %d, want 1", got)
	}
	if s := v.Stats(); s.CacheHits != 999 || s.CacheMisses != 1 || s.CachedKeys != 1 || s.KeyringCalls != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSealZeroesItsDataKeyAndNeverCachesIt(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr)
	if _, err := v.Seal(context.Background(), []byte("token"), testEC); err != nil {
		t.Fatal(err)
	}
	if !allZero(kr.handed[0]) {
		t.Fatal("Seal left its data key in memory")
	}
	if n := v.Stats().CachedKeys; n != 0 {
		t.Fatalf("Seal cached %d keys", n)
	}
}

func TestOpenZeroesTheKeyringsCopyOfTheDataKey(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr, WithCacheSize(0))
	sealed, _ := v.Seal(context.Background(), []byte("token"), testEC)
	if _, err := v.Open(context.Background(), sealed, testEC); err != nil {
		t.Fatal(err)
	}
	if !allZero(kr.handed[1]) {
		t.Fatal("Open left the unwrapped data key in memory")
	}
}

func TestCachedKeysExpireAfterMaxAgeAndAreZeroed(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	kr := newCountingKeyring(t)
	v := New(kr, WithClock(clock.now), WithCacheMaxAge(time.Minute))
	ctx := context.Background()
	sealed, _ := v.Seal(ctx, []byte("token"), testEC)
	if _, err := v.Open(ctx, sealed, testEC); err != nil {
		t.Fatal(err)
	}
	cached := v.cache.order.Front().Value.(*cacheEntry).key
	clock.advance(59 * time.Second)
	if _, err := v.Open(ctx, sealed, testEC); err != nil {
		t.Fatal(err)
	}
	if got := kr.decrypt.Load(); got != 1 {
		t.Fatalf("within max age: %d Decrypt calls, want 1", got)
	}
	clock.advance(time.Second)
	// Any vault call purges what expired.
	if _, err := v.Seal(ctx, []byte("other"), testEC); err != nil {
		t.Fatal(err)
	}
	if v.Stats().CachedKeys != 0 || !allZero(cached) {
		t.Fatal("an expired key was kept or not zeroed")
	}
	if _, err := v.Open(ctx, sealed, testEC); err != nil {
		t.Fatal(err)
	}
	if got := kr.decrypt.Load(); got != 2 {
		t.Fatalf("after max age: %d Decrypt calls, want 2", got)
	}
}

func TestCacheMaxAgeIsCappedAtFiveMinutes(t *testing.T) {
	t.Parallel()
	if v := New(newCountingKeyring(t), WithCacheMaxAge(time.Hour)); v.cache.maxAge != 5*time.Minute {
		t.Fatalf("max age %v", v.cache.maxAge)
	}
	if v := New(newCountingKeyring(t)); v.cache.maxAge != 5*time.Minute || v.cache.max != 1000 {
		t.Fatalf("defaults: %v, %d", v.cache.maxAge, v.cache.max)
	}
	if v := New(newCountingKeyring(t), WithCacheMaxAge(0)); v.cache != nil {
		t.Fatal("max age 0 should turn the cache off")
	}
}

func TestCacheIsBoundedAndZeroesWhatItEvicts(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr, WithCacheSize(3))
	ctx := context.Background()
	var sealed [][]byte
	for i := range 5 {
		ec := testEC.Clone()
		ec["record"] = string(rune('a' + i))
		s, _ := v.Seal(ctx, []byte("token"), ec)
		if _, err := v.Open(ctx, s, ec); err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
		if i == 0 {
			defer func(k []byte) {
				if !allZero(k) {
					t.Error("evicted key not zeroed")
				}
			}(v.cache.order.Front().Value.(*cacheEntry).key)
		}
	}
	if n := v.Stats().CachedKeys; n != 3 {
		t.Fatalf("cache holds %d keys, want 3", n)
	}
	// The oldest went: opening it again asks the keyring.
	before := kr.decrypt.Load()
	ec := testEC.Clone()
	ec["record"] = "a"
	if _, err := v.Open(ctx, sealed[0], ec); err != nil {
		t.Fatal(err)
	}
	if kr.decrypt.Load() != before+1 {
		t.Fatal("evicted key was still served")
	}
}

func TestPurgeCacheZeroesEveryKey(t *testing.T) {
	t.Parallel()
	v := New(newCountingKeyring(t))
	s, _ := v.Seal(context.Background(), []byte("token"), testEC)
	_, _ = v.Open(context.Background(), s, testEC)
	k := v.cache.order.Front().Value.(*cacheEntry).key
	v.PurgeCache()
	if v.Stats().CachedKeys != 0 || !allZero(k) {
		t.Fatal("PurgeCache kept or did not zero a key")
	}
}

func TestConcurrentOpensOfOneEnvelopeShareOneKeyringCall(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr)
	ctx := context.Background()
	sealed, _ := v.Seal(ctx, []byte("token"), testEC)
	kr.gate = make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := v.Open(ctx, sealed, testEC)
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all reach the cache
	close(kr.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := kr.decrypt.Load(); got != 1 {
		t.Fatalf("Decrypt calls = %d, want 1", got)
	}
}

func TestWithCacheOffEveryOpenAsksTheKeyring(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr, WithCacheSize(0))
	s, _ := v.Seal(context.Background(), []byte("token"), testEC)
	for range 3 {
		if _, err := v.Open(context.Background(), s, testEC); err != nil {
			t.Fatal(err)
		}
	}
	if got := kr.decrypt.Load(); got != 3 {
		t.Fatalf("Decrypt calls = %d, want 3", got)
	}
}

func TestAWaitingOpenGivesUpWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	kr := newCountingKeyring(t)
	v := New(kr)
	s, _ := v.Seal(context.Background(), []byte("token"), testEC)
	kr.gate = make(chan struct{})
	done := make(chan struct{})
	go func() { _, _ = v.Open(context.Background(), s, testEC); close(done) }()
	for kr.decrypt.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.Open(ctx, s, testEC); !errors.Is(err, ErrKeyring) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open whose context ends while another decrypts: %v", err)
	}
	if got := kr.decrypt.Load(); got != 1 {
		t.Fatalf("the waiting Open called the keyring itself (%d calls)", got)
	}
	close(kr.gate)
	<-done
}
