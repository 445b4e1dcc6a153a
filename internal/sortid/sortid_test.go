package sortid

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestIDsSortByTimeAndAreRecognised(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	kinds := []struct {
		name  string
		make  func(time.Time) string
		valid func(string) bool
		bad   []string
	}{
		{"prefixed", func(at time.Time) string { return New("x_", at) }, func(s string) bool { return Valid("x_", s) },
			[]string{"", "x_", "y_" + strings.Repeat("0", 26), "x_" + strings.Repeat("w", 26), "x_" + strings.Repeat("A", 26), "x_" + strings.Repeat("0", 27)}},
		{"ulid", ULID, ValidULID,
			[]string{"", "01J", "81JABCDEFGHJKMNPQRSTVWXYZ0", "01JABCDEFGHJKMNPQRSTVWXYZI", "../01JABCDEFGHJKMNPQRSTVW"}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			var ids []string
			for i := range 100 {
				id := k.make(base.Add(time.Duration(i) * time.Millisecond))
				if !k.valid(id) {
					t.Fatalf("%q is not recognised as an id", id)
				}
				ids = append(ids, id)
			}
			if !sort.StringsAreSorted(ids) {
				t.Fatalf("ids made a millisecond apart do not sort by time: %v", ids)
			}
			if a, b := k.make(base), k.make(base); a == b {
				t.Fatalf("two ids in the same millisecond are equal: %s", a)
			}
			for _, bad := range k.bad {
				if k.valid(bad) {
					t.Errorf("%q was taken for an id", bad)
				}
			}
		})
	}
}

// The encodings are stored in keys, so they must not drift: an id made at a
// known time starts with the time bits the old per-package makers wrote
// (worked out by hand from 0x0123456789ab).
func TestIDsKeepTheirStoredShape(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(0x0123456789ab)
	if got := New("dpl_", at); !strings.HasPrefix(got, "dpl_04hkaps9l") {
		t.Errorf("New = %q, want it to start dpl_04hkaps9l", got)
	}
	if got := ULID(at); !strings.HasPrefix(got, "014D2PF2DB") {
		t.Errorf("ULID = %q, want it to start 014D2PF2DB", got)
	}
}
