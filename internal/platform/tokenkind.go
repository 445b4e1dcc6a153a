package platform

import "strings"

// Some platforms take more than one kind of token and must be told which
// one they are given (Railway: a project token goes in its own header, and
// `me` refuses workspace and project tokens). A connection keeps the kind
// beside the token and hands both to the client as one string made by
// TokenOfKind; the client takes it apart with SplitTokenKind. The mark
// exists only in memory: what is sealed is the token itself.
const tokenKindSep = "\x00"

// TokenOfKind joins a token and its kind ("" leaves the token as it is).
func TokenOfKind(kind, token string) string {
	if kind == "" {
		return token
	}
	return kind + tokenKindSep + token
}

// SplitTokenKind is the inverse of TokenOfKind: the kind ("" when the
// token carries none) and the token itself.
func SplitTokenKind(t string) (kind, token string) {
	if k, rest, ok := strings.Cut(t, tokenKindSep); ok {
		return k, rest
	}
	return "", t
}
