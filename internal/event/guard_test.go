package event

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

func TestGuardRefusesPrivateLoopbackLinkLocalAndMetadataAddresses(t *testing.T) {
	t.Parallel()
	refused := []string{"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
		"fd00:ec2::254", "fc00::1", "fe80::1", "0.0.0.0", "::", "100.64.0.1", "224.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"}
	g := Guard{}
	for _, a := range refused {
		if g.AddrAllowed(netip.MustParseAddr(a)) {
			t.Errorf("%s is allowed", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"} {
		if !g.AddrAllowed(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused", a)
		}
	}
	dev := Guard{AllowLoopback: true}
	if !dev.AddrAllowed(netip.MustParseAddr("127.0.0.1")) || dev.AddrAllowed(netip.MustParseAddr("169.254.169.254")) || dev.AddrAllowed(netip.MustParseAddr("10.0.0.1")) {
		t.Error("the dev guard allows more than loopback besides public addresses")
	}
}

func TestRegistrationRefusesURLsThatResolveToForbiddenAddresses(t *testing.T) {
	t.Parallel()
	resolve := func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "public.example":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		case "rebind.example": // one public, one private answer
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")}, nil
		case "metadata.example":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		return nil, errors.New("no such host")
	}
	g := Guard{Resolve: resolve}
	cases := []struct {
		url  string
		code apperr.Code
	}{
		{"https://public.example/hook", ""},
		{"http://public.example/hook", apperr.CodeInvalidWebhookURL},
		{"https://rebind.example/hook", apperr.CodeWebhookURLNotAllowed},
		{"https://metadata.example/", apperr.CodeWebhookURLNotAllowed},
		{"https://169.254.169.254/latest/meta-data/", apperr.CodeWebhookURLNotAllowed},
		{"https://[fd00:ec2::254]/", apperr.CodeWebhookURLNotAllowed},
		{"https://127.0.0.1:8443/", apperr.CodeWebhookURLNotAllowed},
		{"https://user:pw@public.example/", apperr.CodeInvalidWebhookURL},
		{"https://nowhere.example/", apperr.CodeInvalidWebhookURL},
		{"/relative", apperr.CodeInvalidWebhookURL},
	}
	for _, c := range cases {
		_, err := g.CheckURL(context.Background(), c.url)
		var ae *apperr.Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%s: %v", c.url, err)
		case c.code != "" && (!errors.As(err, &ae) || ae.Code != c.code):
			t.Errorf("%s: %v, want %s", c.url, err, c.code)
		}
	}
	dev := Guard{AllowLoopback: true}
	if _, err := dev.CheckURL(context.Background(), "http://127.0.0.1:9000/hook"); err != nil {
		t.Errorf("the dev guard refuses a loopback receiver: %v", err)
	}
}

// A name that resolved to a public address at registration and resolves
// to loopback at delivery (DNS rebinding) is refused when dialled.
func TestDeliveryRefusesAForbiddenAddressAtDialTime(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	o := NewSender(Guard{}).Send(context.Background(), srv.URL, "evt_1", time.Now(), []byte(`{}`), []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if o.OK || o.Error != "address not allowed" || hits.Load() != 0 {
		t.Fatalf("outcome %+v, %d requests reached the server", o, hits.Load())
	}
}
