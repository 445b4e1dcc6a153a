package app

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/render"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// platformSet is every platform client a process needs, built once.
type platformSet struct {
	youtube   *youtube.Client
	facebook  *facebook.Client
	instagram *instagram.Client
	zoom      *zoom.Client
	meet      *googlemeet.Client
	teams     *teams.Client
	jitsi     *jitsi.PublicRooms // JITSI_PUBLIC_URL; JaaS clients are built per tenant (meetingClients)
	vercel    *vercel.Client
	railway   *railway.Client
	restream  *restream.Client
	render    *render.Client

	// byID is every client above by its platform, for the capabilities
	// to pick theirs by interface (registry.OfKind).
	byID map[platform.ID]any
	// jaas builds a client for one tenant's 8x8 JaaS app: it signs with the
	// tenant's key, so it cannot be shared.
	jaas func(connection.Credentials) (platform.Meeter, error)

	accounts  map[platform.ID]connection.AccountReader
	keys      map[platform.ID]connection.KeyVerifier
	longLived connection.LongLivedExchanger
	revokers  map[platform.ID]connection.GrantRevoker
}

// platformClients builds the platform clients over the configured
// endpoints (each <PLATFORM>_API_URL, with the vendors' defaults).
func (d *Deps) platformClients(ep map[platform.ID]platform.Endpoints) platformSet {
	hc := d.HTTP
	ps := platformSet{
		youtube:   youtube.New(hc, ep[platform.YouTube].APIURL),
		facebook:  facebook.New(hc, ep[platform.Facebook].APIURL),
		instagram: instagram.New(hc, ep[platform.Instagram].APIURL),
		zoom:      zoom.New(hc, ep[platform.Zoom].APIURL),
		meet: googlemeet.New(hc, ep[platform.GoogleMeet].APIURL, d.Config.GoogleMeetCalendarAPIURL,
			googlemeetUserinfo(d.Config.GoogleMeetUserinfoURL)...),
		teams:    teams.New(hc, ep[platform.MicrosoftTeams].APIURL),
		jitsi:    jitsi.NewPublicRooms(d.Config.JitsiPublicURL),
		vercel:   vercel.New(hc, ep[platform.Vercel].APIURL, vercel.WithUploadConcurrency(d.Config.VercelUploadConcurrency)),
		railway:  railway.New(hc, ep[platform.Railway].APIURL),
		restream: restream.New(hc, ep[platform.Restream].APIURL),
		render:   render.New(hc, ep[platform.Render].APIURL),
	}
	ps.byID = map[platform.ID]any{
		platform.YouTube: ps.youtube, platform.Facebook: ps.facebook, platform.Instagram: ps.instagram,
		platform.Zoom: ps.zoom, platform.GoogleMeet: ps.meet, platform.MicrosoftTeams: ps.teams, platform.Jitsi: ps.jitsi,
		platform.Vercel: ps.vercel, platform.Railway: ps.railway, platform.Restream: ps.restream,
		platform.Render: ps.render,
	}
	jaasURL := ep[platform.Jitsi].APIURL
	ps.jaas = func(creds connection.Credentials) (platform.Meeter, error) {
		jc, err := jitsi.ParseCredentials(map[string]string{
			jitsi.CredAppID: creds.AppID, jitsi.CredKeyID: creds.KeyID, jitsi.CredPrivateKey: creds.PrivateKey,
		})
		if err != nil {
			return nil, err
		}
		return jitsi.NewJaaS(jc, jaasURL), nil
	}
	ps.accounts = map[platform.ID]connection.AccountReader{
		platform.YouTube: ps.youtube, platform.Facebook: ps.facebook, platform.Instagram: ps.instagram,
		platform.Zoom: ps.zoom, platform.GoogleMeet: ps.meet, platform.MicrosoftTeams: ps.teams,
		platform.Vercel: ps.vercel, platform.Railway: ps.railway, platform.Restream: ps.restream,
		platform.Render: ps.render,
	}
	byToken := func(r connection.AccountReader) connection.KeyVerifier {
		return func(ctx context.Context, c connection.Credentials) (platform.Account, error) {
			return r.Whoami(ctx, c.Bearer()) // the token with its kind (a Railway workspace or project token)
		}
	}
	ps.keys = map[platform.ID]connection.KeyVerifier{
		platform.Vercel:  byToken(ps.vercel),
		platform.Railway: byToken(ps.railway),
		platform.Render:  byToken(ps.render),
		// JaaS has no API to ask: the key must parse and sign.
		platform.Jitsi: func(_ context.Context, c connection.Credentials) (platform.Account, error) {
			return jitsi.Verify(map[string]string{"appId": c.AppID, "keyId": c.KeyID, "privateKey": c.PrivateKey})
		},
	}
	// Meta's grant is revoked through Graph one permission at a time where
	// a sibling connection still needs the rest.
	ps.revokers = map[platform.ID]connection.GrantRevoker{platform.Facebook: ps.facebook, platform.Instagram: ps.instagram}
	ps.longLived = func(ctx context.Context, e platform.Endpoints, short string) (string, time.Duration, error) {
		return ps.facebook.ExchangeLongLived(ctx, e.TokenURL, e.ClientID, e.ClientSecret, short)
	}
	return ps
}

// deployers are the deploy platforms' clients for deploy work: Railway's
// with the deploy options of Config (its undocumented upload, its polling).
func (d *Deps) deployers() map[platform.ID]platform.Deployer {
	ps := d.clients()
	railwayPoll := d.Config.RailwayPollInterval
	var rw platform.Deployer = railway.New(d.HTTP, d.endpoints()[platform.Railway].APIURL,
		railway.WithUndocumentedUpload(d.Config.RailwayUndocumentedUpload),
		railway.WithStatusPolling(railwayPoll), railway.WithPolling(railwayPoll, 0))
	return map[platform.ID]platform.Deployer{platform.Vercel: ps.vercel, platform.Railway: rw, platform.Render: ps.render}
}

func googlemeetUserinfo(u string) []googlemeet.Option {
	if u == "" {
		return nil
	}
	return []googlemeet.Option{googlemeet.WithUserinfoURL(u)}
}
