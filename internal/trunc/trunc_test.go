package trunc

import (
	"testing"
	"unicode/utf8"
)

func TestStringAndRunesCutByCharacters(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s          string
		n          int
		str, runes string // what String and Runes make of s
	}{
		{"abc", 5, "abc", "abc"},          // short stays
		{"abcde", 5, "abcde", "abcde"},    // exact stays
		{"abcdefg", 5, "abcde…", "abcde"}, // long is cut
		{"ééééé", 3, "ééé…", "ééé"},       // cut by characters, not bytes
		{"abc", 0, "…", ""},               // nothing kept
		{"", 3, "", ""},                   // empty
	} {
		if got := String(c.s, c.n); got != c.str {
			t.Errorf("String(%q, %d) = %q, want %q", c.s, c.n, got, c.str)
		}
		got := Runes(c.s, c.n)
		if got != c.runes {
			t.Errorf("Runes(%q, %d) = %q, want %q", c.s, c.n, got, c.runes)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Runes(%q, %d) split a character: %q", c.s, c.n, got)
		}
	}
}
