package instagram_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
)

const facebookToken = "EAAGfacebookUserToken456"

// sameApp is an Instagram client and a Facebook client whose fakes hold one
// grant, as Graph does for two connections through one Meta app; both
// tokens have been seen (each connection's whoami).
func sameApp(t *testing.T) (*instagram.Client, *instagramfake.Server, *facebook.Client, *facebookfake.Server) {
	t.Helper()
	ig, igFake := setup(t)
	fbFake := facebookfake.New()
	t.Cleanup(fbFake.Close)
	igFake.ShareGrant(fbFake.Grant())
	fb := facebook.New(&http.Client{Timeout: 5 * time.Second}, fbFake.URL)
	if _, err := ig.Whoami(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if _, err := fb.Whoami(context.Background(), facebookToken); err != nil {
		t.Fatal(err)
	}
	return ig, igFake, fb, fbFake
}

func TestAWholeGrantRevokeAtFacebookEndsTheInstagramConnectionOfTheSameApp(t *testing.T) {
	t.Parallel()
	ig, _, fb, _ := sameApp(t)
	if err := fb.RevokeGrant(context.Background(), facebookToken); err != nil {
		t.Fatal(err)
	}
	_, err := ig.Whoami(context.Background(), token)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Fatalf("Instagram after Facebook withdrew the whole grant: %s (%v)", r, err)
	}
}

func TestRevokingInstagramsOwnPermissionLeavesFacebookWorking(t *testing.T) {
	t.Parallel()
	ig, igFake, fb, fbFake := sameApp(t)
	ctx := context.Background()
	done, err := ig.RevokePermissions(ctx, token, []string{"instagram_basic"})
	if err != nil || !slices.Equal(done, []string{"instagram_basic"}) {
		t.Fatalf("withdrawn %v, %v", done, err)
	}
	if igFake.Calls(instagramfake.OpRevokeOne) != 1 || igFake.Calls(instagramfake.OpRevoke) != 0 {
		t.Fatal("Instagram's revoke was not one permission")
	}
	if _, err := fb.Whoami(ctx, facebookToken); err != nil {
		t.Fatalf("Facebook after Instagram withdrew its own permission: %v", err)
	}
	if fbFake.Grant().Has("instagram_basic") || !fbFake.Grant().Has("publish_video") {
		t.Fatal("the shared grant lost the wrong permission")
	}
	b := platform.Broadcast{Extra: map[string]string{instagram.ExtraIGUserID: igUserID}}
	_, err = ig.State(ctx, token, b)
	if r := reasonOf(t, err); r != platform.ReasonPermission {
		t.Fatalf("live_media without instagram_basic: %s (%v)", r, err)
	}
	if err := ig.RevokeGrant(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := fb.Whoami(ctx, facebookToken); platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("Facebook after Instagram withdrew the whole grant: %v", err)
	}
}
