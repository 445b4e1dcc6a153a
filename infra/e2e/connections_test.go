package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

// disconnectBody is the answer to DELETE /connections/{platform}.
type disconnectBody struct {
	Platform, Status, Revoked, Reason string
	RevokedPermissions, SharedWith    []string
}

type connectionBody struct {
	Platform, Status, AuthType, AccountID, AccountName string
	ExpiresAt, LastRefreshedAt                         *string
	LastError                                          *struct{ Code, Message string }
}

func TestOAuthConnectionEndToEndOverRealRedirects(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	q := s.connectOAuth("church-1", "zoom")
	if q.Get("platform") != "zoom" || q.Get("status") != "connected" || q.Get("error") != "" {
		t.Fatalf("back in the app with %v", q)
	}
	var c connectionBody
	if r := s.call("GET", "/connections/zoom", "church-1", nil, &c); r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, bodyOf(r))
	}
	if c.Status != "connected" || c.AuthType != "oauth2" || c.AccountID == "" || c.ExpiresAt == nil {
		t.Fatalf("connection %+v", c)
	}
	ctx := context.Background()
	st, _ := s.sb.OAuth.ClientStats(ctx, "sandbox-zoom")
	if st.PKCE.Verified != 1 || st.ClientAuth.Basic == 0 {
		t.Fatalf("the provider saw %+v %+v", st.PKCE, st.ClientAuth)
	}
	// Refresh now: the provider sees one refresh and the connection says when.
	if r := s.call("POST", "/connections/zoom/refresh", "church-1", nil, &c); r.StatusCode != 200 || c.LastRefreshedAt == nil {
		t.Fatalf("refresh: %d %+v", r.StatusCode, c)
	}
	st, _ = s.sb.OAuth.ClientStats(ctx, "sandbox-zoom")
	if st.TokenRequests.RefreshToken != 1 {
		t.Fatalf("%d refreshes", st.TokenRequests.RefreshToken)
	}
	// Disconnect: revoked at the provider, gone from Switchboard.
	var gone disconnectBody
	if r := s.call("DELETE", "/connections/zoom", "church-1", nil, &gone); r.StatusCode != http.StatusOK || gone.Revoked != "full" || gone.Status != "disconnected" {
		t.Fatalf("delete: %d %+v", r.StatusCode, gone)
	}
	st, _ = s.sb.OAuth.ClientStats(ctx, "sandbox-zoom")
	if len(st.Revocations) != 1 || st.Revocations[0].TokenKind != "access_token" || st.Revocations[0].Via != "query" {
		t.Fatalf("revocations %+v (Zoom revokes the access token with ?token=)", st.Revocations)
	}
	s.call("GET", "/connections/zoom", "church-1", nil, &c)
	if c.Status != "disconnected" {
		t.Fatalf("after delete: %+v", c)
	}
}

