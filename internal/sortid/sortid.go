// Package sortid makes the ids of stored records. Every id holds 48 bits of
// milliseconds since 1970, then 80 random bits, so ids sort as their
// creation times do and a tenant's records list newest first by key alone.
// A record that must exist once (NewFor, ULIDFor: a series' occurrence)
// holds its own time instead (the occurrence's start) and 80 bits of a
// hash of its key, so it sorts by that time.
// A validator accepts exactly what its maker makes, so that a path
// parameter never builds a key no record could have.
package sortid

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// lowerHex is base32hex in lower case; it sorts like the bytes it encodes.
const lowerHex = "0123456789abcdefghijklmnopqrstuv"

var hexEncoding = base32.NewEncoding(lowerHex).WithPadding(base32.NoPadding)

// crockford is Crockford's base32 alphabet, as ULIDs use it.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// raw is the 16 bytes of an id made at now.
func raw(now time.Time) [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	// crypto/rand.Read never fails (since Go 1.24 it crashes instead).
	_, _ = rand.Read(b[6:])
	return b
}

// New is prefix and 26 lower-case base32hex characters encoding an id made
// at now, e.g. "dpl_06f1…".
func New(prefix string, now time.Time) string {
	b := raw(now)
	return prefix + hexEncoding.EncodeToString(b[:])
}

// NewFor is New for a record that must exist once, as ULIDFor is ULID:
// its time part is at, its other 80 bits the start of SHA-256 of key.
func NewFor(prefix string, at time.Time, key string) string {
	b := rawFor(at, key)
	return prefix + hexEncoding.EncodeToString(b[:])
}

// rawFor is the 16 bytes of the id of the record for key at at.
func rawFor(at time.Time, key string) [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	sum := sha256.Sum256([]byte(key))
	copy(b[6:], sum[:10])
	return b
}

// Valid reports whether s has the shape New(prefix, …) gives.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 26 {
		return false
	}
	for i := range len(rest) {
		if strings.IndexByte(lowerHex, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// ULID is an id made at now as a ULID: 26 characters of Crockford's
// base32, the first holding the top 3 of the 128 bits.
func ULID(now time.Time) string { return encodeULID(raw(now)) }

// ULIDFor is the ULID of a record that must exist once: its time part is
// at, its other 80 bits the start of SHA-256 of key, so everyone who makes
// the record for the same key and time names it alike (a conditional put
// then makes it exactly once).
func ULIDFor(at time.Time, key string) string { return encodeULID(rawFor(at, key)) }

func encodeULID(b [16]byte) string {
	out := make([]byte, 1, 26)
	out[0] = crockford[b[0]>>5]
	acc, bits := uint64(b[0]&0x1f), 5
	for i := 1; i < 16; i++ {
		acc = acc<<8 | uint64(b[i])
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, crockford[(acc>>uint(bits))&0x1f])
		}
	}
	return string(out)
}

// ValidULID reports whether s has the shape ULID gives.
func ValidULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := range len(s) {
		if strings.IndexByte(crockford, s[i]) < 0 {
			return false
		}
	}
	return true
}
