package vault

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

const (
	// DefaultCacheSize is how many data keys a Vault keeps by default.
	DefaultCacheSize = 1000
	// MaxCacheAge is the longest a decrypted data key is kept, and the default.
	MaxCacheAge = 5 * time.Minute
)

type cacheID [sha256.Size]byte

// cacheKey identifies an unwrapped data key by everything the keyring was
// asked: the key id, the encrypted data key and the context. Including the
// context means a hit never skips a check KMS would have made.
func cacheKey(keyID string, edk []byte, ec EncryptionContext) cacheID {
	h := sha256.New()
	h.Write([]byte("switchboard/vault-cache\x00"))
	h.Write(appendString16(nil, keyID))
	h.Write(appendString16(nil, string(edk)))
	h.Write(ec.Canonical())
	var id cacheID
	h.Sum(id[:0])
	return id
}

// keyCache holds unwrapped data keys for Open, bounded in count and age.
// Entries are kept in insertion order: when full, the oldest goes, and the
// oldest is also the first to expire, so expired entries are always at the
// front and purging them costs only what it removes. Every removed key is
// zeroed. Expired entries are purged on every Seal and Open, so in a Lambda
// that sits frozen, keys older than the max age go at the start of the next
// invocation that uses the vault (call Vault.PurgeCache to drop them all).
//
// It also keeps one decryption in flight per key, so that concurrent Opens
// of the same record make one keyring call.
type keyCache struct {
	max    int
	maxAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[cacheID]*list.Element
	order   *list.List // of *cacheEntry, oldest first
	flights map[cacheID]chan struct{}
}

type cacheEntry struct {
	id    cacheID
	key   []byte
	added time.Time
}

func newKeyCache(max int, maxAge time.Duration, now func() time.Time) *keyCache {
	return &keyCache{
		max: max, maxAge: maxAge, now: now,
		entries: map[cacheID]*list.Element{},
		order:   list.New(),
		flights: map[cacheID]chan struct{}{},
	}
}

// get copies the key for id into dst and reports whether it was there.
func (c *keyCache) get(id cacheID, dst []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeExpiredLocked()
	el, ok := c.entries[id]
	if !ok {
		return false
	}
	copy(dst, el.Value.(*cacheEntry).key)
	return true
}

// put stores a copy of key under id.
func (c *keyCache) put(id cacheID, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeExpiredLocked()
	if el, ok := c.entries[id]; ok {
		c.removeLocked(el)
	}
	for c.order.Len() >= c.max {
		c.removeLocked(c.order.Front())
	}
	e := &cacheEntry{id: id, key: append(make([]byte, 0, len(key)), key...), added: c.now()}
	c.entries[id] = c.order.PushBack(e)
}

// begin starts a decryption of id. The leader gets leader=true and must call
// end; the others get a channel closed when the leader is done.
func (c *keyCache) begin(id cacheID) (wait <-chan struct{}, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.flights[id]; ok {
		return ch, false
	}
	c.flights[id] = make(chan struct{})
	return nil, true
}

func (c *keyCache) end(id cacheID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.flights[id]; ok {
		close(ch)
		delete(c.flights, id)
	}
}

func (c *keyCache) purgeExpired() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purgeExpiredLocked()
}

func (c *keyCache) purgeExpiredLocked() {
	now := c.now()
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		e := el.Value.(*cacheEntry)
		// An entry from the future means the clock went back: drop it too.
		if age := now.Sub(e.added); age < c.maxAge && age >= 0 {
			return
		}
		c.removeLocked(el)
	}
}

func (c *keyCache) purgeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		c.removeLocked(el)
	}
}

func (c *keyCache) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	Wipe(e.key)
	delete(c.entries, e.id)
	c.order.Remove(el)
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
