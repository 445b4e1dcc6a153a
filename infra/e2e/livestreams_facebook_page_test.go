package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
)

type destinationsBody struct {
	Items []struct{ ID, Name, Kind string }
}

func TestALivestreamToYouTubeAFacebookPageAndRestreamGoesLiveWithThePagesToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectThree(s, "church-1")
	pageToken, _ := s.sb.Facebook.PageToken(sandbox.FacebookPage)

	// The Page is among the destinations, without its token.
	var ds destinationsBody
	r := s.call("GET", "/connections/facebook/destinations", "church-1", nil, &ds)
	if r.StatusCode != http.StatusOK || len(ds.Items) != 2 || ds.Items[0].ID != "me" || ds.Items[0].Kind != "profile" ||
		ds.Items[1].ID != sandbox.FacebookPage || ds.Items[1].Kind != "page" || ds.Items[1].Name != "Grace Church" {
		t.Fatalf("destinations: %d %+v", r.StatusCode, ds)
	}

	start := time.Now().UTC().Truncate(time.Minute).Add(time.Hour) // far enough ahead for Facebook to schedule it
	ls := s.createLivestream("church-1", newLivestream(start,
		youtubeTarget("unlisted"), liveTarget{Platform: "facebook", Destination: sandbox.FacebookPage},
		liveTarget{Platform: "restream"}))
	fbt := ls.Targets[ls.target(t, "facebook")]
	if fbt.Status != "ready" || fbt.Destination == nil || *fbt.Destination != sandbox.FacebookPage {
		t.Fatalf("the Facebook target %+v", fbt)
	}
	v, _ := s.sb.Facebook.Video(*fbt.ExternalID)
	if v.Page != sandbox.FacebookPage || v.Status != "SCHEDULED_UNPUBLISHED" || v.PlannedStart != start.Unix() {
		t.Fatalf("the Page's video %+v", v)
	}

	s.sb.YouTube.PushAll()
	s.sb.Facebook.PushAll()
	s.sb.Restream.PushAll()
	sched := s.newLiveScheduler()
	if rep := sched.tick(start); rep.Done != 1 {
		t.Fatalf("the tick at the start: %+v", rep)
	}
	ls = s.getLivestream("church-1", ls.ID)
	if ls.Status != "live" {
		t.Fatalf("at the start: %+v", ls)
	}
	for _, tg := range ls.Targets {
		if tg.Status != "live" {
			t.Errorf("%s is %s: %+v", tg.Platform, tg.Status, tg.LastError)
		}
	}
	if v, _ := s.sb.Facebook.Video(*fbt.ExternalID); v.Status != "LIVE" {
		t.Fatalf("the Page's video is %s", v.Status)
	}
	for _, req := range s.sb.Facebook.Requests() {
		if strings.HasSuffix(req.Path, "/"+sandbox.FacebookPage+"/live_videos") || req.Op == facebookfake.OpUpdate {
			if req.Token != pageToken {
				t.Errorf("%s %s without the Page's token", req.Method, req.Path)
			}
		}
	}
	// The Page token is a secret that never leaves the Facebook client.
	noLiveSecret(t, "the table", s.liveRawTable(), []string{pageToken})
	noLiveSecret(t, "the logs", s.logs.String(), []string{pageToken})
	noLiveSecret(t, "the answers", s.answers.String(), []string{pageToken})
}

func TestFacebookDestinationsAreTheTenantsOwnAndAPageTheUserDoesNotManageIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectThree(s, "church-1")
	for _, tc := range []struct {
		path, tenant string
		status       int
		code         string
	}{
		{"/connections/facebook/destinations", "church-2", http.StatusNotFound, "connection_not_found"},
		{"/connections/youtube/destinations", "church-1", http.StatusNotFound, "destinations_not_supported"},
		{"/connections/nowhere/destinations", "church-1", http.StatusNotFound, "unknown_platform"},
	} {
		var p struct{ Code string }
		if r := s.call("GET", tc.path, tc.tenant, nil, &p); r.StatusCode != tc.status || p.Code != tc.code {
			t.Errorf("%s as %s: %d %s, want %d %s", tc.path, tc.tenant, r.StatusCode, p.Code, tc.status, tc.code)
		}
	}
	var p struct{ Code, Detail string }
	body := newLivestream(liveStartIn(30), liveTarget{Platform: "facebook", Destination: "999000000000999"})
	if r := s.call("POST", "/livestreams", "church-1", body, &p); r.StatusCode != http.StatusUnprocessableEntity || p.Code != "unknown_destination" {
		t.Fatalf("a Page the user does not manage: %d %+v", r.StatusCode, p)
	}
	if n := s.sb.Facebook.Calls(facebookfake.OpCreate); n != 0 {
		t.Errorf("%d live videos created", n)
	}
}
