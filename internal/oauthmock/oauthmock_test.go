package oauthmock_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
)

// env is a fresh mock plus a callback server standing in for Switchboard's
// /oauth/callback.
type env struct {
	srv      *oauthmock.Server
	redirect string
}

func setup(t *testing.T) *env {
	t.Helper()
	srv := oauthtest.New(t)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the callback server was called (%s): the test client should stop at the redirect", r.URL)
	}))
	t.Cleanup(cb.Close)
	return &env{srv: srv, redirect: cb.URL + "/oauth/callback"}
}

func (e *env) configure(t *testing.T, clients map[string]oauthmock.ClientConfig) {
	t.Helper()
	if err := e.srv.ConfigureClients(context.Background(), clients); err != nil {
		t.Fatal(err)
	}
}

func (e *env) config(clientID, secret string, style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		Endpoint:     oauth2.Endpoint{AuthURL: e.srv.AuthorizeURL(), TokenURL: e.srv.TokenURL(), AuthStyle: style},
		RedirectURL:  e.redirect,
		Scopes:       scopes,
	}
}

// authorize plays the browser: it follows the mock's /authorize redirect
// until the redirect URI and returns the code, checking the state came back.
func (e *env) authorize(t *testing.T, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	state := oauth2.GenerateVerifier()[:16]
	var landed *url.URL
	client := &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), e.redirect) {
				landed = req.URL
				return http.ErrUseLastResponse
			}
			if len(via) > 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	resp, err := client.Get(cfg.AuthCodeURL(state, opts...))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	if landed == nil {
		t.Fatalf("authorize: %s, never redirected to %s", resp.Status, e.redirect)
	}
	q := landed.Query()
	if q.Get("state") != state {
		t.Fatalf("authorize: state %q came back as %q", state, q.Get("state"))
	}
	if q.Get("code") == "" {
		t.Fatalf("authorize: no code in %s", landed)
	}
	return q.Get("code")
}

// login runs the whole authorization code flow with PKCE S256.
func (e *env) login(t *testing.T, cfg *oauth2.Config) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg, oauth2.S256ChallengeOption(verifier))
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *env) stats(t *testing.T) oauthmock.Stats {
	t.Helper()
	st, err := e.srv.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func refresh(cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// wantOAuthError checks err is the token endpoint's answer with this status
// and error code.
func wantOAuthError(t *testing.T, err error, status int, code string) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want an *oauth2.RetrieveError %d %s", err, status, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got %d %q (%s), want %d %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
	return re
}

func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("web", "", oauth2.AuthStyleInParams, "openid", "email")
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg, oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("token %+v", tok)
	}
	if left := time.Until(tok.Expiry); left < 59*time.Minute || left > 61*time.Minute {
		t.Errorf("expires in %s, want 1h", left)
	}
	claims := jwtClaims(t, tok.AccessToken)
	if claims["iss"] != e.srv.Issuer() || claims["scope"] != "openid email" {
		t.Errorf("access token claims %v", claims)
	}
	idToken, _ := tok.Extra("id_token").(string)
	if idToken == "" || jwtClaims(t, idToken)["aud"] != "web" {
		t.Errorf("id_token %q, want one for aud web (openid was asked)", idToken)
	}

	// A code works once.
	_, err = cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, 400, "invalid_grant")

	st := e.stats(t)
	if st.PKCE.Verified != 1 || st.PKCE.MissingVerifier != 0 {
		t.Errorf("pkce %+v", st.PKCE)
	}
	if st.TokenRequests.AuthorizationCode != 2 {
		t.Errorf("authorization_code requests = %d, want 2", st.TokenRequests.AuthorizationCode)
	}
	if len(st.AuthorizeRequests) != 1 {
		t.Fatalf("authorize requests %+v", st.AuthorizeRequests)
	}
	a := st.AuthorizeRequests[0]
	if a.ClientID != "web" || a.RedirectURI != e.redirect || a.Scope != "openid email" || a.State == "" ||
		a.CodeChallengeMethod != "S256" || !a.HasCodeChallenge || a.Params["access_type"] != "offline" {
		t.Errorf("authorize request %+v", a)
	}
}

