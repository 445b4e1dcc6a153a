package youtubefake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

type answer struct {
	status int
	body   map[string]any
}

func call(t *testing.T, fake *youtubefake.Server, token, method, pathQuery, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL+pathQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return answer{resp.StatusCode, m}
}

func reason(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	errs, _ := e["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	first, _ := errs[0].(map[string]any)
	r, _ := first["reason"].(string)
	return r
}

func setup(t *testing.T, contentDetails string) (*youtubefake.Server, string, string) {
	t.Helper()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	b := call(t, fake, "tok", "POST", "/liveBroadcasts?part=id,status,contentDetails",
		`{"snippet":{"title":"t","scheduledStartTime":"2030-01-01T10:00:00Z"},"status":{"privacyStatus":"private"},"contentDetails":`+contentDetails+`}`)
	s := call(t, fake, "tok", "POST", "/liveStreams?part=id,cdn",
		`{"snippet":{"title":"t"},"cdn":{"ingestionType":"rtmp","resolution":"variable","frameRate":"variable"}}`)
	bid, sid := b.body["id"].(string), s.body["id"].(string)
	if a := call(t, fake, "tok", "POST", "/liveBroadcasts/bind?part=id&id="+bid+"&streamId="+sid, ""); a.status != 200 {
		t.Fatalf("bind: %d %v", a.status, a.body)
	}
	return fake, bid, sid
}

func TestWithTheMonitorStreamOnGoingLiveNeedsTestingFirst(t *testing.T) {
	t.Parallel()
	fake, bid, sid := setup(t, `{"monitorStream":{"enableMonitorStream":true},"enableAutoStart":false}`)
	fake.SetStreamActive(sid, true)
	if a := call(t, fake, "tok", "POST", "/liveBroadcasts/transition?part=status&broadcastStatus=live&id="+bid, ""); a.status != 403 || reason(a) != "invalidTransition" {
		t.Fatalf("ready -> live with monitor: %d %s", a.status, reason(a))
	}
	if a := call(t, fake, "tok", "POST", "/liveBroadcasts/transition?part=status&broadcastStatus=testing&id="+bid, ""); a.status != 200 {
		t.Fatalf("testing: %d %v", a.status, a.body)
	}
	if a := call(t, fake, "tok", "POST", "/liveBroadcasts/transition?part=status&broadcastStatus=live&id="+bid, ""); a.status != 200 {
		t.Fatalf("testing -> live: %d %v", a.status, a.body)
	}
	if b, _ := fake.Broadcast(bid); b.LifeCycleStatus != "live" {
		t.Errorf("status %s", b.LifeCycleStatus)
	}
}

func TestAutoStartGoesLiveWhenTheEncoderPushes(t *testing.T) {
	t.Parallel()
	fake, bid, _ := setup(t, `{"enableAutoStart":true,"monitorStream":{"enableMonitorStream":false}}`)
	fake.PushAll()
	if b, _ := fake.Broadcast(bid); b.LifeCycleStatus != "live" {
		t.Errorf("status %s", b.LifeCycleStatus)
	}
}

func TestTokensAreRequiredAndRejectedTokensAnswerAuthError(t *testing.T) {
	t.Parallel()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	if a := call(t, fake, "", "GET", "/channels?part=snippet&mine=true", ""); a.status != 401 || reason(a) != "required" {
		t.Errorf("no token: %d %s", a.status, reason(a))
	}
	fake.RejectToken("bad")
	if a := call(t, fake, "bad", "GET", "/channels?part=snippet&mine=true", ""); a.status != 401 || reason(a) != "authError" {
		t.Errorf("rejected: %d %s", a.status, reason(a))
	}
	if a := call(t, fake, "good", "GET", "/channels?part=snippet&mine=true", ""); a.status != 200 {
		t.Errorf("good token: %d", a.status)
	}
	if n := fake.Calls(youtubefake.OpChannelList); n != 3 {
		t.Errorf("calls %d", n)
	}
}

func TestFailNextAnswersYouTubesErrorShapeThenRecovers(t *testing.T) {
	t.Parallel()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	fake.FailNext(youtubefake.OpChannelList, 403, "quotaExceeded", 1)
	a := call(t, fake, "tok", "GET", "/channels?part=snippet&mine=true", "")
	e, _ := a.body["error"].(map[string]any)
	if a.status != 403 || reason(a) != "quotaExceeded" || e["code"] != float64(403) || e["status"] != "PERMISSION_DENIED" || e["message"] == "" {
		t.Errorf("%d %v", a.status, a.body)
	}
	if a := call(t, fake, "tok", "GET", "/channels?part=snippet&mine=true", ""); a.status != 200 {
		t.Errorf("after the failure: %d", a.status)
	}
}

func TestMissingPartIsRefused(t *testing.T) {
	t.Parallel()
	fake := youtubefake.New()
	t.Cleanup(fake.Close)
	if a := call(t, fake, "tok", "GET", "/liveBroadcasts?id=x", ""); a.status != 400 || reason(a) != "required" {
		t.Errorf("%d %s", a.status, reason(a))
	}
}
