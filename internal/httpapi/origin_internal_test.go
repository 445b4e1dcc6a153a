package httpapi

import (
	"net/url"
	"testing"
)

// A browser's Origin header is the serialized origin (RFC 6454, 6.1): the
// configured base URL matches it however it is written.
func TestTheBaseURLsOriginIsSerializedAsABrowserSendsIt(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"https://api.example.com":        "https://api.example.com",
		"https://API.Example.com/v1":     "https://api.example.com",
		"https://api.example.com:443/":   "https://api.example.com",
		"https://api.example.com:8443":   "https://api.example.com:8443",
		"http://127.0.0.1:80":            "http://127.0.0.1",
		"http://127.0.0.1:3000":          "http://127.0.0.1:3000",
		"HTTPS://[2001:DB8::1]:443/base": "https://[2001:db8::1]",
		"http://[2001:db8::1]:3000/":     "http://[2001:db8::1]:3000",
	} {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if got := serializedOrigin(u); got != want {
			t.Errorf("%s: %s, want %s", base, got, want)
		}
	}
}
