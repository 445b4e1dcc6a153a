package connection_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

func TestOAuthWithPKCEConnectsAndStoresOnlySealedCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: youtube.ID, client: oauthmock.ClientConfig{RefreshOnRefresh: oauthmock.Bool(false)}})
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.id, "youtube", "https://app.example.com/integrations")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(start.ExpiresAt); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("state lives %s, want 10 minutes", d)
	}
	au, _ := url.Parse(start.AuthorizeURL)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || q.Get("access_type") != "offline" || q.Get("prompt") != "consent" {
		t.Fatalf("authorize URL lacks PKCE or offline access: %s", start.AuthorizeURL)
	}
	if state := q.Get("state"); len(state) < 22 { // 128 bits in base64url
		t.Fatalf("state %q is shorter than 128 bits", state)
	}
	code, state := oauthtest.Authorize(t, start.AuthorizeURL)
	res, err := e.svc.Callback(ctx, "youtube", url.Values{"code": {code}, "state": {state}})
	if err != nil || res.ErrorCode != "" {
		t.Fatalf("callback: %v %s %v", err, res.ErrorCode, res.ErrorCause)
	}
	c := res.Connected
	if c.Status != connection.StatusConnected || c.AccountName != "Grace Church" || c.AuthType != connection.AuthOAuth2 || res.ReturnTo != "https://app.example.com/integrations" {
		t.Fatalf("connection %+v returnTo %q", c, res.ReturnTo)
	}
	st := e.stats()
	if st.PKCE.Verified != 1 || st.TokenRequests.AuthorizationCode != 1 {
		t.Fatalf("the server did not verify PKCE: %+v", st.PKCE)
	}
	creds := e.creds("youtube")
	if creds.AccessToken == "" || creds.RefreshToken == "" {
		t.Fatal("the stored credentials are empty")
	}
	raw := e.rawItem("youtube")
	for _, secret := range []string{creds.AccessToken, creds.RefreshToken, "client-secret-value"} {
		if strings.Contains(raw, secret) {
			t.Fatal("a secret is stored in plaintext")
		}
	}
	if strings.Contains(e.logs.String(), creds.AccessToken) || strings.Contains(e.logs.String(), code) {
		t.Fatal("a secret reached the logs")
	}
	// The state was consumed: the same callback again (a reload) exchanges
	// nothing and writes nothing; it says the account is connected.
	before, _ := e.svc.Get(ctx, e.id.Tenant, "youtube")
	again, err := e.svc.Callback(ctx, "youtube", url.Values{"code": {code}, "state": {state}})
	if err != nil || !again.Reloaded || again.Connected == nil || again.Connected.Status != connection.StatusConnected || again.ErrorCode != "" {
		t.Fatalf("replayed callback: %+v %v", again, err)
	}
	if after, _ := e.svc.Get(ctx, e.id.Tenant, "youtube"); after.Version != before.Version {
		t.Fatalf("the reload wrote the connection again: version %d, was %d", after.Version, before.Version)
	}
}

func TestCallbackRefusesUnusableStatesAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.id, "zoom", "")
	if err != nil {
		t.Fatal(err)
	}
	code, state := oauthtest.Authorize(t, start.AuthorizeURL)

	cases := []struct {
		name, platform, state, code string
		advance                     time.Duration
	}{
		{"missing state", "zoom", "", "invalid_state", 0},
		{"unknown state", "zoom", "not-a-state-we-issued", "invalid_state", 0},
		{"state for another platform", "restream", state, "state_mismatch", 0},
		{"expired state", "zoom", state, "state_expired", 11 * time.Minute},
	}
	for _, c := range cases {
		e.clock.Advance(c.advance)
		_, err := e.svc.Callback(ctx, c.platform, url.Values{"code": {code}, "state": {c.state}})
		e.clock.Advance(-c.advance)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.Invalid || string(ae.Code) != c.code {
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := e.svc.Get(ctx, e.id.Tenant, "zoom"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a refused callback created a connection: %v", err)
	}
	// The mismatched and expired attempts did not burn the state: it still works.
	res, err := e.svc.Callback(ctx, "zoom", url.Values{"code": {code}, "state": {state}})
	if err != nil || res.Connected == nil {
		t.Fatalf("the untouched state no longer works: %v %v", err, res.ErrorCause)
	}
	if e.stats().TokenRequests.AuthorizationCode != 1 {
		t.Fatal("refused callbacks reached the token endpoint")
	}
}

func TestAccessDeniedGoesBackWithTheReasonAndKeepsTheOldConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	ctx := context.Background()
	before := e.connect("zoom")
	start, _ := e.svc.StartOAuth(ctx, e.id, "zoom", "https://app.example.com/back")
	_, state := oauthtest.Authorize(t, start.AuthorizeURL)
	res, err := e.svc.Callback(ctx, "zoom", url.Values{"error": {"access_denied"}, "error_description": {"The user denied"}, "state": {state}})
	if err != nil || res.ErrorCode != "access_denied" || res.ReturnTo != "https://app.example.com/back" {
		t.Fatalf("got %+v %v", res, err)
	}
	after, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if after.Status != connection.StatusConnected || after.Version != before.Version {
		t.Fatalf("the denied reconnect changed the connection: %+v", after)
	}
}

