package facebook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
)

// siblingToken is a second user token of the same user and Meta app: what
// an Instagram connection made through the same app holds.
const siblingToken = "EAAGsiblingInstagramToken987"

// twoLogins makes the fake see both tokens, as two connections' whoami do.
func twoLogins(t *testing.T, c *facebook.Client) {
	t.Helper()
	for _, tok := range []string{token, siblingToken} {
		if _, err := c.Whoami(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRevokingTheWholeGrantEndsASiblingConnectionOfTheSameApp(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	twoLogins(t, c)
	if err := c.RevokeGrant(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(facebookfake.OpRevoke); n != 1 {
		t.Fatalf("%d whole-grant revokes", n)
	}
	// The sibling's token dies with the grant: Graph answers 190.
	_, err := c.Whoami(context.Background(), siblingToken)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Fatalf("the sibling's call after a whole-grant revoke: %s (%v), want expired_token", r, err)
	}
	if pe, _ := platform.AsError(err); pe.Code != "190/458" {
		t.Errorf("Graph's code %q, want 190/458 (the user has not authorized the app)", pe.Code)
	}
	// A new login through the app is a new grant.
	if _, err := c.Whoami(context.Background(), "EAAGreconnectedToken"); err != nil {
		t.Fatalf("a new login after the revoke: %v", err)
	}
}

func TestRevokingPermissionsWithdrawsOnlyThoseOneAtATime(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddPage("200000000000002", "Grace Church", "EAAGpageTokenGrace")
	twoLogins(t, c)
	ctx := context.Background()
	done, err := c.RevokePermissions(ctx, token, []string{"publish_video", facebook.AlwaysGranted, "pages_manage_posts"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(done, []string{"publish_video", "pages_manage_posts"}) {
		t.Fatalf("withdrawn %v; public_profile belongs to every login and is never withdrawn alone", done)
	}
	var paths []string
	for _, r := range fake.Requests() {
		if r.Method == http.MethodDelete {
			paths = append(paths, r.Path)
		}
	}
	want := []string{"/v21.0/me/permissions/publish_video", "/v21.0/me/permissions/pages_manage_posts"}
	if !slices.Equal(paths, want) || fake.Calls(facebookfake.OpRevoke) != 0 {
		t.Fatalf("DELETEs %v, want %v and no whole-grant revoke", paths, want)
	}
	g := fake.Grant()
	if g.Has("publish_video") || g.Has("pages_manage_posts") || !g.Has("pages_show_list") || !g.Has("instagram_basic") {
		t.Fatal("the grant lost the wrong permissions")
	}
	// The sibling goes on working with what it uses...
	if _, err := c.PageToken(ctx, siblingToken, "200000000000002"); err != nil {
		t.Fatalf("the sibling's call after a partial revoke: %v", err)
	}
	// ...and what needed a withdrawn permission is refused as Graph does.
	_, err = c.Provision(ctx, token, spec(time.Hour))
	if r := reasonOf(t, err); r != platform.ReasonPermission {
		t.Fatalf("a live video without publish_video: %s (%v)", r, err)
	}
}

func TestRevokeReadsGraphsSuccessAnswer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`true`, true}, {`{"success":true}`, true}, {`false`, false}, {`{"success":false}`, false}, {`{}`, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodDelete || !strings.HasPrefix(r.URL.Path, "/v21.0/me/permissions") {
				t.Errorf("%s %s", r.Method, r.URL.Path)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(c.body))
		}))
		client := facebook.New(&http.Client{Timeout: 5 * time.Second}, srv.URL+"/v21.0")
		errGrant := client.RevokeGrant(context.Background(), token)
		done, errOne := client.RevokePermissions(context.Background(), token, []string{"publish_video"})
		srv.Close()
		if (errGrant == nil) != c.ok || (errOne == nil) != c.ok || (len(done) == 1) != c.ok {
			t.Errorf("answer %s: grant %v, permission %v %v; want success %v", c.body, errGrant, done, errOne, c.ok)
		}
	}
}

func TestRevokeErrorsNeverCarryTheToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(facebookfake.OpRevokePermission, 400, 190, 1)
	fake.FailNext(facebookfake.OpRevoke, 500, 2, 3)
	done, err := c.RevokePermissions(context.Background(), token, []string{"publish_video"})
	if len(done) != 0 || reasonOf(t, err) != platform.ReasonExpiredToken || strings.Contains(errorText(err), token) {
		t.Fatalf("withdrawn %v, err %v", done, err)
	}
	err = c.RevokeGrant(context.Background(), token)
	if reasonOf(t, err) != platform.ReasonTransient || strings.Contains(errorText(err), token) {
		t.Fatalf("err %v", err)
	}
}