func TestPKCEWrongVerifierFails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("web", "", oauth2.AuthStyleInParams)
	code := e.authorize(t, cfg, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	re := wantOAuthError(t, err, 400, "invalid_grant")
	if !strings.Contains(re.ErrorDescription, "does not match") {
		t.Errorf("description %q", re.ErrorDescription)
	}
	if st := e.stats(t); st.PKCE.Verified != 0 {
		t.Errorf("pkce %+v", st.PKCE)
	}
}

func TestPKCEMissingVerifierFails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("web", "", oauth2.AuthStyleInParams)
	code := e.authorize(t, cfg, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	_, err := cfg.Exchange(context.Background(), code)
	wantOAuthError(t, err, 400, "invalid_grant")
	if st := e.stats(t); st.PKCE.MissingVerifier != 1 || st.PKCE.Verified != 0 {
		t.Errorf("pkce %+v", st.PKCE)
	}
}

func TestCodeIsBoundToClientAndRedirect(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("web", "", oauth2.AuthStyleInParams)

	other := *cfg
	other.ClientID = "someone-else"
	_, err := other.Exchange(context.Background(), e.authorize(t, cfg))
	wantOAuthError(t, err, 400, "invalid_grant")

	moved := *cfg
	moved.RedirectURL = e.redirect + "/elsewhere"
	_, err = moved.Exchange(context.Background(), e.authorize(t, cfg))
	wantOAuthError(t, err, 400, "invalid_grant")

	_, err = cfg.Exchange(context.Background(), "never-issued")
	wantOAuthError(t, err, 400, "invalid_grant")

	// Without PKCE on either side the plain flow works.
	if _, err := cfg.Exchange(context.Background(), e.authorize(t, cfg)); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("zoom", "", oauth2.AuthStyleInParams)
	first := e.login(t, cfg)

	second, err := refresh(cfg, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh answered refresh token %q, want a new one", second.RefreshToken)
	}
	if second.Extra("refresh_token") != second.RefreshToken {
		t.Errorf("the answer itself carries %v", second.Extra("refresh_token"))
	}

	_, err = refresh(cfg, first.RefreshToken)
	re := wantOAuthError(t, err, 400, "invalid_grant")
	if !strings.Contains(re.ErrorDescription, "rotated") {
		t.Errorf("description %q", re.ErrorDescription)
	}
	if _, err := refresh(cfg, second.RefreshToken); err != nil {
		t.Fatalf("the new refresh token: %v", err)
	}
	_, err = refresh(cfg, "never-issued")
	wantOAuthError(t, err, 400, "invalid_grant")

	st := e.stats(t)
	if st.TokenRequests.RefreshToken != 4 || len(st.Refreshes) != 4 {
		t.Fatalf("refresh requests %d, refreshes %+v", st.TokenRequests.RefreshToken, st.Refreshes)
	}
	oks := []bool{true, false, true, false}
	for i, r := range st.Refreshes {
		if r.OK != oks[i] || r.ClientID != "zoom" || r.At.IsZero() {
			t.Errorf("refresh %d: %+v", i, r)
		}
	}
	if st.Refreshes[0].RefreshToken != first.RefreshToken {
		t.Errorf("first refresh used %q", st.Refreshes[0].RefreshToken)
	}
}

func TestRefreshGoogleStyle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"google": {RefreshOnRefresh: oauthmock.Bool(false)}})
	cfg := e.config("google", "", oauth2.AuthStyleInParams)
	first := e.login(t, cfg)
	for i := range 2 {
		tok, err := refresh(cfg, first.RefreshToken)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if v := tok.Extra("refresh_token"); v != nil {
			t.Fatalf("refresh %d answered refresh_token %v; Google sends none", i, v)
		}
		// x/oauth2 keeps the refresh token it had.
		if tok.RefreshToken != first.RefreshToken || tok.AccessToken == "" {
			t.Fatalf("refresh %d: %+v", i, tok)
		}
	}
}

func TestRefreshWithoutRotationRepeatsTheToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"steady": {RotateRefresh: oauthmock.Bool(false)}})
	cfg := e.config("steady", "", oauth2.AuthStyleInParams)
	first := e.login(t, cfg)
	for range 2 {
		tok, err := refresh(cfg, first.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Extra("refresh_token") != first.RefreshToken {
			t.Fatalf("answered refresh_token %v, want the same one", tok.Extra("refresh_token"))
		}
	}
}

func TestVercelStyleExtraFieldsAndNoRefresh(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"vercel": {
		IssueRefresh: oauthmock.Bool(false),
		ClientSecret: "vsecret",
		AuthStyle:    oauthmock.AuthBody,
		Extra:        map[string]any{"installation_id": "icfg_123", "team_id": "team_9", "user_id": "user_7"},
	}})
	cfg := e.config("vercel", "vsecret", oauth2.AuthStyleInParams)
	tok, err := cfg.Exchange(context.Background(), e.authorize(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" || tok.Extra("refresh_token") != nil {
		t.Errorf("refresh token %q: none was asked for", tok.RefreshToken)
	}
	for k, want := range map[string]string{"installation_id": "icfg_123", "team_id": "team_9", "user_id": "user_7"} {
		if got := tok.Extra(k); got != want {
			t.Errorf("Extra(%q) = %v, want %s", k, got, want)
		}
	}
	if st := e.stats(t); st.ClientAuth.Body != 1 || st.ClientAuth.Basic != 0 {
		t.Errorf("client auth %+v", st.ClientAuth)
	}
}

func TestClientAuthStyleIsEnforced(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{
		"basic-only": {ClientSecret: "s1", AuthStyle: oauthmock.AuthBasic},
		"body-only":  {ClientSecret: "s2", AuthStyle: oauthmock.AuthBody},
	})
	ctx := context.Background()

	good := e.config("basic-only", "s1", oauth2.AuthStyleInHeader)
	if _, err := good.Exchange(ctx, e.authorize(t, good)); err != nil {
		t.Fatalf("Basic for a Basic client: %v", err)
	}
	bad := e.config("basic-only", "s1", oauth2.AuthStyleInParams)
	re := wantOAuthError(t, exchangeErr(t, e, bad), 401, "invalid_client")
	if !strings.Contains(re.ErrorDescription, "HTTP Basic") {
		t.Errorf("description %q", re.ErrorDescription)
	}
	wrong := e.config("basic-only", "nope", oauth2.AuthStyleInHeader)
	re = wantOAuthError(t, exchangeErr(t, e, wrong), 401, "invalid_client")
	if re.Response.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 to a Basic client without WWW-Authenticate")
	}

	good = e.config("body-only", "s2", oauth2.AuthStyleInParams)
	if _, err := good.Exchange(ctx, e.authorize(t, good)); err != nil {
		t.Fatalf("body for a body client: %v", err)
	}
	bad = e.config("body-only", "s2", oauth2.AuthStyleInHeader)
	wantOAuthError(t, exchangeErr(t, e, bad), 401, "invalid_client")
	missing := e.config("body-only", "", oauth2.AuthStyleInParams)
	wantOAuthError(t, exchangeErr(t, e, missing), 401, "invalid_client")

	// x/oauth2's auto-detection tries Basic first, then the body.
	auto := e.config("body-only", "s2", oauth2.AuthStyleAutoDetect)
	if _, err := auto.Exchange(ctx, e.authorize(t, auto)); err != nil {
		t.Fatalf("auto-detected style: %v", err)
	}

	st := e.stats(t)
	// Basic: good, wrong, bad(body client), auto's probe; body: bad(basic client), good, missing has none, auto's retry.
	if st.ClientAuth.Basic != 4 || st.ClientAuth.Body != 3 || st.ClientAuth.None != 1 {
		t.Errorf("client auth %+v", st.ClientAuth)
	}
}

