package connection

import (
	"net"
	"net/url"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// CheckReturnTo accepts returnTo only when it is an absolute http(s) URL
// whose origin (and path prefix, when the entry has one) is on the
// allowlist. https is required except for loopback hosts. No userinfo, no
// fragments: nothing that could turn the callback into an open redirect.
func CheckReturnTo(returnTo string, allowlist []string) error {
	bad := func(why string) error {
		return apperr.Errorf(apperr.Invalid, apperr.CodeReturnToNotAllowed, "returnTo is not allowed: %s", why)
	}
	if len(returnTo) > 2048 {
		return bad("it is too long")
	}
	u, err := url.Parse(returnTo)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("it must be an absolute URL")
	}
	if u.User != nil || u.Fragment != "" || strings.ContainsAny(returnTo, "\\\r\n\t") {
		return bad("it must not carry credentials, fragments or control characters")
	}
	if strings.Contains(u.Path, "..") {
		return bad("its path must not climb out of the allowed path")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return bad("it must use https")
	}
	for _, entry := range allowlist {
		if matchAllowed(u, strings.TrimSpace(entry)) {
			return nil
		}
	}
	if len(allowlist) == 0 {
		return bad("no return URLs are configured (RETURN_URL_ALLOWLIST)")
	}
	return bad("its origin is not on RETURN_URL_ALLOWLIST")
}

func matchAllowed(u *url.URL, entry string) bool {
	a, err := url.Parse(entry)
	if err != nil || a.Scheme == "" || a.Host == "" {
		return false
	}
	if !strings.EqualFold(a.Scheme, u.Scheme) || a.Port() != u.Port() {
		return false
	}
	host, want := strings.ToLower(u.Hostname()), strings.ToLower(a.Hostname())
	if strings.HasPrefix(want, "*.") {
		if !strings.HasSuffix(host, want[1:]) || len(host) <= len(want)-1 {
			return false
		}
	} else if host != want {
		return false
	}
	prefix := strings.TrimSuffix(a.EscapedPath(), "/")
	if prefix == "" {
		return true
	}
	p := u.EscapedPath()
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
