package connection_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/run"
)

func TestFreshTokenIsReturnedWithoutRefreshing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	before := e.vault.Stats()
	for range 5 {
		if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.stats().TokenRequests.RefreshToken; n != 0 {
		t.Fatalf("%d refreshes of a fresh token", n)
	}
	if calls := e.vault.Stats().KeyringCalls - before.KeyringCalls; calls > 1 {
		t.Fatalf("%d keyring calls for 5 reads of one connection, want at most 1", calls)
	}
}

func TestRotatedRefreshTokenIsStoredBeforeTheNewAccessTokenIsUsed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID}) // the mock rotates by default
	e.connect("zoom")
	ctx := context.Background()
	first := e.creds("zoom")
	e.clock.Advance(59 * time.Minute) // within the 2-minute margin of the 1 h token
	got, err := e.svc.Token(ctx, e.id.Tenant, "zoom")
	if err != nil {
		t.Fatal(err)
	}
	stored := e.creds("zoom")
	if stored.AccessToken != got.AccessToken {
		t.Fatal("the refreshed access token is not the stored one")
	}
	if stored.RefreshToken == first.RefreshToken || stored.RefreshToken == "" {
		t.Fatal("the rotated refresh token was not stored")
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.LastRefreshedAt.IsZero() || c.Status != connection.StatusConnected || c.LeaseOwner != "" {
		t.Fatalf("after refresh: %+v", c)
	}
	// The stored refresh token is the live one: the next refresh works.
	e.clock.Advance(59 * time.Minute)
	if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	refreshes := e.stats().Refreshes
	if len(refreshes) != 2 || !refreshes[0].OK || !refreshes[1].OK {
		t.Fatalf("refreshes %+v", refreshes)
	}
	if st := e.stats(); st.ClientAuth.Basic == 0 || st.ClientAuth.Body != 0 {
		t.Fatalf("Zoom takes Basic client authentication: %+v", st.ClientAuth)
	}
}

func TestGoogleStyleRefreshKeepsTheOldRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: youtube.ID, client: oauthmock.ClientConfig{RefreshOnRefresh: oauthmock.Bool(false), RotateRefresh: oauthmock.Bool(false)}})
	e.connect("youtube")
	first := e.creds("youtube")
	e.clock.Advance(59 * time.Minute)
	if _, err := e.svc.Token(context.Background(), e.id.Tenant, "youtube"); err != nil {
		t.Fatal(err)
	}
	if got := e.creds("youtube"); got.RefreshToken != first.RefreshToken || !got.Expiry.After(first.Expiry) {
		t.Fatal("a refresh answer without a refresh token must keep the old one")
	}
}

func TestFiftyConcurrentCallersCauseExactlyOneRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	if err := e.oauth.DelayClient(ctx, e.clientID, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	// Every goroutine is its own "instance": a service of its own over the
	// same table, as concurrent Lambdas would be.
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.svc.Token(ctx, e.id.Tenant, "zoom")
			tokens[i], errs[i] = c.AccessToken, err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if tokens[i] != tokens[0] {
			t.Fatalf("caller %d got another token; stats %+v", i, e.stats().Refreshes)
		}
	}
	if n := e.stats().TokenRequests.RefreshToken; n != 1 {
		t.Fatalf("the provider saw %d refreshes, want exactly 1", n)
	}
	if e.creds("zoom").AccessToken != tokens[0] {
		t.Fatal("the token handed out is not the stored one")
	}
}

func TestInvalidGrantExpiresTheConnectionWithAReason(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	if err := e.oauth.KillRefresh(ctx, e.creds("zoom").RefreshToken); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	_, err := e.svc.Token(ctx, e.id.Tenant, "zoom")
	if ae, ok := apperr.As(err); !ok || ae.Code != "connection_expired" {
		t.Fatalf("got %v, want connection_expired", err)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.Status != connection.StatusExpired || c.LastError == nil || c.LastError.Code != "invalid_grant" || c.LastError.At.IsZero() {
		t.Fatalf("connection %+v", c)
	}
	last := c.History[len(c.History)-1]
	if last.Status != connection.StatusExpired || last.Reason != "invalid_grant" || c.StatusChangedAt.IsZero() {
		t.Fatalf("the transition was not recorded: %+v", c.History)
	}
	if !c.NextCheckAt.IsZero() {
		t.Fatal("an expired connection is still due for refresh")
	}
	// Later callers are told at once, without another refresh.
	if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("got %v", err)
	}
	if n := e.stats().TokenRequests.RefreshToken; n != 1 {
		t.Fatalf("%d refreshes", n)
	}
	// Reconnecting brings it back.
	if c := e.connect("zoom"); c.Status != connection.StatusConnected || c.LastError != nil {
		t.Fatalf("reconnect: %+v", c)
	}
}