// exchangeErr runs a flow that must fail at the token endpoint.
func exchangeErr(t *testing.T, e *env, cfg *oauth2.Config) error {
	t.Helper()
	_, err := cfg.Exchange(context.Background(), e.authorize(t, cfg))
	if err == nil {
		t.Fatalf("exchange for %s succeeded", cfg.ClientID)
	}
	return err
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"restream": {ClientSecret: "rs", AuthStyle: oauthmock.AuthBasic}})
	cfg := e.config("restream", "rs", oauth2.AuthStyleInHeader)

	revoke := func(req *http.Request) {
		t.Helper()
		req.SetBasicAuth("restream", "rs")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("revoke: %s", resp.Status)
		}
	}

	// RFC 7009 form body.
	a := e.login(t, cfg)
	form := url.Values{"token": {a.RefreshToken}, "token_type_hint": {"refresh_token"}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.RevokeURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	revoke(req)
	_, err := refresh(cfg, a.RefreshToken)
	re := wantOAuthError(t, err, 400, "invalid_grant")
	if !strings.Contains(re.ErrorDescription, "revoked") {
		t.Errorf("description %q", re.ErrorDescription)
	}

	// Zoom: ?token= on a POST.
	b := e.login(t, cfg)
	req, _ = http.NewRequest(http.MethodPost, e.srv.RevokeURL()+"?token="+url.QueryEscape(b.RefreshToken), nil)
	revoke(req)
	_, err = refresh(cfg, b.RefreshToken)
	wantOAuthError(t, err, 400, "invalid_grant")

	// JSON body, an access token.
	c := e.login(t, cfg)
	req, _ = http.NewRequest(http.MethodPost, e.srv.RevokeURL(), strings.NewReader(`{"token":"`+c.AccessToken+`"}`))
	req.Header.Set("Content-Type", "application/json")
	revoke(req)
	if _, err := refresh(cfg, c.RefreshToken); err != nil {
		t.Errorf("revoking the access token killed the refresh token: %v", err)
	}

	st := e.stats(t)
	want := []oauthmock.Revocation{
		{Token: a.RefreshToken, TokenTypeHint: "refresh_token", ClientID: "restream", Via: "form", TokenKind: "refresh_token"},
		{Token: b.RefreshToken, ClientID: "restream", Via: "query", TokenKind: "refresh_token"},
		{Token: c.AccessToken, ClientID: "restream", Via: "json", TokenKind: "access_token"},
	}
	if len(st.Revocations) != len(want) {
		t.Fatalf("revocations %+v", st.Revocations)
	}
	for i := range want {
		if st.Revocations[i] != want[i] {
			t.Errorf("revocation %d = %+v, want %+v", i, st.Revocations[i], want[i])
		}
	}

	// No token at all is the client's mistake.
	resp, err := http.Post(e.srv.RevokeURL(), "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("revoke without a token: %s", resp.Status)
	}
}

