package connection_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

// googleClient is the mock as Google: refresh answers carry no refresh
// token, and a revoke ends the user's whole grant to the client.
var googleClient = oauthmock.ClientConfig{RefreshOnRefresh: oauthmock.Bool(false), RevokeGrant: true}

// disconnect disconnects p and returns what it revoked.
func (e *env) disconnect(p platform.ID) connection.Revocation {
	e.t.Helper()
	rev, err := e.svc.Disconnect(context.Background(), e.id.Tenant, string(p))
	if err != nil {
		e.t.Fatalf("disconnect %s: %v", p, err)
	}
	c, _ := e.svc.Get(context.Background(), e.id.Tenant, string(p))
	if c.Status != connection.StatusDisconnected || len(c.Sealed) != 0 {
		e.t.Fatalf("%s still holds credentials after its disconnect: %+v", p, c)
	}
	return rev
}

func TestDisconnectingYouTubeLeavesTheGoogleGrantMeetStillUses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: youtube.ID, client: googleClient}) // one client id for both
	e.connect(youtube.ID)
	e.connect(googlemeet.ID)
	rev := e.disconnect(youtube.ID)
	if revs := e.stats().Revocations; len(revs) != 0 {
		t.Fatalf("revoked %+v while Google Meet still uses the grant", revs)
	}
	if rev.Revoked != connection.RevokedSkipped || !slices.Equal(rev.SharedWith, []platform.ID{googlemeet.ID}) || rev.Reason == "" {
		t.Fatalf("revocation %+v", rev)
	}
	ctx := context.Background()
	c, err := e.svc.Refresh(ctx, e.id.Tenant, "google-meet")
	if err != nil || c.Status != connection.StatusConnected || c.LastError != nil || c.LastRefreshedAt.IsZero() {
		t.Fatalf("Google Meet after YouTube's disconnect: %+v, %v", c, err)
	}
}

func TestDisconnectingTheLastGoogleConnectionRevokesTheGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: googlemeet.ID, client: googleClient})
	e.connect(youtube.ID)
	e.connect(googlemeet.ID)
	if rev := e.disconnect(googlemeet.ID); rev.Revoked != connection.RevokedSkipped {
		t.Fatalf("first: %+v", rev)
	}
	refresh := e.creds(youtube.ID).RefreshToken
	rev := e.disconnect(youtube.ID)
	revs := e.stats().Revocations
	if rev.Revoked != connection.RevokedFull || len(rev.SharedWith) != 0 || len(revs) != 1 || revs[0].Token != refresh {
		t.Fatalf("the last one: %+v, revocations %+v", rev, revs)
	}
}

func TestOnlyAConnectedSiblingOfTheSameClientHoldsTheGrant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(e *env) *env
	}{
		{"another OAuth client", func(e *env) *env {
			return e.withEndpoint(googlemeet.ID, func(ep *platform.Endpoints) { ep.ClientID = "another-google-client" })
		}},
		{"an expired sibling", func(e *env) *env {
			if err := e.oauth.KillRefresh(context.Background(), e.creds(googlemeet.ID).RefreshToken); err != nil {
				e.t.Fatal(err)
			}
			if c, _ := e.svc.Refresh(context.Background(), e.id.Tenant, "google-meet"); c == nil || c.Status != connection.StatusExpired {
				e.t.Fatalf("Meet should be expired: %+v", c)
			}
			return e
		}},
		{"a disconnected sibling", func(e *env) *env { e.disconnect(googlemeet.ID); return e }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOpts{platform: youtube.ID, client: googleClient})
			e.connect(youtube.ID)
			e.connect(googlemeet.ID)
			e = tc.prepare(e)
			before := len(e.stats().Revocations)
			rev := e.disconnect(youtube.ID)
			if rev.Revoked != connection.RevokedFull || len(e.stats().Revocations) != before+1 {
				t.Fatalf("%+v, revocations %d -> %d", rev, before, len(e.stats().Revocations))
			}
		})
	}
}

// meta is an env whose Facebook and Instagram connections go through one
// Meta app (the env's one client id) to the Graph fakes, which share the
// user's grant of it as graph.facebook.com does.
type meta struct {
	*env
	fb *facebookfake.Server
	ig *instagramfake.Server
}

