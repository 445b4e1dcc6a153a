// Package trunc shortens text that is quoted back to a caller or a log, or
// sent into a field with a length limit, without ever splitting a UTF-8
// character.
package trunc

// Runes is s cut to at most n characters (runes), for a field whose limit
// must be kept exactly.
func Runes(s string, n int) string {
	if n < 0 {
		n = 0
	}
	i := 0
	for at := range s {
		if i == n {
			return s[:at]
		}
		i++
	}
	return s
}

// String is s when it has at most n characters; otherwise its first n
// characters and "…", so a reader sees that something was left out.
func String(s string, n int) string {
	if cut := Runes(s, n); len(cut) < len(s) {
		return cut + "…"
	}
	return s
}