func TestEveryOAuthPlatformConnectsAgainstTheSandbox(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	for _, p := range []string{"youtube", "facebook", "instagram", "zoom", "google-meet", "microsoft-teams", "vercel", "railway"} {
		t.Run(p, func(t *testing.T) {
			q := s.connectOAuth("tenant-"+p, p)
			if q.Get("status") != "connected" {
				t.Fatalf("back in the app with %v", q)
			}
			var c connectionBody
			s.call("GET", "/connections/"+p, "tenant-"+p, nil, &c)
			if c.Status != "connected" || c.AccountID == "" {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestRefusedAuthorizationGoesBackToTheAppWithTheReason(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	var start struct{ AuthorizeURL string }
	s.call("POST", "/connections/zoom/oauth", "church-1", map[string]string{"returnTo": s.app.URL + "/settings"}, &start)
	state := start.AuthorizeURL[strings.Index(start.AuthorizeURL, "state=")+6:]
	if i := strings.IndexByte(state, '&'); i >= 0 {
		state = state[:i]
	}
	r, err := http.Get(s.gw.URL + "/oauth/zoom/callback?error=access_denied&state=" + state)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if q := r.Request.URL.Query(); q.Get("status") != "error" || q.Get("error") != "access_denied" {
		t.Fatalf("back in the app with %v", r.Request.URL)
	}
	if resp := s.call("GET", "/connections/zoom", "church-1", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("a refused authorization made a connection: %d", resp.StatusCode)
	}
}

func TestConnectionRoutesRefuseAnotherTenantsData(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-a", "zoom")
	for _, c := range []struct{ method, path string }{
		{"GET", "/connections/zoom"}, {"POST", "/connections/zoom/refresh"}, {"DELETE", "/connections/zoom"},
	} {
		if r := s.call(c.method, c.path, "church-b", nil, nil); r.StatusCode != 404 {
			t.Errorf("%s %s as another tenant: %d %s", c.method, c.path, r.StatusCode, bodyOf(r))
		}
	}
	var list struct{ Items []connectionBody }
	s.call("GET", "/connections", "church-b", nil, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another tenant sees %+v", list.Items)
	}
	var c connectionBody
	s.call("GET", "/connections/zoom", "church-a", nil, &c)
	if c.Status != "connected" {
		t.Fatalf("the owner's connection changed: %+v", c)
	}
}

func TestCallbackWithoutAValidStateIsAProblemAndNoRedirect(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := client.Get(s.gw.URL + "/oauth/zoom/callback?code=abc&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" || r.Header.Get("Location") != "" {
		t.Fatalf("%d %s %q", r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Location"))
	}
}

func TestRestreamConnectsWithRotatingTokens(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	if q := s.connectOAuth("church-r", "restream"); q.Get("status") != "connected" {
		t.Fatalf("back in the app with %v", q)
	}
	var c connectionBody
	for range 2 { // the second refresh only works with the rotated token stored by the first
		if r := s.call("POST", "/connections/restream/refresh", "church-r", nil, &c); r.StatusCode != 200 || c.Status != "connected" {
			t.Fatalf("refresh: %d %+v", r.StatusCode, c)
		}
	}
}

func TestTheSandboxDeclinesAConsentWhenTheLoginHintSaysDecline(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	var start struct{ AuthorizeURL string }
	s.call("POST", "/connections/zoom/oauth", "church-1", map[string]string{"returnTo": s.app.URL + "/settings"}, &start)
	r, err := http.Get(start.AuthorizeURL + "&login_hint=" + sandbox.DeclineLoginHint) // a browser follows it back
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if q := r.Request.URL.Query(); !strings.HasPrefix(r.Request.URL.String(), s.app.URL+"/settings") ||
		q.Get("status") != "error" || q.Get("error") != "access_denied" || q.Get("platform") != "zoom" {
		t.Fatalf("back in the app at %v, want the declined consent's error", r.Request.URL)
	}
	if resp := s.call("GET", "/connections/zoom", "church-1", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("a declined consent made a connection: %d", resp.StatusCode)
	}
}

func TestTheSandboxsTestKeys(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	for _, c := range []struct{ platform, field string }{{"render", "apiKey"}, {"railway", "token"}, {"vercel", "token"}} {
		t.Run(c.platform, func(t *testing.T) {
			tenant := "testkeys-" + c.platform
			// invalid_: refused by the platform, so the connect is a 422 and stores nothing.
			var p struct{ Code, Reason string }
			r := s.call("POST", "/connections/"+c.platform, tenant, map[string]any{"credentials": map[string]string{c.field: sandbox.InvalidKeyPrefix + "0001"}}, &p)
			if r.StatusCode != 422 || p.Code != "invalid_credentials" {
				t.Fatalf("an invalid_ key: %d %+v", r.StatusCode, p)
			}
			if r := s.call("GET", "/connections/"+c.platform, tenant, nil, nil); r.StatusCode != 404 {
				t.Fatalf("an invalid_ key made a connection: %d", r.StatusCode)
			}
			// revoked_: connects, then the next verification finds it revoked.
			var got connectionBody
			r = s.call("POST", "/connections/"+c.platform, tenant, map[string]any{"credentials": map[string]string{c.field: sandbox.RevokedKeyPrefix + "0001"}}, &got)
			if r.StatusCode != 201 || got.Status != "connected" {
				t.Fatalf("a revoked_ key must connect: %d %+v", r.StatusCode, got)
			}
			r = s.call("POST", "/connections/"+c.platform+"/refresh", tenant, nil, &got)
			if r.StatusCode != 200 || got.Status != "expired" {
				t.Fatalf("re-verifying a revoked_ key: %d %+v, want expired", r.StatusCode, got)
			}
			// Any other key is an ordinary one.
			r = s.call("POST", "/connections/"+c.platform, tenant+"-ok", map[string]any{"credentials": map[string]string{c.field: "good-0001"}}, &got)
			if r.StatusCode != 201 || s.call("POST", "/connections/"+c.platform+"/refresh", tenant+"-ok", nil, &got).StatusCode != 200 || got.Status != "connected" {
				t.Fatalf("an ordinary key: %+v", got)
			}
		})
	}
}

func TestKeyPlatformsConnectWithVerifiedCredentials(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	key := jaasKey(t)
	cases := []struct {
		platform string
		creds    map[string]string
		authType string
	}{
		{"render", map[string]string{"apiKey": "rnd_sandboxkey0001"}, "api_key"},
		{"railway", map[string]string{"token": "railway-team-token"}, "api_key"},
		{"vercel", map[string]string{"token": "vercel-access-token", "teamId": "team_123"}, "api_key"},
		{"jitsi", map[string]string{"appId": "vpaas-magic-cookie-0123456789abcdef", "keyId": "key1", "privateKey": key}, "api_key"},
		{"jitsi", map[string]string{}, "none"},
	}
	for _, c := range cases {
		var got connectionBody
		r := s.call("POST", "/connections/"+c.platform, "keys-"+c.platform+"-"+c.authType, map[string]any{"credentials": c.creds}, &got)
		if r.StatusCode != 201 || got.Status != "connected" || got.AuthType != c.authType {
			t.Errorf("%s: %d %+v", c.platform, r.StatusCode, got)
		}
	}
}

func TestRefusedKeysAre422WithThePlatformsReason(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.sb.Render.RejectToken("rnd_revoked")
	cases := []struct {
		platform string
		creds    map[string]string
	}{
		{"render", map[string]string{"apiKey": "rnd_revoked"}},
		{"jitsi", map[string]string{"appId": "vpaas-magic-cookie-0123456789abcdef", "keyId": "k", "privateKey": "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----"}},
	}
	for _, c := range cases {
		var p struct{ Code, Detail string }
		r := s.call("POST", "/connections/"+c.platform, "tenant-x", map[string]any{"credentials": c.creds}, &p)
		if r.StatusCode != 422 || p.Code != "invalid_credentials" || strings.Contains(p.Detail, "rnd_revoked") {
			t.Errorf("%s: %d %+v", c.platform, r.StatusCode, p)
		}
		if r := s.call("GET", "/connections/"+c.platform, "tenant-x", nil, nil); r.StatusCode != 404 {
			t.Errorf("%s: a refused key made a connection", c.platform)
		}
	}
	var p struct{ Code, OAuthStart string }
	if r := s.call("POST", "/connections/youtube", "tenant-x", map[string]any{"credentials": map[string]string{"apiKey": "x"}}, &p); r.StatusCode != 409 || p.OAuthStart != "/connections/youtube/oauth" {
		t.Errorf("an OAuth platform must point at its OAuth route: %d %+v", r.StatusCode, p)
	}
}

// jaasKey is a fresh 2048-bit RSA key in PEM, as 8x8 hands them out.
func jaasKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func TestFacebookDisconnectWithdrawsTheGrantAtGraph(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-f", "facebook")
	var gone disconnectBody
	if r := s.call("DELETE", "/connections/facebook", "church-f", nil, &gone); r.StatusCode != http.StatusOK || gone.Revoked != "full" {
		t.Fatalf("delete: %d %+v", r.StatusCode, gone)
	}
	var c connectionBody
	s.call("GET", "/connections/facebook", "church-f", nil, &c)
	if c.Status != "disconnected" || c.LastError != nil {
		t.Fatalf("after delete: %+v", c)
	}
	if n := s.sb.Facebook.Calls("me.permissions.delete"); n != 1 {
		t.Fatalf("Graph saw %d revocations", n)
	}
}

// Restream sends the browser back with no parameters when the user
// declines (developers.restream.io/authentication/authorize-dialog): the
// answer is a plain "declined" problem, not "invalid state".
func TestADeclinedRestreamConsentIsAnsweredAsDeclined(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	var start struct{ AuthorizeURL string }
	s.call("POST", "/connections/restream/oauth", "church-1", map[string]string{}, &start)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := client.Get(s.gw.URL + "/oauth/restream/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	body := bodyOf(r)
	if r.StatusCode != 422 || r.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(body, `"code":"access_denied"`) || !strings.Contains(body, "declined") {
		t.Fatalf("%d %s %s", r.StatusCode, r.Header.Get("Content-Type"), body)
	}
	if resp := s.call("GET", "/connections/restream", "church-1", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("a declined authorization made a connection: %d", resp.StatusCode)
	}
}

// connectAll connects each platform for the tenant through the OAuth flow.
func (s *stack) connectAll(tenant string, platforms ...string) {
	s.t.Helper()
	for _, p := range platforms {
		if q := s.connectOAuth(tenant, p); q.Get("status") != "connected" {
			s.t.Fatalf("%s: back in the app with %v", p, q)
		}
	}
}

// TestDisconnectingYouTubeKeepsGoogleMeetOfTheSameGoogleClientWorking: the
// sandbox, like a deployment may, uses one Google client for both, and
// Google's revoke ends the whole grant of the user to it.
func TestDisconnectingYouTubeKeepsGoogleMeetOfTheSameGoogleClientWorking(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectAll("church-g", "youtube", "google-meet")
	var gone disconnectBody
	if r := s.call("DELETE", "/connections/youtube", "church-g", nil, &gone); r.StatusCode != http.StatusOK ||
		gone.Revoked != "skipped" || !slices.Equal(gone.SharedWith, []string{"google-meet"}) || !strings.Contains(gone.Reason, "Google Meet") {
		t.Fatalf("delete youtube: %d %+v", r.StatusCode, gone)
	}
	ctx := context.Background()
	if st, _ := s.sb.OAuth.ClientStats(ctx, sandbox.ClientID(youtube.ID)); len(st.Revocations) != 0 {
		t.Fatalf("Google was asked to revoke %+v while Meet uses the grant", st.Revocations)
	}
	var c connectionBody
	if r := s.call("POST", "/connections/google-meet/refresh", "church-g", nil, &c); r.StatusCode != http.StatusOK || c.Status != "connected" || c.LastError != nil {
		t.Fatalf("Meet after YouTube's disconnect: %d %+v", r.StatusCode, c)
	}
	if r := s.call("DELETE", "/connections/google-meet", "church-g", nil, &gone); r.StatusCode != http.StatusOK || gone.Revoked != "full" || len(gone.SharedWith) != 0 {
		t.Fatalf("delete the last: %d %+v", r.StatusCode, gone)
	}
	if st, _ := s.sb.OAuth.ClientStats(ctx, sandbox.ClientID(googlemeet.ID)); len(st.Revocations) != 1 {
		t.Fatalf("revocations %+v", st.Revocations)
	}
}

// TestDisconnectingFacebookKeepsInstagramOfTheSameMetaAppWorking: one Meta
// app for both; Facebook's disconnect withdraws only its own permissions.
func TestDisconnectingFacebookKeepsInstagramOfTheSameMetaAppWorking(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectAll("church-m", "facebook", "instagram")
	var gone disconnectBody
	if r := s.call("DELETE", "/connections/facebook", "church-m", nil, &gone); r.StatusCode != http.StatusOK || gone.Revoked != "partial" ||
		!slices.Equal(gone.RevokedPermissions, []string{"publish_video", "pages_manage_posts"}) || !slices.Equal(gone.SharedWith, []string{"instagram"}) {
		t.Fatalf("delete facebook: %d %+v", r.StatusCode, gone)
	}
	if n := s.sb.Facebook.Calls(facebookfake.OpRevoke); n != 0 {
		t.Fatalf("%d whole-grant revokes while Instagram uses the grant", n)
	}
	var c connectionBody
	if r := s.call("POST", "/connections/instagram/refresh", "church-m", nil, &c); r.StatusCode != http.StatusOK || c.Status != "connected" || c.LastError != nil {
		t.Fatalf("Instagram after Facebook's disconnect: %d %+v", r.StatusCode, c)
	}
	if r := s.call("DELETE", "/connections/instagram", "church-m", nil, &gone); r.StatusCode != http.StatusOK || gone.Revoked != "full" {
		t.Fatalf("delete the last: %d %+v", r.StatusCode, gone)
	}
}
