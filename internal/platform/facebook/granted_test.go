package facebook_test

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

func TestGrantedScopesAreWhatTheLoginGrantedAndNotWhatItDeclined(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.Grant().DeclineAtNextLogin("pages_manage_posts", "publish_video")
	got, err := c.GrantedScopes(context.Background(), token)
	want := []string{"public_profile", "pages_read_engagement", "pages_show_list", "instagram_basic"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("after unticking two: %v, %v; want %v", got, err, want)
	}
	// The next login grants everything again; a permission revoked later
	// reads as not granted.
	got, err = c.GrantedScopes(context.Background(), siblingToken)
	if err != nil || !slices.Contains(got, "pages_manage_posts") || !slices.Contains(got, "publish_video") {
		t.Fatalf("a later login: %v, %v", got, err)
	}
	if _, err := c.RevokePermissions(context.Background(), token, []string{"pages_show_list"}); err != nil {
		t.Fatal(err)
	}
	if got, _ = c.GrantedScopes(context.Background(), token); slices.Contains(got, "pages_show_list") {
		t.Fatalf("a revoked permission still reads as granted: %v", got)
	}
}

func TestGrantedScopesWithARefusedTokenIsAnExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	if _, err := c.GrantedScopes(context.Background(), token); platform.ReasonOf(err) != platform.ReasonExpiredToken {
		t.Fatalf("err = %v, want expired_token", err)
	}
}
