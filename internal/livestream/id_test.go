package livestream

import (
	"testing"
	"time"
)

func TestIDsSortByTheirTimeAndAreRecognised(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 200 {
		id := newID(base.Add(time.Duration(i) * time.Millisecond))
		if !validID(id) {
			t.Fatalf("%q is not recognised as an id", id)
		}
		if id <= prev {
			t.Fatalf("%q made later sorts before %q", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "01J", prev + "0", "81JABCDEFGHJKMNPQRSTVWXYZ0", "01JABCDEFGHJKMNPQRSTVWXYZI", "../01JABCDEFGHJKMNPQRSTVW"} {
		if validID(bad) {
			t.Errorf("%q was taken for an id", bad)
		}
	}
}