func newMeta(t *testing.T) *meta {
	t.Helper()
	e := newEnv(t, envOpts{platform: facebook.ID, client: oauthmock.ClientConfig{IssueRefresh: oauthmock.Bool(false), LongLivedExchange: true}})
	fbFake, igFake := facebookfake.New(), instagramfake.New()
	t.Cleanup(fbFake.Close)
	t.Cleanup(igFake.Close)
	igFake.AddPage("104857600000001", "Grace Church", "17841400000000001", "gracechurch")
	igFake.ShareGrant(fbFake.Grant())
	hc := &http.Client{Timeout: 5 * time.Second}
	fb, ig := facebook.New(hc, fbFake.URL), instagram.New(hc, igFake.URL)
	for _, p := range []platform.ID{facebook.ID, instagram.ID} {
		ep := e.eps[p]
		ep.RevokeURL = fbFake.URL + "/me/permissions" // Graph's whole-grant DELETE, as the sandbox points it
		e.eps[p] = ep
	}
	e.cfg.Endpoints = e.eps
	e.cfg.Accounts[facebook.ID], e.cfg.Accounts[instagram.ID] = fb, ig
	e.cfg.LongLived = func(ctx context.Context, ep platform.Endpoints, short string) (string, time.Duration, error) {
		return fb.ExchangeLongLived(ctx, ep.TokenURL, ep.ClientID, ep.ClientSecret, short)
	}
	e.cfg.Revokers = map[platform.ID]connection.GrantRevoker{facebook.ID: fb, instagram.ID: ig}
	e.svc = connection.New(e.cfg)
	e.connect(facebook.ID)
	e.connect(instagram.ID)
	return &meta{env: e, fb: fbFake, ig: igFake}
}

func (m *meta) deletes() (whole, one int) {
	return m.fb.Calls(facebookfake.OpRevoke) + m.ig.Calls(instagramfake.OpRevoke),
		m.fb.Calls(facebookfake.OpRevokePermission) + m.ig.Calls(instagramfake.OpRevokeOne)
}

func TestDisconnectingFacebookWithdrawsOnlyItsOwnPermissionsAndInstagramKeepsWorking(t *testing.T) {
	t.Parallel()
	m := newMeta(t)
	rev := m.disconnect(facebook.ID)
	if whole, _ := m.deletes(); whole != 0 {
		t.Fatalf("%d whole-grant revokes while Instagram still uses the grant", whole)
	}
	want := []string{"publish_video", "pages_manage_posts"} // pages_read_engagement and pages_show_list are Instagram's too
	if rev.Revoked != connection.RevokedPartial || !slices.Equal(rev.Permissions, want) || !slices.Equal(rev.SharedWith, []platform.ID{instagram.ID}) {
		t.Fatalf("revocation %+v, want %v withdrawn", rev, want)
	}
	g := m.fb.Grant()
	if g.Has("publish_video") || g.Has("pages_manage_posts") || !g.Has("pages_show_list") || !g.Has("instagram_basic") {
		t.Fatal("the grant lost the wrong permissions")
	}
	ctx := context.Background()
	c, err := m.svc.Refresh(ctx, m.id.Tenant, "instagram")
	if err != nil || c.Status != connection.StatusConnected || c.LastError != nil {
		t.Fatalf("Instagram after Facebook's disconnect: %+v, %v", c, err)
	}
	ig := instagram.New(&http.Client{Timeout: 5 * time.Second}, m.ig.URL)
	b := platform.Broadcast{Extra: map[string]string{instagram.ExtraIGUserID: "17841400000000001"}}
	if _, err := ig.State(ctx, m.creds(instagram.ID).AccessToken, b); err != nil {
		t.Fatalf("Instagram's live status after Facebook's disconnect: %v", err)
	}
	// Instagram is the last: its disconnect withdraws the whole grant.
	if rev := m.disconnect(instagram.ID); rev.Revoked != connection.RevokedFull {
		t.Fatalf("the last Meta connection: %+v", rev)
	}
	if whole, _ := m.deletes(); whole != 1 {
		t.Fatalf("%d whole-grant revokes for the last connection", whole)
	}
}

func TestDisconnectingInstagramWithdrawsOnlyInstagramBasic(t *testing.T) {
	t.Parallel()
	m := newMeta(t)
	rev := m.disconnect(instagram.ID)
	if rev.Revoked != connection.RevokedPartial || !slices.Equal(rev.Permissions, []string{"instagram_basic"}) {
		t.Fatalf("revocation %+v", rev)
	}
	if whole, one := m.deletes(); whole != 0 || one != 1 {
		t.Fatalf("%d whole, %d single revokes", whole, one)
	}
	c, err := m.svc.Refresh(context.Background(), m.id.Tenant, "facebook")
	if err != nil || c.Status != connection.StatusConnected {
		t.Fatalf("Facebook after Instagram's disconnect: %+v, %v", c, err)
	}
}
