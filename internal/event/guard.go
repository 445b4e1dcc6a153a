package event

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// ErrAddressNotAllowed is the cause when a webhook URL names, or resolves
// to, an address Switchboard never calls: private, loopback (unless the
// guard allows it), link-local, multicast, unspecified, or a cloud
// metadata address.
var ErrAddressNotAllowed = errors.New("event: address not allowed for webhooks")

// Guard decides which webhook URLs and addresses may be called. The same
// check runs at registration (on every address the name resolves to) and
// at each delivery, on the address actually dialled (net.Dialer.Control),
// so a name that later resolves elsewhere (DNS rebinding) is still refused.
type Guard struct {
	// AllowLoopback admits http and https URLs on loopback addresses: for
	// make dev's local receivers only (app.Config.WebhooksAllowLoopback).
	AllowLoopback bool
	// Resolve looks a host up; net.DefaultResolver when nil.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// metadata addresses of cloud instance metadata services besides the
// link-local range (AWS's IPv6 IMDS endpoint is in fd00::/8, a private
// range, already refused; listed so the rule says it).
var metadata = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254")}

// AddrAllowed reports whether a delivery may connect to a.
func (g Guard) AddrAllowed(a netip.Addr) bool {
	a = a.Unmap()
	for _, m := range metadata {
		if a == m {
			return false
		}
	}
	switch {
	case a.IsLoopback():
		return g.AllowLoopback
	case a.IsPrivate(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(),
		a.IsMulticast(), a.IsUnspecified(), !a.IsValid():
		return false
	}
	// 100.64.0.0/10 (carrier-grade NAT, shared address space) and
	// 0.0.0.0/8 are not the public internet either.
	if a.Is4() {
		b := a.As4()
		if b[0] == 0 || (b[0] == 100 && b[1]&0xc0 == 64) {
			return false
		}
	}
	return true
}

// CheckURL checks a webhook URL at registration: absolute https (http
// only to loopback when allowed), no credentials, and a host all of whose
// addresses are allowed.
func (g Guard) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() || len(raw) > 2048 {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidWebhookURL, "url must be an absolute https URL of at most 2048 characters")
	}
	if u.User != nil {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidWebhookURL, "url must not carry credentials (user:password@)")
	}
	if u.Fragment != "" {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidWebhookURL, "url must not have a fragment")
	}
	host := u.Hostname()
	addrs, err := g.resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidWebhookURL, "the host %q does not resolve", host)
	}
	loopback := true
	for _, a := range addrs {
		if !g.AddrAllowed(a) {
			return nil, apperr.Wrap(apperr.Invalid, apperr.CodeWebhookURLNotAllowed,
				fmt.Sprintf("the host %q resolves to %s, a private, loopback, link-local or metadata address, which webhooks never call", host, a), ErrAddressNotAllowed)
		}
		loopback = loopback && a.Unmap().IsLoopback()
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && g.AllowLoopback:
	default:
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidWebhookURL, "url must use https")
	}
	return u, nil
}

func (g Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if g.Resolve != nil {
		return g.Resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// control is the net.Dialer Control hook: it refuses to connect to an
// address the guard does not allow, whatever name led there.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, address)
	}
	if !g.AddrAllowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrAddressNotAllowed, ap.Addr())
	}
	return nil
}