func TestTransientRefreshFailureKeepsTheStatusAndRecordsTheError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	if err := e.oauth.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", ClientID: e.clientID, Status: http.StatusServiceUnavailable, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute) // expiring, not expired
	old := e.creds("zoom")
	got, err := e.svc.Token(ctx, e.id.Tenant, "zoom")
	if err != nil || got.AccessToken != old.AccessToken {
		t.Fatalf("a token that has not expired yet should still be handed out: %v", err)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.Status != connection.StatusConnected || c.LastError == nil || c.LastError.Code != "refresh_failed" {
		t.Fatalf("connection %+v", c)
	}
	// Once the token has expired, the failure is the caller's answer: 503.
	if err := e.oauth.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", ClientID: e.clientID, Status: http.StatusInternalServerError, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("got %v, want Unavailable", err)
	}
	// The next success clears the error.
	if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); err != nil {
		t.Fatal(err)
	}
	c, _ = e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.Status != connection.StatusConnected || c.LastError != nil {
		t.Fatalf("after recovery: %+v", c)
	}
}

func TestReportUnauthorizedExpiresTheConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	if err := e.svc.ReportUnauthorized(ctx, e.id.Tenant, "zoom", "Invalid access token."); err != nil {
		t.Fatal(err)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.Status != connection.StatusExpired || c.LastError.Code != "unauthorized" {
		t.Fatalf("%+v", c)
	}
}

func TestRefreshDueRefreshesOnlyWhatIsDueAndIsSafeTwiceAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	// A second tenant's connection that is not due.
	other := *e
	other.id.Tenant = "tenant-b"
	other.connect("restream")
	ctx := context.Background()
	// Zoom's token expires within the 15-minute window; so does restream's,
	// so move only one: expire restream's later by refreshing it now.
	e.clock.Advance(50 * time.Minute)
	if _, err := other.svc.Refresh(ctx, "tenant-b", "restream"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	reps := make([]run.Report, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.svc.RefreshDue(ctx, 4)
			if err != nil {
				t.Error(err)
			}
			reps[i] = rep
		}()
	}
	wg.Wait()
	refreshes := e.stats().Refreshes
	if len(refreshes) != 2 { // restream's forced refresh, then zoom's due one
		t.Fatalf("refreshes %+v", refreshes)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.LastRefreshedAt.IsZero() {
		t.Fatal("the due connection was not refreshed")
	}
	if reps[0].Failed+reps[1].Failed != 0 {
		t.Fatalf("reports %+v", reps)
	}
}

func TestDisconnectRevokesAndDeletesTheCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	access := e.creds("zoom").AccessToken
	rev, err := e.svc.Disconnect(ctx, e.id.Tenant, "zoom")
	if err != nil || rev.Revoked != connection.RevokedFull || rev.Platform != zoom.ID {
		t.Fatalf("%+v, %v", rev, err)
	}
	// Zoom revokes with the access token: POST /oauth/revoke?token=<ACCESS_TOKEN>, Basic auth (PLATFORMS.md Zoom).
	revs := e.stats().Revocations
	if len(revs) != 1 || revs[0].Token != access || revs[0].TokenKind != "access_token" || revs[0].Via != "query" {
		t.Fatalf("revocations %+v (Zoom revokes the access token with ?token=)", revs)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if c.Status != connection.StatusDisconnected || len(c.Sealed) != 0 || !c.NextCheckAt.IsZero() {
		t.Fatalf("after disconnect %+v", c)
	}
	if strings.Contains(e.rawItem("zoom"), "creds") {
		t.Fatal("the credentials are still stored")
	}
	if _, err := e.svc.Token(ctx, e.id.Tenant, "zoom"); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("token after disconnect: %v", err)
	}
	if rev, err := e.svc.Disconnect(ctx, e.id.Tenant, "zoom"); err != nil || rev.Revoked != connection.RevokedNone {
		t.Fatalf("a second disconnect: %+v, %v", rev, err)
	}
}

func TestAnExpiredZoomAccessTokenIsRefreshedBeforeItIsRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	e.clock.Advance(2 * time.Hour) // the 1 h token has expired
	if rev, err := e.svc.Disconnect(context.Background(), e.id.Tenant, "zoom"); err != nil || rev.Revoked != connection.RevokedFull {
		t.Fatalf("%+v, %v", rev, err)
	}
	st := e.stats()
	if len(st.Refreshes) != 1 || !st.Refreshes[0].OK {
		t.Fatalf("refreshes %+v", st.Refreshes)
	}
	if len(st.Revocations) != 1 || st.Revocations[0].TokenKind != "access_token" || st.Revocations[0].Via != "query" {
		t.Fatalf("revocations %+v: the fresh access token should be revoked", st.Revocations)
	}
	c, _ := e.svc.Get(context.Background(), e.id.Tenant, "zoom")
	if c.Status != connection.StatusDisconnected || c.LastError != nil || len(c.Sealed) != 0 {
		t.Fatalf("after disconnect %+v", c)
	}
}

