package trunc

import (
	"testing"
	"unicode/utf8"
)

func TestStringAndRunes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		s         string
		n         int
		str, runs string
	}{
		{"short stays", "abc", 5, "abc", "abc"},
		{"exact stays", "abcde", 5, "abcde", "abcde"},
		{"long is cut", "abcdefg", 5, "abcde…", "abcde"},
		{"cut by characters, not bytes", "ééééé", 3, "ééé…", "ééé"},
		{"zero", "abc", 0, "…", ""},
		{"empty", "", 3, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := String(tt.s, tt.n); got != tt.str {
				t.Errorf("String(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.str)
			}
			got := Runes(tt.s, tt.n)
			if got != tt.runs {
				t.Errorf("Runes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.runs)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Runes(%q, %d) split a character: %q", tt.s, tt.n, got)
			}
		})
	}
}
