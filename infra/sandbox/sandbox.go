// Package sandbox starts an offline stand-in for every platform: the OAuth
// mock (oauth2-mock-server) as every OAuth provider, and each platform's
// HTTP fake as its API. It answers the <PLATFORM>_* environment variables
// that point Switchboard at them. `make dev` runs it for newcomers, and the
// end-to-end tests run the same sandbox.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

// Sandbox is the running stand-ins. The fakes are exported so tests can
// drive them (push an encoder, fail a call, count calls).
type Sandbox struct {
	OAuth     *oauthmock.Server
	YouTube   *youtubefake.Server
	Facebook  *facebookfake.Server
	Instagram *instagramfake.Server
	Zoom      *zoomfake.Server
	Meet      *googlemeetfake.Server
	Teams     *teamsfake.Server
	Vercel    *vercelfake.Server
	Railway   *railwayfake.Server
	Restream  *restreamfake.Server
	Render    *renderfake.Server

	env     map[string]string
	closers []func()
}

// FacebookPage is the Page the sandbox's Facebook user manages: a
// livestream target's destination can name it (GET
// /connections/facebook/destinations lists it).
const FacebookPage = "104857600000001"

// Options tune Start.
type Options struct {
	// CallbackBase is the public base URL of the API (the gateway), for each
	// platform's OAuth callback: <base>/oauth/<platform>/callback.
	CallbackBase string
	// OAuth is an OAuth mock to use instead of starting one.
	OAuth *oauthmock.Server
	// RepoRoot, for starting the OAuth mock; found from the working
	// directory when empty.
	RepoRoot string
	// Encoder plays an encoder that pushes to every stream the streaming
	// fakes hand out (YouTube, Facebook, Restream), every EncoderEvery (1 s
	// when zero), so livestreams go live in make dev without OBS. Tests
	// leave it off and play the encoder themselves.
	Encoder      bool
	EncoderEvery time.Duration
}

// ClientID is the sandbox's OAuth client id for a platform. The platforms
// of a grant group share one (YouTube and Google Meet one Google client,
// Facebook and Instagram one Meta app), as a deployment may: a revoke of
// one then reaches the other's grant, and Switchboard must not break it.
func ClientID(p platform.ID) string { return "sandbox-" + clientName(p) }

// ClientSecret is the sandbox's OAuth client secret for a platform. It is
// a test value: nothing real is protected by it.
func ClientSecret(p platform.ID) string { return "sandbox-secret-" + clientName(p) }

func clientName(p platform.ID) string {
	if d, ok := platform.Lookup(string(p)); ok && d.GrantGroup != "" {
		return string(d.GrantGroup)
	}
	return string(p)
}