func TestFailedRevokeIsRecordedAndDoesNotBlockTheDisconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: restream.ID})
	e.connect("restream")
	// The same service with a revoke URL where nothing listens.
	e2 := e.withRevokeURL("restream", "http://127.0.0.1:1/revoke")
	rev, err := e2.svc.Disconnect(context.Background(), e.id.Tenant, "restream")
	if err != nil || rev.Revoked != connection.RevokedFailed || !strings.Contains(rev.Reason, "could not be told") {
		t.Fatalf("%+v, %v", rev, err)
	}
	c, _ := e2.svc.Get(context.Background(), e.id.Tenant, "restream")
	if c.Status != connection.StatusDisconnected || c.LastError == nil || c.LastError.Code != "revoke_failed" || len(c.Sealed) != 0 {
		t.Fatalf("%+v", c)
	}
}

func TestRefreshDueRefreshesATokenExpiringInTwentyMinutesTheRunThatSeesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	old := e.creds("zoom")
	e.clock.Advance(40 * time.Minute) // the 1 h token expires in 20 minutes
	rep, err := e.svc.RefreshDue(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Found != 1 || rep.Done != 1 || rep.Failed != 0 || rep.Unchanged != 0 {
		t.Fatalf("report %+v, want the one due connection refreshed", rep)
	}
	if n := e.stats().TokenRequests.RefreshToken; n != 1 {
		t.Fatalf("the provider saw %d refreshes, want 1", n)
	}
	// (The mock's JWT access token can repeat within a second; the rotated
	// refresh token and the later expiry cannot.)
	if got := e.creds("zoom"); got.RefreshToken == old.RefreshToken || !got.Expiry.After(old.Expiry) {
		t.Fatal("the stored token was not renewed")
	}
	// Renewed, it is no longer due: the next run finds nothing.
	if rep, err := e.svc.RefreshDue(ctx, 2); err != nil || rep.Found != 0 {
		t.Fatalf("second run %+v %v, want nothing due", rep, err)
	}
}

func TestRefreshDueDoesNotCountATokenItDidNotRefreshAsDone(t *testing.T) {
	t.Parallel()
	t.Run("transient failure", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOpts{platform: zoom.ID})
		e.connect("zoom")
		ctx := context.Background()
		if err := e.oauth.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", ClientID: e.clientID, Status: http.StatusServiceUnavailable, Count: 1}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(50 * time.Minute)
		rep, err := e.svc.RefreshDue(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done != 0 || rep.Failed != 1 {
			t.Fatalf("report %+v, want the failed refresh counted as failed", rep)
		}
	})
	t.Run("handled by another run since the index was read", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOpts{platform: zoom.ID})
		e.connect("zoom")
		cfg := e.cfg
		cfg.Repo = staleDue{Repo: cfg.Repo, refs: []connection.DueRef{{Tenant: e.id.Tenant, Platform: zoom.ID}}}
		rep, err := connection.New(cfg).RefreshDue(context.Background(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Found != 1 || rep.Done != 0 || rep.Unchanged != 1 {
			t.Fatalf("report %+v, want the fresh connection counted as unchanged", rep)
		}
		if n := e.stats().TokenRequests.RefreshToken; n != 0 {
			t.Fatalf("%d refreshes of a fresh token", n)
		}
	})
}

// staleDue is the connection repository with an index read that lists
// refs whatever their NextCheckAt, as a read racing another run would.
type staleDue struct {
	connection.Repo
	refs []connection.DueRef
}

func (s staleDue) Due(context.Context, time.Time, string, int) ([]connection.DueRef, string, error) {
	return s.refs, "", nil
}

// Microsoft's identity platform requires scope on a refresh
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token);
// golang.org/x/oauth2 does not send it by itself. The refresh body is read
// on its way to the token server.
func TestATeamsRefreshCarriesTheScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: teams.ID})
	e.connect(teams.ID)
	target, err := url.Parse(e.ep.TokenURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var forms []url.Values
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		mu.Lock()
		forms = append(forms, form)
		mu.Unlock()
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := e.cfg
	cfg.Endpoints = maps.Clone(e.eps)
	ep := cfg.Endpoints[teams.ID]
	ep.TokenURL = srv.URL + target.Path
	cfg.Endpoints[teams.ID] = ep
	svc := connection.New(cfg)

	e.clock.Advance(59 * time.Minute)
	if _, err := svc.Token(context.Background(), e.id.Tenant, teams.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(forms) != 1 || forms[0].Get("grant_type") != "refresh_token" || forms[0].Get("refresh_token") == "" {
		t.Fatalf("token requests %v", forms)
	}
	if got := forms[0].Get("scope"); got != "OnlineMeetings.ReadWrite offline_access User.Read" {
		t.Fatalf("refresh scope %q", got)
	}
	if st := e.stats(); len(st.Refreshes) != 1 || !st.Refreshes[0].OK {
		t.Fatalf("the token server did not take the refresh: %+v", st.Refreshes)
	}
}
