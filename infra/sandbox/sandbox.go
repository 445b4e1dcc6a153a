// Package sandbox starts an offline stand-in for every platform: the OAuth
// mock (oauth2-mock-server) as every OAuth provider, and each platform's
// HTTP fake as its API. It answers the <PLATFORM>_* environment variables
// that point Switchboard at them. `make dev` runs it for newcomers, and the
// end-to-end tests run the same sandbox.
//
// Like a payment API's sandbox it has test credentials, so the bad paths
// can be tried too (README lists them): an API key or token starting
// InvalidKeyPrefix is refused by the platform, one starting
// RevokedKeyPrefix works for the connect and is refused from then on (so
// the next verification finds it revoked), and login_hint=DeclineLoginHint
// on an authorizeUrl makes the consent declined. The rules live here, in
// front of the fakes, which keep modelling their vendors.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/fakekit"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
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

// Test credentials.
const (
	// InvalidKeyPrefix starts a key the platform refuses (401): connecting
	// with it answers 422 invalid_credentials.
	InvalidKeyPrefix = "invalid_"
	// RevokedKeyPrefix starts a key the platform accepts until it is
	// verified a second time, as if the user revoked it right after
	// connecting: the connect works, and the next verification (the
	// refresher's daily one, or POST /connections/{platform}/refresh)
	// finds it refused and marks the connection expired. The sandbox
	// knows a verification as a repeat of the key's very first request
	// (the account read that verified it at connect).
	RevokedKeyPrefix = "revoked_"
	// DeclineLoginHint, as login_hint on an authorizeUrl, makes the OAuth
	// mock decline the consent: it redirects back with error=access_denied.
	DeclineLoginHint = "decline"
	// WithholdLoginHint, as login_hint on an authorizeUrl, makes the OAuth
	// mock approve without the scopes the platform needs
	// (platform.OAuth.NeededScopes), as a user who unticks them on Google's
	// granular consent screen: the connection is stored in error with
	// reason missing_scopes.
	WithholdLoginHint = "untick"
)

// ClientID is the sandbox's OAuth client id for a platform. The platforms
// of a grant group share one (YouTube and Google Meet one Google client,
// Facebook and Instagram one Meta app), as a deployment may: a revoke of
// one then reaches the other's grant, and Switchboard must not break it.
func ClientID(p platform.ID) string { return "sandbox-" + clientName(p) }

// ClientSecret is the sandbox's OAuth client secret for a platform. It is
// a test value: nothing real is protected by it.
func ClientSecret(p platform.ID) string { return "sandbox-secret-" + clientName(p) }