// Start starts the OAuth mock (unless given) and every platform fake.
func Start(ctx context.Context, opt Options) (*Sandbox, error) {
	s := &Sandbox{env: map[string]string{}}
	if opt.OAuth != nil {
		s.OAuth = opt.OAuth
	} else {
		srv, err := oauthmock.Start(ctx, oauthmock.Options{RepoRoot: opt.RepoRoot})
		if err != nil {
			return nil, fmt.Errorf("sandbox: OAuth mock: %w", err)
		}
		s.OAuth = srv
		s.closers = append(s.closers, srv.Stop)
	}
	s.YouTube, s.Facebook, s.Instagram = youtubefake.New(), facebookfake.New(), instagramfake.New()
	s.Zoom, s.Meet, s.Teams = zoomfake.New(), googlemeetfake.New(), teamsfake.New()
	s.Vercel, s.Railway, s.Restream, s.Render = vercelfake.New(), railwayfake.New(), restreamfake.New(), renderfake.New()
	// The sandbox's Instagram user has a professional account linked to a
	// Page, as Instagram's API requires.
	s.Instagram.AddPage(FacebookPage, "Grace Church", "17841400000000001", "gracechurch")
	// The same Page on Facebook, with a Page token of its own (random: the
	// tests check it never leaves the Facebook client).
	s.Facebook.AddPage(FacebookPage, "Grace Church", "EAAGsandboxPage"+randomHex(16))
	// One Meta app for both (ClientID): one grant of the user, which either
	// fake's revoke changes, as on graph.facebook.com.
	s.Instagram.ShareGrant(s.Facebook.Grant())
	// The OAuth mock's tokens are Railway OAuth tokens, granted both of the
	// fake's workspaces: a deployment chooses one (workspaceId). Railway
	// requests are held to Railway's published schema where the specs are
	// beside the repository.
	s.Railway.UnknownTokensAreOAuth(railwayfake.PersonalWorkspace, railwayfake.TeamWorkspace)
	root := opt.RepoRoot
	if root == "" {
		root, _ = dynamolocal.FindRepoRoot()
	}
	if schema, err := railwayfake.LoadSchema(filepath.Join(root, "..", "shared", "specs", "railway-schema.json")); err == nil {
		s.Railway.ValidateWith(schema)
	}
	s.closers = append(s.closers, s.YouTube.Close, s.Facebook.Close, s.Instagram.Close, s.Zoom.Close,
		s.Meet.Close, s.Teams.Close, s.Vercel.Close, s.Railway.Close, s.Restream.Close, s.Render.Close)

	api := map[platform.ID]string{
		platform.YouTube: s.YouTube.URL, platform.Facebook: s.Facebook.URL, platform.Instagram: s.Instagram.URL,
		platform.Zoom: s.Zoom.APIURL(), platform.GoogleMeet: s.Meet.MeetURL(), platform.MicrosoftTeams: s.Teams.APIURL(),
		platform.Vercel: s.Vercel.URL, platform.Railway: s.Railway.APIURL(),
		platform.Restream: s.Restream.URL, platform.Render: s.Render.APIURL(),
	}
	clients := map[string]oauthmock.ClientConfig{}
	base := strings.TrimRight(opt.CallbackBase, "/")
	for _, d := range platform.All() {
		p := d.ID
		if u, ok := api[p]; ok {
			s.env[p.EnvPrefix()+"_API_URL"] = u
		}
		o, ok := platform.DefaultOAuth(p)
		if !ok {
			continue
		}
		pre := p.EnvPrefix() + "_"
		s.env[pre+"CLIENT_ID"] = ClientID(p)
		s.env[pre+"CLIENT_SECRET"] = ClientSecret(p)
		s.env[pre+"CALLBACK_URL"] = base + "/oauth/" + string(p) + "/callback"
		s.env[pre+"AUTH_URL"] = s.OAuth.AuthorizeURL()
		s.env[pre+"TOKEN_URL"] = s.OAuth.TokenURL()
		switch o.RevokeMethod {
		case "graph-permissions":
			// Facebook and Instagram are one Graph API: revoking the grant is
			// DELETE /me/permissions there.
			s.env[pre+"REVOKE_URL"] = s.Facebook.URL + "/me/permissions"
		case "":
		default:
			s.env[pre+"REVOKE_URL"] = s.OAuth.RevokeURL()
		}
		clients[ClientID(p)] = clientConfig(d, o)
	}
	s.env["GOOGLE_MEET_CALENDAR_API_URL"] = s.Meet.CalendarURL()
	// The fake has no hourly limit: poll Railway as fast as the others.
	s.env["RAILWAY_POLL_INTERVAL_MS"] = "1000"
	s.env["GOOGLE_MEET_USERINFO_URL"] = s.Meet.UserinfoURL()
	if err := s.OAuth.ConfigureClients(ctx, clients); err != nil {
		s.Close()
		return nil, fmt.Errorf("sandbox: configuring the OAuth mock: %w", err)
	}
	if opt.Encoder {
		s.startEncoder(opt.EncoderEvery)
	}
	return s, nil
}

// startEncoder pushes to every stream until Close.
func (s *Sandbox) startEncoder(every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.YouTube.PushAll()
				s.Facebook.PushAll()
				s.Restream.PushAll()
			}
		}
	}()
	// Stopped before the fakes close (closers run in reverse order).
	s.closers = append(s.closers, func() { close(stop); <-done })
}

// clientConfig makes the OAuth mock behave like the platform's provider.
func clientConfig(d platform.Descriptor, o platform.OAuth) oauthmock.ClientConfig {
	c := oauthmock.ClientConfig{ClientSecret: ClientSecret(d.ID), AuthStyle: oauthmock.AuthBody}
	// A grant group's vendor ends the whole grant on a revoke (Google).
	c.RevokeGrant = d.GrantGroup != ""
	if o.ClientAuth == platform.ClientAuthBasic {
		c.AuthStyle = oauthmock.AuthBasic
	}
	if !o.Refreshable {
		c.IssueRefresh = oauthmock.Bool(false)
	} else if !o.RotatesRefresh {
		// Google: the refresh answer carries no refresh token; the old one lives on.
		c.RefreshOnRefresh, c.RotateRefresh = oauthmock.Bool(false), oauthmock.Bool(false)
	}
	switch o.Exchange {
	case platform.ExchangeFacebookLongLived:
		c.LongLivedExchange = true
	case platform.ExchangeVercelIntegration:
		c.Extra = map[string]any{"installation_id": "icfg_sandbox", "team_id": "team_sandbox", "user_id": "user_sandbox"}
	}
	return c
}

// Env is the configuration that points Switchboard at the sandbox.
func (s *Sandbox) Env() map[string]string {
	out := make(map[string]string, len(s.env))
	for k, v := range s.env {
		out[k] = v
	}
	return out
}

// Close stops everything Start started.
func (s *Sandbox) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
