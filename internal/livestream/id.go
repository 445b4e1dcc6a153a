package livestream

import (
	"time"

	"github.com/switchboard-dev/switchboard/internal/sortid"
)

// newID is a ULID: 48 bits of milliseconds since the epoch, then 80 random
// bits, as 26 base32 characters. Ids sort by creation time, so the newest
// come first when a tenant's livestreams are read in reverse key order.
func newID(now time.Time) string { return sortid.ULID(now) }

// validID reports whether id could be one newID made; anything else names
// no livestream.
func validID(id string) bool { return sortid.ValidULID(id) }
