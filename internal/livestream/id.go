package livestream

import (
	"crypto/rand"
	"strings"
	"time"
)

// crockford is Crockford's base32 alphabet: ids sort as their times do.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newID is a ULID: 48 bits of milliseconds since the epoch, then 80 random
// bits, as 26 base32 characters. Ids sort by creation time, so the newest
// come first when a tenant's livestreams are read in reverse key order.
func newID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	// 128 bits as 26 characters of 5 bits, the first holding the top 3.
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

// validID reports whether id could be one newID made; anything else names
// no livestream.
func validID(id string) bool {
	if len(id) != 26 || id[0] > '7' {
		return false
	}
	for i := range len(id) {
		if strings.IndexByte(crockford, id[i]) < 0 {
			return false
		}
	}
	return true
}