// TestRevokeGrantEndsEveryTokenOfTheClient pins Google's revoke: one token
// revoked ends the user's whole grant to the client, so a second login's
// refresh token dies too; another client's grant lives on.
func TestRevokeGrantEndsEveryTokenOfTheClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{
		"google":       {RefreshOnRefresh: oauthmock.Bool(false), RevokeGrant: true},
		"google-other": {RefreshOnRefresh: oauthmock.Bool(false), RevokeGrant: true},
	})
	cfg, other := e.config("google", "", oauth2.AuthStyleInParams), e.config("google-other", "", oauth2.AuthStyleInParams)
	youtube, meet, elsewhere := e.login(t, cfg), e.login(t, cfg), e.login(t, other)
	resp, err := http.PostForm(e.srv.RevokeURL(), url.Values{"token": {youtube.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %s", resp.Status)
	}
	_, err = refresh(cfg, meet.RefreshToken)
	if re := wantOAuthError(t, err, 400, "invalid_grant"); !strings.Contains(re.ErrorDescription, "whole grant") {
		t.Errorf("description %q", re.ErrorDescription)
	}
	if _, err := refresh(other, elsewhere.RefreshToken); err != nil {
		t.Errorf("another client's grant died with it: %v", err)
	}
}

func TestKillRefresh(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("teams", "", oauth2.AuthStyleInParams)
	tok := e.login(t, cfg)
	if err := e.srv.KillRefresh(context.Background(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err := refresh(cfg, tok.RefreshToken)
	wantOAuthError(t, err, 400, "invalid_grant")
	if err := e.srv.KillRefresh(context.Background(), "never-issued"); err == nil {
		t.Error("killing a refresh token the server never issued succeeded")
	}
}

func TestFailureInjection(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	cfg := e.config("railway", "", oauth2.AuthStyleInParams)
	tok := e.login(t, cfg)

	if err := e.srv.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", Status: 500, Error: "server_error"}); err != nil {
		t.Fatal(err)
	}
	_, err := refresh(cfg, tok.RefreshToken)
	wantOAuthError(t, err, 500, "server_error")
	// The failed request did not use the refresh token up.
	next, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("after the injected 500: %v", err)
	}

	if err := e.srv.Fail(ctx, oauthmock.Failure{Grant: "*", Status: 429, Count: 2, RetryAfter: 7 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err = refresh(cfg, next.RefreshToken)
		re := wantOAuthError(t, err, 429, "temporarily_unavailable")
		if got := re.Response.Header.Get("Retry-After"); got != "7" {
			t.Errorf("Retry-After %q", got)
		}
	}
	if _, err := refresh(cfg, next.RefreshToken); err != nil {
		t.Fatalf("after two injected 429s: %v", err)
	}

	// A code survives an injected failure of its exchange.
	if err := e.srv.Fail(ctx, oauthmock.Failure{Grant: "authorization_code", Status: 503}); err != nil {
		t.Fatal(err)
	}
	verifier := oauth2.GenerateVerifier()
	code := e.authorize(t, cfg, oauth2.S256ChallengeOption(verifier))
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, 503, "temporarily_unavailable")
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange after the injected 503: %v", err)
	}

	// An injected invalid_grant for one client leaves another alone.
	if err := e.srv.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", ClientID: "other", Status: 400}); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(cfg, tok.RefreshToken); err == nil || !strings.Contains(err.Error(), "rotated") {
		t.Fatalf("refresh of a rotated token: %v, want the real invalid_grant", err)
	}
}

