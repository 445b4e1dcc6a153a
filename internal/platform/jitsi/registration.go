package jitsi

import (
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "jitsi"

// Registration is what Switchboard knows about Jitsi.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Jitsi", Kind: platform.KindMeeting,
			Auth:         []platform.AuthMethod{platform.AuthNone, platform.AuthAPIKey},
			Capabilities: platform.WithOperations((*PublicRooms)(nil), platform.CapMeetingCreate),
			Notes: "meet.jit.si rooms need no account and cannot be ended or deleted; 8x8 JaaS rooms carry a signed moderator link, " +
				"signed again when the meeting is changed."},
		Key: &platform.KeyAuth{Fields: []string{CredAppID, CredKeyID, CredPrivateKey}, Parse: func(in map[string]string) (platform.KeyCredentials, error) {
			secret := map[string]string{CredAppID: strings.TrimSpace(in[CredAppID]), CredKeyID: strings.TrimSpace(in[CredKeyID]), CredPrivateKey: in[CredPrivateKey]}
			if secret[CredAppID] == "" && secret[CredKeyID] == "" && secret[CredPrivateKey] == "" {
				return platform.KeyCredentials{None: true}, nil // public meet.jit.si rooms: nothing to verify or keep
			}
			return platform.KeyCredentials{Secret: secret}, nil
		}, PublicAccount: platform.Account{ID: "meet.jit.si", Name: "meet.jit.si (public rooms)"},
			Help: "Leave every field empty for public meet.jit.si rooms. For 8x8 JaaS, copy the app id, an API key id and " +
				"its RSA private key (PEM) from the JaaS console, API Keys.",
			Labels: map[string]string{CredAppID: "JaaS app id (optional)", CredKeyID: "JaaS API key id (optional)", CredPrivateKey: "JaaS private key, PEM (optional)"}},
		APIURL:   "https://8x8.vc",
		Settings: []platform.Setting{{Name: "JITSI_PUBLIC_URL", Default: DefaultPublicURL, Meaning: "where public Jitsi rooms are made"}},
		New: func(d platform.ClientDeps) any {
			return &Rooms{PublicRooms: NewPublicRooms(d.Settings["JITSI_PUBLIC_URL"]), jaasURL: d.Endpoints.APIURL}
		},
		NoDeleteNote: "Jitsi has no call that deletes a room, so nothing was sent: a public room closes when everyone leaves, " +
			"and 8x8 JaaS links stop working an hour after the planned end",
		NoMeetingUpdateNote: "a public Jitsi room is only a link, with no title or time at Jitsi: nothing was sent, and its link is unchanged",
	}
}