func clientName(p platform.ID) string {
	if d, ok := registry.Lookup(string(p)); ok && d.GrantGroup != "" {
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

	// Each platform's API URL is its fake's (the fake's package names the
	// platform it stands in for).
	api := map[platform.ID]string{}
	for _, f := range []struct{ id, url string }{
		{youtubefake.PlatformID, s.YouTube.URL}, {facebookfake.PlatformID, s.Facebook.URL},
		{instagramfake.PlatformID, s.Instagram.URL}, {zoomfake.PlatformID, s.Zoom.APIURL()},
		{googlemeetfake.PlatformID, s.Meet.MeetURL()}, {teamsfake.PlatformID, s.Teams.APIURL()},
		{vercelfake.PlatformID, s.testCredentials(s.Vercel.URL, s.Vercel.URL, s.Vercel.RejectToken)},
		{railwayfake.PlatformID, s.testCredentials(s.Railway.URL, s.Railway.APIURL(), s.Railway.RejectToken)},
		{restreamfake.PlatformID, s.Restream.URL},
		{renderfake.PlatformID, s.testCredentials(s.Render.URL, s.Render.APIURL(), s.Render.RejectToken)},
	} {
		api[platform.ID(f.id)] = f.url
	}
	clients := map[string]oauthmock.ClientConfig{}
	base := strings.TrimRight(opt.CallbackBase, "/")
	for _, d := range registry.All() {
		p := d.ID
		if u, ok := api[p]; ok {
			s.env[p.EnvPrefix()+"_API_URL"] = u
		}
		o, ok := registry.DefaultOAuth(p)
		if !ok {
			continue
		}
		pre := p.EnvPrefix() + "_"
		s.env[pre+"CLIENT_ID"] = ClientID(p)
		s.env[pre+"CLIENT_SECRET"] = ClientSecret(p)
		s.env[pre+"CALLBACK_URL"] = base + "/oauth/" + string(p) + "/callback"
		s.env[pre+"AUTH_URL"] = s.OAuth.AuthorizeURL()
		s.env[pre+"TOKEN_URL"] = s.OAuth.TokenURL()
		// The mock sends RFC 9207's iss with every authorization response,
		// and the callback holds it to this issuer.
		s.env[pre+"ISSUER"] = s.OAuth.Issuer()
		switch o.RevokeMethod {
		case "graph-permissions":
			// Facebook and Instagram are one Graph API: revoking the grant is
			// DELETE /me/permissions there.
			s.env[pre+"REVOKE_URL"] = s.Facebook.URL + "/me/permissions"
		case "":
		default:
			s.env[pre+"REVOKE_URL"] = s.OAuth.RevokeURL()
		}
		c := clientConfig(d, o)
		if shared, ok := clients[ClientID(p)]; ok {
			// One client for a grant group: it withholds what any of them needs.
			c.WithheldScopes = append(shared.WithheldScopes, c.WithheldScopes...)
		}
		clients[ClientID(p)] = c
	}
	s.env["GOOGLE_MEET_CALENDAR_API_URL"] = s.Meet.CalendarURL()
	// Connect links point at the same gateway the callbacks come back to.
	s.env["PUBLIC_BASE_URL"] = base
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

// testCredentials puts the test-credential rules in front of a key
// platform's fake (at base; api is its API URL under base) and answers
// the API URL to use: the same, on a proxy that tells the fake to refuse
// an invalid_ key before it arrives, and a revoked_ key from the moment
// its first request comes again.
func (s *Sandbox) testCredentials(base, api string, reject func(token string)) string {
	target, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("sandbox: a fake's URL %q: %v", base, err)) // httptest URLs always parse
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = r.In.Host }}
	var (
		mu    sync.Mutex
		first = map[string]string{} // revoked_ key -> its first request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := fakekit.Bearer(r)
		switch {
		case strings.HasPrefix(tok, InvalidKeyPrefix):
			reject(tok)
		case strings.HasPrefix(tok, RevokedKeyPrefix):
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "sandbox: reading the request: "+err.Error(), http.StatusBadGateway)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			sum := sha256.Sum256(body) // GraphQL (Railway) asks everything at one path
			req := r.Method + " " + r.URL.RequestURI() + " " + hex.EncodeToString(sum[:])
			mu.Lock()
			if was, ok := first[tok]; !ok {
				first[tok] = req
			} else if was == req {
				reject(tok) // verified again: revoked from now on
			}
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	s.closers = append(s.closers, srv.Close)
	return srv.URL + strings.TrimPrefix(api, base)
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
	c := oauthmock.ClientConfig{ClientSecret: ClientSecret(d.ID), AuthStyle: oauthmock.AuthBody, DeclineLoginHint: DeclineLoginHint,
		ResponseIss: oauthmock.IssuerOfServer, WithholdLoginHint: WithholdLoginHint, WithheldScopes: o.NeededScopes}
	// Google's revoke ends the whole grant (PLATFORMS.md YouTube, "Revoke
	// ends the whole grant"); Meta's revokes go to the Facebook fake, which
	// keeps the grant itself.
	c.RevokeGrant = d.GrantGroup == platform.GrantGoogle
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
	case platform.ExchangeLongLived:
		c.LongLivedExchange = true
	case platform.ExchangeIntegration:
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
