// Package jitsitest checks 8x8 JaaS meeting links as JaaS does, for tests.
// The client signs links and checks one token when credentials are
// connected; only tests ever check a whole link, so that lives here, out of
// the meetings Lambda.
package jitsitest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
)

// Verifier checks what a JaaS app's key signed.
type Verifier struct {
	appID string
	jaas  *jitsi.JaaS
}

// NewVerifier checks tokens and links of the app creds names.
func NewVerifier(creds jitsi.Credentials) *Verifier {
	return &Verifier{appID: creds.AppID, jaas: jitsi.NewJaaS(creds, "")}
}

// VerifyLink checks a JaaS meeting link as JaaS would at time at: the path
// is /{appId}/{room} of this app, the jwt parameter verifies
// (jitsi.JaaS.VerifyToken) and its room claim is the link's room.
func (v *Verifier) VerifyLink(link string, at time.Time) (*jitsi.Claims, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("jitsi: link: %w", err)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != v.appID || parts[1] == "" {
		return nil, fmt.Errorf("jitsi: link path %q is not /%s/<room>", u.Path, v.appID)
	}
	tok := u.Query().Get("jwt")
	if tok == "" {
		return nil, errors.New("jitsi: link has no jwt")
	}
	c, err := v.jaas.VerifyToken(tok, at)
	if err != nil {
		return nil, err
	}
	if c.Room != parts[1] {
		return nil, fmt.Errorf("jitsi: token is for room %q, link for %q", c.Room, parts[1])
	}
	return c, nil
}