func TestLongLivedExchange(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"fb": {
		LongLivedExchange: true, IssueRefresh: oauthmock.Bool(false), ClientSecret: "fbs", AuthStyle: oauthmock.AuthBody,
	}})
	cfg := e.config("fb", "fbs", oauth2.AuthStyleInParams, "publish_video")
	short, err := cfg.Exchange(context.Background(), e.authorize(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	if short.RefreshToken != "" {
		t.Fatalf("Meta issues no refresh tokens, got %q", short.RefreshToken)
	}

	params := url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {"fb"}, "client_secret": {"fbs"}, "fb_exchange_token": {short.AccessToken}}
	type answer struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	check := func(resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("fb_exchange_token: %s %s", resp.Status, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		if a.AccessToken == "" || a.AccessToken == short.AccessToken || a.TokenType != "bearer" || a.ExpiresIn != 5184000 {
			t.Fatalf("answer %+v", a)
		}
		claims := jwtClaims(t, a.AccessToken)
		if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 5184000 || claims["scope"] != "publish_video" {
			t.Errorf("long-lived token claims %v", claims)
		}
	}
	check(http.Get(e.srv.TokenURL() + "?" + params.Encode()))
	check(http.PostForm(e.srv.TokenURL(), params))

	params.Set("fb_exchange_token", "not-ours")
	resp, err := http.Get(e.srv.TokenURL() + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var fbErr struct {
		Error struct {
			Type string `json:"type"`
			Code int    `json:"code"`
		} `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&fbErr)
	resp.Body.Close()
	if resp.StatusCode != 400 || fbErr.Error.Type != "OAuthException" || fbErr.Error.Code != 190 {
		t.Errorf("unknown short-lived token: %s %+v", resp.Status, fbErr)
	}

	if st := e.stats(t); st.TokenRequests.FBExchangeToken != 3 || st.TokenRequests.AuthorizationCode != 1 {
		t.Errorf("token requests %+v", st.TokenRequests)
	}
}

func TestAccessTTL(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.configure(t, map[string]oauthmock.ClientConfig{"short": {AccessTTL: 90 * time.Second}})
	cfg := e.config("short", "", oauth2.AuthStyleInParams)
	tok := e.login(t, cfg)
	if left := time.Until(tok.Expiry); left < 80*time.Second || left > 95*time.Second {
		t.Errorf("expires in %s, want 90s", left)
	}
	c := jwtClaims(t, tok.AccessToken)
	if c["exp"].(float64)-c["iat"].(float64) != 90 {
		t.Errorf("claims %v", c)
	}
}

func TestDelayAndConcurrentRotation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cfg := e.config("zoom", "", oauth2.AuthStyleInParams)
	tok := e.login(t, cfg)
	if err := e.srv.Delay(context.Background(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = refresh(cfg, tok.RefreshToken) })
	}
	wg.Wait()
	if took := time.Since(start); took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("two delayed refreshes took %s", took)
	}
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantOAuthError(t, err, 400, "invalid_grant")
	}
	if ok != 1 {
		t.Fatalf("%d of two concurrent refreshes with one rotating token succeeded, want exactly 1: %v", ok, errs)
	}
	if err := e.srv.Delay(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestResetAndValidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.configure(t, map[string]oauthmock.ClientConfig{"c": {AuthStyle: oauthmock.AuthBody, ClientSecret: "x"}})
	basic := e.config("c", "x", oauth2.AuthStyleInHeader)
	wantOAuthError(t, exchangeErr(t, e, basic), 401, "invalid_client")
	if err := e.srv.Fail(ctx, oauthmock.Failure{Grant: "*", Status: 500, Count: 5}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.stats(t); st.TokenRequests != (oauthmock.TokenRequests{}) || len(st.AuthorizeRequests) != 0 {
		t.Errorf("stats after reset %+v", st)
	}
	// Configuration and failures are gone: Basic works, nothing fails.
	if _, err := basic.Exchange(ctx, e.authorize(t, basic)); err != nil {
		t.Fatalf("after reset: %v", err)
	}

	// The server refuses what it does not understand.
	for name, call := range map[string]func() error{
		"auth style": func() error {
			return e.srv.ConfigureClients(ctx, map[string]oauthmock.ClientConfig{"c": {AuthStyle: "header"}})
		},
		"status": func() error { return e.srv.Fail(ctx, oauthmock.Failure{Status: 200}) },
		"ttl": func() error {
			return e.srv.ConfigureClients(ctx, map[string]oauthmock.ClientConfig{"c": {AccessTTL: 1500 * time.Millisecond}})
		},
	} {
		if err := call(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDiscoveryAndKeys(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var doc struct {
		Issuer     string `json:"issuer"`
		Token      string `json:"token_endpoint"`
		Authorize  string `json:"authorization_endpoint"`
		Revocation string `json:"revocation_endpoint"`
		Userinfo   string `json:"userinfo_endpoint"`
		JWKS       string `json:"jwks_uri"`
	}
	getJSON(t, e.srv.URL+"/.well-known/openid-configuration", &doc)
	if doc.Issuer != e.srv.Issuer() || doc.Token != e.srv.TokenURL() || doc.Authorize != e.srv.AuthorizeURL() ||
		doc.Revocation != e.srv.RevokeURL() || doc.Userinfo != e.srv.UserinfoURL() || doc.JWKS != e.srv.JWKSURL() {
		t.Errorf("discovery %+v", doc)
	}
	var jwks struct {
		Keys []struct {
			Kty, Alg, Kid string
			D             string `json:"d"`
		} `json:"keys"`
	}
	getJSON(t, e.srv.JWKSURL(), &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].D != "" {
		t.Errorf("jwks %+v", jwks)
	}
	var who struct {
		Sub string `json:"sub"`
	}
	getJSON(t, e.srv.UserinfoURL(), &who)
	if who.Sub == "" {
		t.Error("userinfo without sub")
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// TestSharedServerPerClientStats uses the binary's shared server: tests on
// it see only their own client's stats.
func TestSharedServerPerClientStats(t *testing.T) {
	t.Parallel()
	srv := oauthtest.Start(t)
	if oauthtest.Start(t) != srv {
		t.Fatal("Start gave two servers")
	}
	e := &env{srv: srv, redirect: "http://127.0.0.1:1/oauth/callback"}
	cfg := e.config("shared-a", "", oauth2.AuthStyleInParams)
	code, _ := oauthtest.Authorize(t, cfg.AuthCodeURL("st"))
	if _, err := cfg.Exchange(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	st, err := srv.ClientStats(context.Background(), "shared-a")
	if err != nil {
		t.Fatal(err)
	}
	if st.TokenRequests.AuthorizationCode != 1 || len(st.AuthorizeRequests) != 1 || st.ClientAuth.None != 1 {
		t.Errorf("stats of shared-a %+v", st)
	}
	other, err := srv.ClientStats(context.Background(), "shared-b")
	if err != nil {
		t.Fatal(err)
	}
	if other.TokenRequests.AuthorizationCode != 0 || len(other.AuthorizeRequests) != 0 {
		t.Errorf("stats of shared-b %+v", other)
	}
}

// BenchmarkStart measures a node start up to the ready line (ms/start), and
// Stop (the rest of ns/op).
func BenchmarkStart(b *testing.B) {
	var starting time.Duration
	for b.Loop() {
		t0 := time.Now()
		srv, err := oauthmock.Start(context.Background(), oauthmock.Options{})
		if err != nil {
			b.Fatal(err)
		}
		starting += time.Since(t0)
		srv.Stop()
	}
	b.ReportMetric(float64(starting.Milliseconds())/float64(b.N), "ms/start")
}

func TestStartFailsLoudly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// No lock file: npm ci refuses, and its words reach the error.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, oauthmock.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, oauthmock.Dir, "package.json"), []byte(`{"name":"x","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := oauthmock.Start(ctx, oauthmock.Options{RepoRoot: root})
	if err == nil || !strings.Contains(err.Error(), "npm ci") || !strings.Contains(err.Error(), "package-lock") {
		t.Errorf("Start without a lock: %v", err)
	}

	// Installed, but the script dies: node's stderr reaches the error.
	root = t.TempDir()
	dir := filepath.Join(root, oauthmock.Dir)
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "oauth2-mock-server"), 0o755); err != nil {
		t.Fatal(err)
	}
	// In this order: npm's hidden lock must not be older than the lock.
	for _, f := range [][2]string{
		{"package-lock.json", "{}"},
		{"node_modules/oauth2-mock-server/package.json", "{}"},
		{"node_modules/.package-lock.json", "{}"},
		{"server.mjs", `console.error("boom from server.mjs"); process.exit(3);`},
	} {
		name, body := f[0], f[1]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = oauthmock.Start(ctx, oauthmock.Options{RepoRoot: root})
	if err == nil || !strings.Contains(err.Error(), "boom from server.mjs") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Start with a dying script: %v", err)
	}
}
