package jitsi

import (
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Registration is what Switchboard knows about Jitsi.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: platform.Jitsi, Name: "Jitsi", Kind: platform.KindMeeting,
			Auth:         []platform.AuthMethod{platform.AuthNone, platform.AuthAPIKey},
			Capabilities: platform.WithOperations((*PublicRooms)(nil), platform.CapMeetingCreate),
			Notes:        "meet.jit.si rooms need no account and cannot be ended or deleted; 8x8 JaaS rooms carry a signed moderator link."},
		Key: &platform.KeyAuth{Fields: []string{CredAppID, CredKeyID, CredPrivateKey}, Parse: func(in map[string]string) (platform.KeyCredentials, error) {
			c := platform.KeyCredentials{AppID: strings.TrimSpace(in[CredAppID]), KeyID: strings.TrimSpace(in[CredKeyID]), PrivateKey: in[CredPrivateKey]}
			c.None = c.AppID == "" && c.KeyID == "" && c.PrivateKey == "" // public meet.jit.si rooms: nothing to verify or keep
			return c, nil
		}, PublicAccount: platform.Account{ID: "meet.jit.si", Name: "meet.jit.si (public rooms)"},
			Help: "Leave every field empty for public meet.jit.si rooms. For 8x8 JaaS, copy the app id, an API key id and " +
				"its RSA private key (PEM) from the JaaS console, API Keys.",
			Labels: map[string]string{CredAppID: "JaaS app id (optional)", CredKeyID: "JaaS API key id (optional)", CredPrivateKey: "JaaS private key, PEM (optional)"}},
		APIURL: "https://8x8.vc",
		New: func(d platform.ClientDeps) any {
			return &Rooms{PublicRooms: NewPublicRooms(d.Options.JitsiPublicURL), jaasURL: d.Endpoints.APIURL}
		},
		NoDeleteNote: "Jitsi has no call that deletes a room, so nothing was sent: a public room closes when everyone leaves, " +
			"and 8x8 JaaS links stop working an hour after the planned end",
	}
}
