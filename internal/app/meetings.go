package app

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// meetingRoutes wires the meeting service into the meetings function: the
// connection service for tokens, the vault for meeting links that are
// credentials, and the meeting platforms' clients (Jitsi public rooms on
// JITSI_PUBLIC_URL, JaaS links for JITSI_API_URL).
func (d *Deps) meetingRoutes(ctx context.Context, svc *httpapi.Services) error {
	m, err := d.meetingService(ctx)
	if err != nil {
		return err
	}
	svc.Meetings = m
	return nil
}

// meetingService is the meetings capability as the meetings function and
// token-refresher's run (recurring meetings' occurrences) use it.
func (d *Deps) meetingService(ctx context.Context) (*meeting.Service, error) {
	conns, err := d.connectionService(ctx)
	if err != nil {
		return nil, err
	}
	v, err := d.vault(ctx)
	if err != nil {
		return nil, err
	}
	ps := d.clients()
	return meeting.New(meeting.Config{
		Repo:        d.Store.Meetings(registry.OfKind(platform.KindMeeting)...),
		Connections: conns,
		Clients:     meetingClients{meeters: ofKind[platform.Meeter](ps, platform.KindMeeting), jaas: ps.jaas},
		Vault:       v,
		Series:      d.Store.MeetingSeries(),
		Logger:      d.Logger,
	}), nil
}

// meetingClients gives the meeting service its platform clients.
type meetingClients struct {
	meeters map[platform.ID]platform.Meeter
	jaas    func(connection.Credentials) (platform.Meeter, error)
}

func (c meetingClients) Meeter(p platform.ID) (platform.Meeter, bool) {
	m, ok := c.meeters[p]
	return m, ok
}

// JaaS builds a client for one tenant's 8x8 JaaS app: it signs with the
// tenant's key, so it cannot be shared.
func (c meetingClients) JaaS(creds connection.Credentials) (platform.Meeter, error) {
	return c.jaas(creds)
}

// ofKind picks, in the registry's order, the clients of the platforms of
// a kind that implement C (a capability's interface).
func ofKind[C any](ps *platformSet, k platform.Kind) map[platform.ID]C {
	out := map[platform.ID]C{}
	for _, d := range registry.All() {
		if c, ok := ps.byID[d.ID].(C); ok && d.Kind == k {
			out[d.ID] = c
		}
	}
	return out
}
