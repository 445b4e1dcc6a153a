package restream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/platformtest"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
)

const token = "rs-access-token-0a1b2c3d4e"

func setup(t *testing.T) (*restream.Client, *restreamfake.Server) {
	t.Helper()
	fake := restreamfake.New()
	t.Cleanup(fake.Close)
	return restream.New(&http.Client{Timeout: 5 * time.Second}, fake.URL), fake
}

func spec() platform.BroadcastSpec {
	return platform.BroadcastSpec{
		Title: "Sunday service", Description: "Live from the main hall",
		ScheduledStart: time.Now().Add(2 * time.Hour).Truncate(time.Second), RequestID: "ls_1:restream",
	}
}

func reasonOf(t *testing.T, err error) platform.Reason {
	t.Helper()
	return platformtest.Reason(t, err, restream.ID)
}

func state(t *testing.T, c *restream.Client, b platform.Broadcast) platform.BroadcastState {
	t.Helper()
	s, err := c.State(context.Background(), token, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTheIngestIsTheUsersDefaultKeyWhichReachesTheEnabledChannels(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b, err := c.Provision(context.Background(), token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if b.StreamKey != fake.UserStreamKey() || b.IngestURL != "rtmp://live.restream.io/live" || b.ExternalID != "" || b.WatchURL != "" {
		t.Errorf("broadcast %+v", b)
	}
	var reached []string
	for _, ch := range fake.Reaches(b.StreamKey) {
		reached = append(reached, ch.Platform)
	}
	if strings.Join(reached, ",") != "youtube,facebook" {
		t.Errorf("the ingest reaches %v, want the enabled channels youtube,facebook", reached)
	}
	if n := fake.Calls(restreamfake.OpEventNew); n != 0 {
		t.Errorf("%d events created: an API event has no destinations and cannot be deleted", n)
	}
}

func TestTheStreamGoesLiveWhenTheEncoderPushesWithoutAnyStartOrEndCall(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}
	var bc platform.Broadcaster = c
	if _, ok := bc.(platform.GoLiver); ok {
		t.Error("the client has GoLive, but Restream has no start call")
	}
	fake.Push(b.StreamKey, true)
	if got := state(t, c, b); got != platform.BroadcastLive {
		t.Fatalf("state %s", got)
	}
	if live := fake.Live(); len(live) != 2 {
		t.Errorf("live on %+v, want the two enabled channels", live)
	}
	if _, ok := bc.(platform.Ender); ok {
		t.Error("the client has End, but Restream has no end call")
	}
	fake.Push(b.StreamKey, false)
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s after the encoder stopped", got)
	}
	if live := fake.Live(); len(live) != 0 {
		t.Errorf("still live on %+v", live)
	}
}

func TestCancelMakesNoCallBecauseNothingWasCreatedAndRestreamHasNoDelete(t *testing.T) {
	t.Parallel()
	var bc platform.Broadcaster = (*restream.Client)(nil)
	if _, ok := bc.(platform.Canceller); ok {
		t.Error("the client has Cancel, but Provision creates nothing at Restream and Restream has no delete call")
	}
}

func TestTheDefaultIngestIsUsedWhenTheServerListGivesNone(t *testing.T) {
	t.Parallel()
	t.Run("empty list", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		fake.SetNoServers()
		b, err := c.Provision(context.Background(), token, spec())
		if err != nil || b.IngestURL != restream.DefaultIngestURL {
			t.Fatalf("%+v, %v", b, err)
		}
	})
	t.Run("list fails", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		fake.FailNext(restreamfake.OpServers, 500, "", 10)
		b, err := c.Provision(context.Background(), token, spec())
		if err != nil || b.IngestURL != restream.DefaultIngestURL {
			t.Fatalf("%+v, %v", b, err)
		}
	})
}

func TestAFailedKeyReadIsTransientAndRetriedABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(restreamfake.OpUserStreamKey, 500, "", 10)
	b, err := c.Provision(context.Background(), token, spec())
	if r := reasonOf(t, err); r != platform.ReasonTransient {
		t.Fatalf("reason %s", r)
	}
	if b.StreamKey != "" || b.IngestURL != "" {
		t.Errorf("partial broadcast %+v", b)
	}
	if n := fake.Calls(restreamfake.OpUserStreamKey); n != 3 {
		t.Errorf("key read %d times, want 3 (bounded retries)", n)
	}
}

func TestRestreamErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		name   string
		want   platform.Reason
	}{
		{401, "invalid_token", platform.ReasonExpiredToken},
		{400, "invalid_token", platform.ReasonExpiredToken},
		{403, "forbidden", platform.ReasonPermission},
		{404, "not_found", platform.ReasonNotFound},
		{429, "too_many_requests", platform.ReasonRateLimited},
		{500, "internal_error", platform.ReasonTransient},
		{400, "bad_request", platform.ReasonInvalid},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.name), func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			fake.FailNext(restreamfake.OpUserStreamKey, tc.status, tc.name, 3)
			_, err := c.Provision(context.Background(), token, spec())
			if r := reasonOf(t, err); r != tc.want {
				t.Fatalf("reason %s, want %s", r, tc.want)
			}
			if pe, _ := platform.AsError(err); pe.Code != tc.name || pe.Message == "" {
				t.Errorf("code %q message %q", pe.Code, pe.Message)
			}
		})
	}
}

