package app

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
)

// meetingRoutes wires the meeting service into the meetings function: the
// connection service for tokens, the vault for meeting links that are
// credentials, and the meeting platforms' clients (Jitsi public rooms on
// JITSI_PUBLIC_URL, JaaS links for JITSI_API_URL).
func (d *Deps) meetingRoutes(ctx context.Context, svc *httpapi.Services) error {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return err
	}
	v, err := d.vault(ctx)
	if err != nil {
		return err
	}
	endpoints, ps := d.endpoints(), d.clients()
	svc.Meetings = meeting.New(meeting.Config{
		Repo:        d.Store.Meetings(),
		Connections: conns,
		Clients: meetingClients{
			meeters: map[platform.ID]platform.Meeter{
				platform.Zoom: ps.zoom, platform.GoogleMeet: ps.meet, platform.MicrosoftTeams: ps.teams, platform.Jitsi: ps.jitsi,
			},
			jaasURL: endpoints[platform.Jitsi].APIURL,
		},
		Vault:  v,
		Logger: d.Logger,
	})
	return nil
}

// meetingClients gives the meeting service its platform clients.
type meetingClients struct {
	meeters map[platform.ID]platform.Meeter
	jaasURL string
}

func (c meetingClients) Meeter(p platform.ID) (platform.Meeter, bool) {
	m, ok := c.meeters[p]
	return m, ok
}

// JaaS builds a client for one tenant's 8x8 JaaS app: it signs with the
// tenant's key, so it cannot be shared.
func (c meetingClients) JaaS(creds connection.Credentials) (platform.Meeter, error) {
	jc, err := jitsi.ParseCredentials(map[string]string{
		jitsi.CredAppID: creds.AppID, jitsi.CredKeyID: creds.KeyID, jitsi.CredPrivateKey: creds.PrivateKey,
	})
	if err != nil {
		return nil, err
	}
	return jitsi.NewJaaS(jc, c.jaasURL), nil
}
