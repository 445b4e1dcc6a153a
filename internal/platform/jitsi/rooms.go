package jitsi

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Rooms is Jitsi's client as the app holds it: public rooms on the
// configured host, a key verifier, and JaaS clients built per tenant (a
// JaaS client signs with the tenant's key, so it cannot be shared).
type Rooms struct {
	*PublicRooms
	jaasURL string // JITSI_API_URL
}

// VerifyKey checks a JaaS key as a connection is made: JaaS has no API to
// ask, so the key must parse and sign (Verify).
func (r *Rooms) VerifyKey(_ context.Context, c platform.KeyCredentials) (platform.Account, error) {
	return Verify(c.Secret)
}

// JaaS builds a client for one tenant's 8x8 JaaS app.
func (r *Rooms) JaaS(c platform.KeyCredentials) (platform.Meeter, error) {
	jc, err := ParseCredentials(c.Secret)
	if err != nil {
		return nil, err
	}
	return NewJaaS(jc, r.jaasURL), nil
}
