package connection_test

import (
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
)

func TestReturnToMustBeOnTheAllowlist(t *testing.T) {
	t.Parallel()
	allow := []string{"https://app.example.com", "https://*.church.example/settings", "http://localhost:5173"}
	cases := []struct {
		url string
		ok  bool
	}{
		{"https://app.example.com/integrations?tab=1", true},
		{"https://app.example.com", true},
		{"https://grace.church.example/settings/integrations", true},
		{"https://grace.church.example/settings", true},
		{"http://localhost:5173/cb", true},
		{"https://church.example/settings", false},                 // the bare domain is not a subdomain
		{"https://grace.church.example/other", false},              // outside the allowed path
		{"https://grace.church.example/settings/../admin", false},  // climbing out of it
		{"https://app.example.com.evil.test/", false},              // suffix trick
		{"https://evil.test/?next=https://app.example.com", false}, // another origin
		{"http://app.example.com/", false},                         // http off loopback
		{"https://user:pw@app.example.com/", false},                // userinfo
		{"https://app.example.com/#frag", false},                   // fragment
		{"//app.example.com/", false},                              // scheme-relative
		{"javascript:alert(1)", false},
		{"https://app.example.com:8443/", false}, // another port
		{"/relative", false},
		{"https://app.example.com\\@evil.test/", false},
	}
	for _, c := range cases {
		err := connection.CheckReturnTo(c.url, allow)
		if (err == nil) != c.ok {
			t.Errorf("%q: got %v, want ok=%v", c.url, err, c.ok)
		}
		if err != nil && apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%q: kind %v, want Invalid", c.url, apperr.KindOf(err))
		}
	}
	if err := connection.CheckReturnTo("https://app.example.com/", nil); err == nil {
		t.Error("an empty allowlist allowed a returnTo")
	}
}
