package livestream_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
)

const (
	gracePage      = "200000000000002"
	gracePageToken = "EAAGpageTokenGrace0123456789"
)

func TestAFacebookTargetWithAPageDestinationPublishesOnThePageWithItsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.AddPage(gracePage, "Grace Church", gracePageToken)
	e.connect(tenant, facebook.ID, youtube.ID)
	in := e.input("youtube", "facebook")
	in.Targets[1].Destination = gracePage
	ls := e.create(in)

	fbt := target(t, ls, facebook.ID)
	v, ok := e.fb.Video(fbt.ExternalID)
	if !ok || v.Page != gracePage || v.Status != "SCHEDULED_UNPUBLISHED" || fbt.Destination != gracePage {
		t.Fatalf("video %+v, target %+v", v, fbt)
	}
	if got := target(t, e.get(ls.ID), facebook.ID).Destination; got != gracePage {
		t.Errorf("stored destination %q", got)
	}

	// At the start the scheduler publishes it, on the Page, with the Page's token.
	e.at(ls.ScheduledStart)
	e.run()
	e.fb.PushAll()
	if v, _ := e.fb.Video(fbt.ExternalID); v.Status != "LIVE" {
		t.Fatalf("at the start the Page's video is %s", v.Status)
	}
	for _, r := range e.fb.Requests() {
		if r.Op != facebookfake.OpAccounts && r.Op != facebookfake.OpMe && r.Token != gracePageToken {
			t.Errorf("%s %s went with a token that is not the Page's", r.Method, r.Path)
		}
	}
	// The Page token is never stored or logged.
	secrets := append(e.secrets([]*livestream.Livestream{ls}), gracePageToken)
	noSecretIn(t, "the table", e.rawItems(), secrets)
	noSecretIn(t, "the logs", e.logs.String(), secrets)
}

func TestAProfileDestinationOrNoneUsesTheProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.AddPage(gracePage, "Grace Church", gracePageToken)
	e.connect(tenant, facebook.ID)
	for _, dest := range []string{"", "me"} {
		in := e.input("facebook")
		in.Targets[0].Destination = dest
		ls := e.create(in)
		fbt := target(t, ls, facebook.ID)
		if v, _ := e.fb.Video(fbt.ExternalID); v.Page != "" || fbt.Destination != "" {
			t.Errorf("destination %q: video %+v, target %+v", dest, v, fbt)
		}
	}
}

func TestADestinationThatCannotBeUsedIsRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.AddPage(gracePage, "Grace Church", gracePageToken)
	e.connect(tenant, facebook.ID, youtube.ID)
	cases := []struct {
		name, platform, dest string
		kind                 apperr.Kind
		code                 string
	}{
		{"a Page the user does not manage", "facebook", "999000000000999", apperr.Unprocessable, "unknown_destination"},
		{"a destination on YouTube", "youtube", gracePage, apperr.Unprocessable, "destination_not_supported"},
		{"a path for a destination", "facebook", "200/live_videos", apperr.Invalid, "invalid_destination"},
	}
	for _, tc := range cases {
		in := e.input(tc.platform)
		in.Targets[0].Destination = tc.dest
		_, err := e.svc.Create(context.Background(), tenant, "user-1", in)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != tc.kind || string(ae.Code) != tc.code {
			t.Errorf("%s: %v, want %s %s", tc.name, err, tc.kind, tc.code)
		}
	}
	list, _, err := e.svc.List(context.Background(), tenant, "", "", 10)
	if err != nil || len(list) != 0 || e.fb.Videos() != 0 || e.fb.Calls(facebookfake.OpCreate) != 0 {
		t.Errorf("%d livestreams stored, %d Facebook videos, %v", len(list), e.fb.Videos(), err)
	}
}

func TestDestinationsListTheConnectedAccountsProfileAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.AddPage(gracePage, "Grace Church", gracePageToken)
	ctx := context.Background()
	if _, err := e.svc.Destinations(ctx, tenant, "facebook"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("not connected: %v, want not found", err)
	}
	e.connect(tenant, facebook.ID, youtube.ID)
	ds, err := e.svc.Destinations(ctx, tenant, "facebook")
	if err != nil {
		t.Fatal(err)
	}
	want := []platform.Destination{
		{ID: "me", Name: "Grace Church Media", Kind: platform.DestinationProfile},
		{ID: gracePage, Name: "Grace Church", Kind: platform.DestinationPage},
	}
	if len(ds) != 2 || ds[0] != want[0] || ds[1] != want[1] {
		t.Errorf("destinations %+v", ds)
	}
	if _, err := e.svc.Destinations(ctx, "another-church", "facebook"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another tenant: %v, want not found", err)
	}
	if _, err := e.svc.Destinations(ctx, tenant, "youtube"); !apperr.Is(err, apperr.NotFound) || !strings.Contains(err.Error(), "no destinations") {
		t.Errorf("youtube: %v", err)
	}
	// A token Facebook refuses marks the connection expired.
	e.fb.RejectToken(e.token(tenant, facebook.ID))
	if _, err := e.svc.Destinations(ctx, tenant, "facebook"); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("refused token: %v, want a conflict", err)
	}
	if _, err := e.svc.Destinations(ctx, tenant, "facebook"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("after the refusal: %v, want the connection expired", err)
	}
}
