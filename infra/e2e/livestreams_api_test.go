package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi/openapitest"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

func TestEveryLivestreamRouteAnswers404ForAnotherTenantsLivestreamAndChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-1", "restream")
	s.connectOAuth("church-2", "restream")
	ls := s.createLivestream("church-1", newLivestream(liveStartIn(30), liveTarget{Platform: "restream"}))
	before := bodyOf(s.call("GET", "/livestreams/"+ls.ID, "church-1", nil, nil))

	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/livestreams/" + ls.ID, nil},
		{"GET", "/livestreams/" + ls.ID + "/ingest", nil},
		{"PATCH", "/livestreams/" + ls.ID, map[string]any{"title": "taken over"}},
		{"POST", "/livestreams/" + ls.ID + "/start", nil},
		{"POST", "/livestreams/" + ls.ID + "/end", nil},
		{"DELETE", "/livestreams/" + ls.ID, nil},
	}
	for _, r := range routes {
		resp := s.call(r.method, r.path, "church-2", r.body, nil)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s as another tenant: %d %s", r.method, r.path, resp.StatusCode, bodyOf(resp))
		}
	}
	var page struct{ Items []livestreamBody }
	if r := s.call("GET", "/livestreams", "church-2", nil, &page); r.StatusCode != 200 || len(page.Items) != 0 {
		t.Fatalf("another tenant's list: %d %+v", r.StatusCode, page)
	}
	if after := bodyOf(s.call("GET", "/livestreams/"+ls.ID, "church-1", nil, nil)); after != before {
		t.Fatalf("changed by another tenant:\n%s\n%s", before, after)
	}
}

func TestBadLivestreamRequestsAreProblemsAndChangeNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-1", "youtube")
	start := liveStartIn(30)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"unknown field", map[string]any{"title": "x", "scheduledStart": start.Format(time.RFC3339), "targets": []liveTarget{youtubeTarget("")}, "colour": "red"}, 400, "invalid_body"},
		{"bad time", map[string]any{"title": "x", "scheduledStart": "next sunday", "targets": []liveTarget{youtubeTarget("")}}, 400, "invalid_body"},
		{"no targets", newLivestream(start), 400, "invalid_targets"},
		{"a meeting platform", newLivestream(start, liveTarget{Platform: "zoom"}), 400, "wrong_platform_kind"},
		{"an unknown platform", newLivestream(start, liveTarget{Platform: "myspace"}), 400, "unknown_platform"},
		{"not connected", newLivestream(start, youtubeTarget(""), liveTarget{Platform: "facebook"}), 409, "target_not_connected"},
		{"Instagram without its ingest", newLivestream(start, liveTarget{Platform: "instagram"}), 422, "ingest_required"},
		{"start in the past", newLivestream(start.Add(-2*time.Hour), youtubeTarget("")), 422, "invalid_schedule"},
		{"YouTube without madeForKids", newLivestream(start, liveTarget{Platform: "youtube"}), 400, "made_for_kids_required"},
		{"autoStop for Restream", newLivestream(start, liveTarget{Platform: "restream", AutoStop: new(true)}), 422, "option_not_accepted"},
		{"an end at the zero time", map[string]any{"title": "x", "scheduledStart": start.Format(time.RFC3339), "scheduledEnd": "0001-01-01T00:00:00Z", "targets": []liveTarget{youtubeTarget("")}}, 400, "invalid_body"},
		{"a start 180 years ahead", newLivestream(start.AddDate(180, 0, 0), youtubeTarget("")), 400, "invalid_schedule"},
	}
	for _, c := range cases {
		var p struct{ Code, Detail string }
		r := s.call("POST", "/livestreams", "church-1", c.body, &p)
		if r.StatusCode != c.status || p.Code != c.code || p.Detail == "" {
			t.Errorf("%s: %d %+v, want %d %s", c.name, r.StatusCode, p, c.status, c.code)
		}
	}
	// The zero time is a bad time, not a missing one.
	var zero struct{ Code, Detail string }
	r := s.call("POST", "/livestreams", "church-1", map[string]any{"title": "x", "scheduledStart": "0001-01-01T00:00:00Z", "targets": []liveTarget{youtubeTarget("")}}, &zero)
	if r.StatusCode != 400 || zero.Code != "invalid_body" || !strings.Contains(zero.Detail, "0001-01-01T00:00:00Z is not a usable date-time") {
		t.Errorf("the zero time: %d %+v", r.StatusCode, zero)
	}
	var page struct{ Items []livestreamBody }
	s.call("GET", "/livestreams", "church-1", nil, &page)
	if len(page.Items) != 0 || s.sb.YouTube.Calls(youtubefake.OpBroadcastInsert) != 0 {
		t.Fatalf("refused requests left %d livestreams and %d YouTube broadcasts", len(page.Items), s.sb.YouTube.Calls(youtubefake.OpBroadcastInsert))
	}
	// A livestream that is live cannot be changed or started again.
	ls := s.createLivestream("church-1", newLivestream(start, youtubeTarget("")))
	s.sb.YouTube.PushAll()
	if r := s.call("POST", "/livestreams/"+ls.ID+"/start", "church-1", nil, nil); r.StatusCode != 200 {
		t.Fatalf("start: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, r := range []*http.Response{
		s.call("PATCH", "/livestreams/"+ls.ID, "church-1", map[string]any{"title": "late change"}, nil),
		s.call("POST", "/livestreams/"+ls.ID+"/start", "church-1", nil, nil),
	} {
		if r.StatusCode != http.StatusConflict {
			t.Errorf("on a live livestream: %d %s", r.StatusCode, bodyOf(r))
		}
	}
}

func TestTheSameIdempotencyKeySchedulesOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-1", "youtube")
	body, _ := json.Marshal(newLivestream(liveStartIn(30), youtubeTarget("")))
	var ids []string
	for range 2 {
		req, _ := http.NewRequest("POST", s.gw.URL+"/livestreams", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "sunday-2026-05-03")
		req.Header.Set("Authorization", "Bearer "+s.token("church-1", "user-of-church-1"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ls livestreamBody
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &ls) != nil {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
		ids = append(ids, ls.ID)
	}
	if ids[0] != ids[1] || s.sb.YouTube.Calls(youtubefake.OpBroadcastInsert) != 1 {
		t.Fatalf("ids %v, %d YouTube broadcasts", ids, s.sb.YouTube.Calls(youtubefake.OpBroadcastInsert))
	}
}

// The livestreams function is built here a second time from the same
// wiring, with its logs kept, and driven with the events the gateway
// sends (each answer held to openapi.json): no stream key or token is in
// any answer but the ingest route's, in any log line, or in the table.
func TestNoStreamKeyIsAnsweredLoggedOrStoredInTheClear(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	for _, p := range []string{"youtube", "facebook", "instagram", "restream"} {
		s.connectOAuth("church-1", p)
	}
	logs := &servicetest.Logs{}
	api, err := app.HTTP(context.Background(), app.Livestreams, app.Options{Getenv: s.liveGetenv, Log: logs})
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	call := func(method, path string, body any, want int) string {
		t.Helper()
		ev := liveEvent(method, path, "church-1", body, nil)
		resp, _ := api.Handle(context.Background(), ev)
		openapitest.Check(t, ev, resp)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, resp.Body)
		}
		return resp.Body
	}
	start := liveStartIn(3)
	igKey := "IGLive-" + strings.Repeat("k", 12) + "-user-pasted"
	created := call("POST", "/livestreams", newLivestream(start,
		youtubeTarget(""), liveTarget{Platform: "facebook"}, liveTarget{Platform: "restream"},
		liveTarget{Platform: "instagram", RTMPURL: "rtmps://edgetee-upload.facebook.com:443/rtmp/", StreamKey: igKey}), http.StatusCreated)
	answers = append(answers, created)
	var ls livestreamBody
	_ = json.Unmarshal([]byte(created), &ls)
	if ig := ls.Targets[3]; ig.Status != "ready" || ig.Note == nil || !strings.Contains(*ig.Note, "no public API") {
		t.Fatalf("the Instagram target does not say plainly what Instagram cannot do: %+v", ig)
	}

	ingest := call("GET", "/livestreams/"+ls.ID+"/ingest", nil, http.StatusOK)
	var in struct {
		Targets []struct {
			Platform  string
			IngestURL *string
			StreamKey *string
		}
	}
	_ = json.Unmarshal([]byte(ingest), &in)
	var secrets []string
	for _, tg := range in.Targets {
		if tg.IngestURL == nil || tg.StreamKey == nil || *tg.StreamKey == "" {
			t.Fatalf("the ingest route lacks %s's ingest: %s", tg.Platform, ingest)
		}
		secrets = append(secrets, *tg.StreamKey)
	}
	yt, _ := s.sb.YouTube.Broadcast(*ls.Targets[0].ExternalID)
	st, _ := s.sb.YouTube.Stream(yt.BoundStreamID)
	fb, _ := s.sb.Facebook.Video(*ls.Targets[1].ExternalID)
	if secrets[0] != st.StreamName || secrets[1] != fb.PersistentKey || secrets[3] != igKey {
		t.Fatalf("the ingest route's keys are not the platforms'")
	}
	secrets = append(secrets, s.liveAccessTokens("church-1", "youtube", "facebook", "instagram", "restream")...)

	answers = append(answers,
		call("GET", "/livestreams/"+ls.ID, nil, http.StatusOK),
		call("GET", "/livestreams", nil, http.StatusOK),
		call("PATCH", "/livestreams/"+ls.ID, map[string]any{"description": nil, "scheduledEnd": nil}, http.StatusOK))
	s.sb.YouTube.PushAll()
	sched := s.newLiveScheduler()
	sched.tick(start)
	answers = append(answers, call("POST", "/livestreams/"+ls.ID+"/end", nil, http.StatusOK))
	call("DELETE", "/livestreams/"+ls.ID, nil, http.StatusConflict) // over: nothing to cancel

	for i, a := range answers {
		noLiveSecret(t, "answer "+string(rune('0'+i)), a, secrets)
	}
	noLiveSecret(t, "the livestreams function's logs", logs.String(), secrets)
	noLiveSecret(t, "stream-scheduler's logs", sched.logs.String(), secrets)
	noLiveSecret(t, "the table", s.liveRawTable(), secrets)
	if !strings.Contains(logs.String(), `"request"`) || !strings.Contains(sched.logs.String(), "stream scheduler run") {
		t.Fatal("the logs were not captured")
	}
}
