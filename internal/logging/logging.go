// Package logging builds the structured JSON logger every function uses.
// Records carry the function's name; handlers add the request id and the
// cold-start flag. Attributes whose names say they hold a secret are
// replaced before they are written, and the userinfo of every URL in a
// message or a text value (https://token@github.com/...) is masked, as a
// second line of defence: the first is that no code passes a secret to a
// logger at all.
package logging

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
)

// Redacted is what a secret-named attribute's value becomes.
const Redacted = "[REDACTED]"

// New returns a JSON logger that writes to w and names the function.
func New(w io.Writer, function string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redact})
	return slog.New(h).With(slog.String("function", function))
}

// secretWords are the name parts that mark an attribute as secret.
var secretWords = []string{
	"authorization", "token", "secret", "password", "passwd", "apikey", "api_key",
	"api-key", "private", "verifier", "cookie", "credential", "stream_key", "streamkey", "kek",
	"plaintext", "connection_string", "database_url",
}

// IsSecretName reports whether an attribute or header name says it holds a
// secret.
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindGroup && IsSecretName(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "@") {
			return slog.String(a.Key, RedactURLUserinfo(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok && strings.Contains(err.Error(), "@") {
			return slog.String(a.Key, RedactURLUserinfo(err.Error()))
		}
	}
	return a
}

// urlUserinfo is a URL's scheme and userinfo: what RFC 3986 allows
// between "scheme://" and "@" before the host. Compiled on first use, not
// in every function's package inits (cold start).
var urlUserinfo = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@`)
})

// RedactURLUserinfo masks the userinfo (user, password, token) of every
// URL in s: https://ghp_x@github.com/a/b becomes
// https://[REDACTED]@github.com/a/b.
func RedactURLUserinfo(s string) string {
	return urlUserinfo().ReplaceAllString(s, "${1}"+Redacted+"@")
}