func TestReadsAreRetriedOn500ThenSucceed(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	fake.FailNext(restreamfake.OpUserStreamKey, 500, "", 1)
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(restreamfake.OpUserStreamKey); n != 2 {
		t.Errorf("key read %d times, want 2", n)
	}
	fake.FailNext(restreamfake.OpEventsLive, 500, "", 1)
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}
	if n := fake.Calls(restreamfake.OpEventsLive); n != 2 {
		t.Errorf("in-progress list read %d times, want 2", n)
	}
	fake.FailNext(restreamfake.OpProfile, 503, "", 2)
	if _, err := c.Whoami(ctx, token); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls(restreamfake.OpProfile); n != 3 {
		t.Errorf("profile read %d times, want 3", n)
	}
}

func TestRejectedOrMissingTokenIsExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	ctx := context.Background()
	_, err := c.Whoami(ctx, token)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("whoami: %s", r)
	}
	if n := fake.Calls(restreamfake.OpProfile); n != 1 {
		t.Errorf("a 401 must not be retried: %d calls", n)
	}
	_, err = c.Provision(ctx, token, spec())
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("provision: %s", r)
	}
	_, err = c.Whoami(ctx, "")
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("no token: %s", r)
	}
}

func TestWhoamiNamesTheUser(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	acc, err := c.Whoami(context.Background(), token)
	if err != nil || acc.ID != "1000001" || acc.Name != "gracechurch" {
		t.Fatalf("%+v, %v", acc, err)
	}
}

func TestStatusesMapToBroadcastStates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]platform.BroadcastState{
		"upcoming": platform.BroadcastReady, "in-progress": platform.BroadcastLive,
		"finished": platform.BroadcastEnded, "": platform.BroadcastPending,
	} {
		if got := restream.StateOf(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func TestErrorsNeverCarryTheTokenOrTheStreamKey(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	fake.FailNext(restreamfake.OpEventsLive, 404, "not_found", 1)
	_, err = c.State(ctx, token, b)
	errs = append(errs, err)
	fake.RejectToken(token)
	_, err = c.State(ctx, token, b)
	errs = append(errs, err)
	_, err = c.Provision(ctx, token, spec())
	errs = append(errs, err)
	dead := restream.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1")
	_, err = dead.State(ctx, token, b)
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("transport error carries the URL: %v", ue)
	}
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("an expected failure succeeded")
		}
		text := fmt.Sprintf("%v %+v %#v", err, err, err)
		if pe, ok := platform.AsError(err); ok {
			text += fmt.Sprintf(" %#v", *pe)
		}
		if strings.Contains(text, token) || strings.Contains(text, b.StreamKey) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// documented is every Restream endpoint the client may call, from
// Restream's API reference (there is no machine-readable description of
// Restream's API, so this table is the contract; the fake serves these
// paths and nothing else). public: asked without the token. body: the
// fields the endpoint takes (nil: no body).
var documented = []struct {
	method, path string // path segments; "{id}" matches one segment
	public       bool
	body         []string
	evidence     string
}{
	{"GET", "/v2/user/profile", false, nil, "developers.restream.io/private-api (Profile)"},
	{"GET", "/v2/user/streamKey", false, nil, "developers.restream.io/private-api/stream-key"},
	{"GET", "/v2/server/all", true, nil, "developers.restream.io/public-api/servers"},
	{"GET", "/v2/user/events/in-progress", false, nil, "developers.restream.io/events/in-progress-events"},
	{"GET", "/v2/user/events/{id}", false, nil, "developers.restream.io/events (Event)"},
	{"GET", "/v2/user/events/{id}/streamKey", false, nil, "developers.restream.io/events/event-stream-key"},
	{"POST", "/v2/user/events/new", false, []string{"streamType", "title", "description", "scheduledFor"},
		"developers.restream.io/events/event-create"},
}

func matches(pattern, path string) bool {
	ps, gs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(gs) {
		return false
	}
	for i := range ps {
		if ps[i] != "{id}" && ps[i] != gs[i] {
			return false
		}
	}
	return true
}

// TestEveryRequestIsADocumentedRestreamEndpoint holds every request the
// client sent to the fake to the documented table: method and path
// listed (a literal path wins over a {id} pattern), no query parameters,
// the token sent to every endpoint but the public server list, and only
// the documented body fields. There is never a DELETE: Restream documents
// none.
func TestEveryRequestIsADocumentedRestreamEndpoint(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	if _, err := c.Whoami(ctx, token); err != nil {
		t.Fatal(err)
	}
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { _, err := c.State(ctx, token, b); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	used := map[string]bool{}
	for _, r := range fake.Requests() {
		row := -1
		for i, d := range documented {
			if d.method == r.Method && matches(d.path, r.Path) && (row < 0 || !strings.Contains(d.path, "{id}")) {
				row = i
			}
		}
		if row < 0 {
			t.Errorf("%s %s is not a documented Restream endpoint", r.Method, r.Path)
			continue
		}
		d := documented[row]
		used[d.path] = true
		if d.public && r.Bearer {
			t.Errorf("%s: the token was sent to a public endpoint", d.path)
		}
		if !d.public && !r.Bearer {
			t.Errorf("%s: no bearer token", d.path)
		}
		if len(r.Query) > 0 {
			t.Errorf("%s: undocumented query %v", d.path, r.Query)
		}
		if d.body == nil && len(r.Body) > 0 {
			t.Errorf("%s: a body where none is documented", d.path)
		}
		if d.body != nil {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			for k := range body {
				if !slices.Contains(d.body, k) {
					t.Errorf("%s: undocumented body field %s", d.path, k)
				}
			}
		}
	}
	for _, want := range []string{"/v2/user/profile", "/v2/user/streamKey", "/v2/server/all", "/v2/user/events/in-progress"} {
		if !used[want] {
			t.Errorf("%s never exercised", want)
		}
	}
}