// Restream answers a declined consent with a bare redirect: no error, no
// state (developers.restream.io/authentication/authorize-dialog). That is
// "declined", not a lost state; on a platform that always sends its state
// a bare callback stays an unusable state.
func TestABareRestreamCallbackIsADeclinedConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: restream.ID})
	ctx := context.Background()
	if _, err := e.svc.StartOAuth(ctx, e.id, "restream", "https://app.example.com/back"); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Callback(ctx, "restream", url.Values{})
	if err != nil || res.ErrorCode != "access_denied" || res.Platform != restream.ID || res.Connected != nil {
		t.Fatalf("got %+v %v", res, err)
	}
	ae, ok := apperr.As(res.ErrorCause)
	if !ok || ae.Kind != apperr.Unprocessable || ae.Code != "access_denied" || !strings.Contains(ae.Detail, "declined") {
		t.Fatalf("cause %v", res.ErrorCause)
	}
	if _, err := e.svc.Get(ctx, e.id.Tenant, "restream"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a declined consent created a connection: %v", err)
	}
	if e.stats().TokenRequests.AuthorizationCode != 0 {
		t.Fatal("a declined consent reached the token endpoint")
	}
	_, err = e.svc.Callback(ctx, "zoom", url.Values{})
	if ae, ok := apperr.As(err); !ok || ae.Code != "invalid_state" {
		t.Fatalf("a bare Zoom callback: %v", err)
	}
}

// Zoom's granular scopes come from the app's settings: several of them in
// one authorize URL fail with "invalid scope"
// (devforum.zoom.us/t/multiple-scopes-authorization/138714), so its URL
// carries none, while Google's carries its scope.
func TestZoomsAuthorizeURLLeavesTheScopesToTheAppSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	for p, want := range map[string]string{"zoom": "", "youtube": "https://www.googleapis.com/auth/youtube"} {
		start, err := e.svc.StartOAuth(context.Background(), e.id, p, "")
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(start.AuthorizeURL)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("scope"); got != want {
			t.Errorf("%s: scope %q, want %q", p, got, want)
		}
	}
}

func TestStartRefusesWhatCannotBeConnectedByOAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	cases := []struct{ platform, returnTo, code string }{
		{"render", "", "oauth_not_supported"},
		{"myspace", "", "unknown_platform"},
		{"zoom", "https://evil.test/", "return_to_not_allowed"},
	}
	for _, c := range cases {
		_, err := e.svc.StartOAuth(ctx, e.id, c.platform, c.returnTo)
		if ae, ok := apperr.As(err); !ok || string(ae.Code) != c.code {
			t.Errorf("%s: got %v, want %s", c.platform, err, c.code)
		}
	}
}

func TestUnconfiguredPlatformSaysWhichVariablesToSet(t *testing.T) {
	t.Parallel()
	f := newEnv(t, envOpts{})
	svc := connection.New(connection.Config{Repo: f.store.Connections(), Vault: f.vault,
		Endpoints: map[platform.ID]platform.Endpoints{"youtube": registry.LoadEndpoints("youtube", func(string) string { return "" })}})
	_, err := svc.StartOAuth(context.Background(), f.id, "youtube", "")
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.NotImplemented || !strings.Contains(ae.Detail, "YOUTUBE_CLIENT_ID") {
		t.Fatalf("got %v", err)
	}
}

// A code the platform will not exchange is an exchange failure with its own
// code and message, not an expired connection (there is none yet).
func TestAFailedCodeExchangeIsReportedAsSuch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.id, "zoom", "")
	if err != nil {
		t.Fatal(err)
	}
	_, state := oauthtest.Authorize(t, start.AuthorizeURL)
	res, err := e.svc.Callback(ctx, "zoom", url.Values{"code": {"a-code-zoom-never-issued"}, "state": {state}})
	if err != nil || res.ErrorCode != "exchange_failed" {
		t.Fatalf("got %+v %v, want the exchange_failed outcome", res, err)
	}
	ae, ok := apperr.As(res.ErrorCause)
	if !ok || ae.Code != "exchange_failed" || ae.Kind != apperr.Unprocessable || !strings.Contains(ae.Detail, "did not exchange the authorization code") {
		t.Fatalf("the JSON answer's problem is %v, want 422 exchange_failed saying the code was not exchanged", res.ErrorCause)
	}
	if _, err := e.svc.Get(ctx, e.id.Tenant, "zoom"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("a failed exchange created a connection: %v", err)
	}
}
