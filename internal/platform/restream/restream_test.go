package restream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	return platformtest.Reason(t, err, platform.Restream)
}

func state(t *testing.T, c *restream.Client, b platform.Broadcast) platform.BroadcastState {
	t.Helper()
	s, err := c.State(context.Background(), token, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLifecycleTheEventGoesLiveWhenTheEncoderPushesAndFinishesWhenItStops(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	sp := spec()
	b, err := c.Provision(ctx, token, sp)
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := fake.Event(b.ExternalID)
	if !ok {
		t.Fatal("no event at Restream")
	}
	if ev.StreamType != "encoder" || ev.Title != sp.Title || ev.Description != sp.Description ||
		ev.ScheduledFor == nil || *ev.ScheduledFor != sp.ScheduledStart.Unix() {
		t.Errorf("event %+v", ev)
	}
	if b.StreamKey != ev.StreamKey || b.IngestURL != "rtmp://live.restream.io/live" || b.WatchURL != "" {
		t.Errorf("broadcast %+v", b)
	}
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}
	before := len(fake.Requests())
	if err := c.GoLive(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if len(fake.Requests()) != before {
		t.Error("GoLive called Restream, which has no start call")
	}
	fake.SetStreaming(b.ExternalID, true)
	if got := state(t, c, b); got != platform.BroadcastLive {
		t.Fatalf("state %s", got)
	}
	before = len(fake.Requests())
	if err := c.End(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if len(fake.Requests()) != before {
		t.Error("End called Restream, which has no end call")
	}
	fake.SetStreaming(b.ExternalID, false)
	if got := state(t, c, b); got != platform.BroadcastEnded {
		t.Fatalf("state %s", got)
	}
}

func TestCancelMakesNoCallBecauseRestreamHasNoDelete(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b, err := c.Provision(context.Background(), token, spec())
	if err != nil {
		t.Fatal(err)
	}
	before := len(fake.Requests())
	if err := c.Cancel(context.Background(), token, b); err != nil {
		t.Fatal(err)
	}
	if len(fake.Requests()) != before {
		t.Error("Cancel called Restream")
	}
	if ev, _ := fake.Event(b.ExternalID); ev.Status != "upcoming" {
		t.Errorf("the event is %s; it stays upcoming and never goes live", ev.Status)
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

func TestAFailedKeyReadReturnsTheEventIDWithTheError(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(restreamfake.OpEventStreamKey, 500, "", 10)
	b, err := c.Provision(context.Background(), token, spec())
	if r := reasonOf(t, err); r != platform.ReasonTransient {
		t.Fatalf("reason %s", r)
	}
	if _, ok := fake.Event(b.ExternalID); !ok || b.StreamKey != "" {
		t.Errorf("partial broadcast %+v", b)
	}
	if n := fake.Calls(restreamfake.OpEventStreamKey); n != 3 {
		t.Errorf("key read %d times, want 3 (bounded retries)", n)
	}
	if n := fake.Calls(restreamfake.OpEventNew); n != 1 {
		t.Errorf("event created %d times", n)
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
			fake.FailNext(restreamfake.OpEventNew, tc.status, tc.name, 1)
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

func TestReadsAreRetriedOn500ThenSucceedAndTheCreateIsNot(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	fake.FailNext(restreamfake.OpEventNew, 500, "", 1)
	if _, err := c.Provision(ctx, token, spec()); reasonOf(t, err) != platform.ReasonTransient {
		t.Fatal(err)
	}
	if n := fake.Calls(restreamfake.OpEventNew); n != 1 {
		t.Errorf("create called %d times: a POST must not be retried", n)
	}
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(restreamfake.OpEventGet, 500, "", 1)
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}
	if n := fake.Calls(restreamfake.OpEventGet); n != 2 {
		t.Errorf("event read %d times, want 2", n)
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

func TestProvisionNeedsATitle(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	s := spec()
	s.Title = ""
	if _, err := c.Provision(context.Background(), token, s); reasonOf(t, err) != platform.ReasonInvalid {
		t.Fatal(err)
	}
	if len(fake.Requests()) != 0 {
		t.Error("requests were made")
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
	fake.FailNext(restreamfake.OpEventGet, 404, "not_found", 1)
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

// TestRequestsFollowPlatformsMD holds every request the client sent to the
// fake to the Restream paths and bodies written down in
// shared/specs/PLATFORMS.md (Restream section). There is no published
// machine-readable description of Restream's API here, so this table is
// the contract: method and path must be listed, no query parameters, the
// event body has only streamType ("encoder"), title, description and
// scheduledFor (unix seconds), and there is never a DELETE (PLATFORMS.md
// lists none). The server list is public: the token is not sent to it.
func TestRequestsFollowPlatformsMD(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	_, _ = c.Whoami(ctx, token)
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.GoLive(ctx, token, b)
	_, _ = c.State(ctx, token, b)
	_ = c.End(ctx, token, b)
	_ = c.Cancel(ctx, token, b)

	rows := map[string]func(segs []string) bool{
		"GET /v2/user/profile":     func(s []string) bool { return strings.Join(s, "/") == "v2/user/profile" },
		"GET /v2/server/all":       func(s []string) bool { return strings.Join(s, "/") == "v2/server/all" },
		"POST /v2/user/events/new": func(s []string) bool { return strings.Join(s, "/") == "v2/user/events/new" },
		"GET /v2/user/events/{id}": func(s []string) bool { return len(s) == 4 && strings.Join(s[:3], "/") == "v2/user/events" },
		"GET /v2/user/events/{id}/streamKey": func(s []string) bool {
			return len(s) == 5 && strings.Join(s[:3], "/") == "v2/user/events" && s[4] == "streamKey"
		},
	}
	used := map[string]bool{}
	for _, r := range fake.Requests() {
		segs := strings.Split(strings.Trim(r.Path, "/"), "/")
		matched := ""
		for name, match := range rows {
			if strings.HasPrefix(name, r.Method+" ") && match(segs) {
				matched = name
			}
		}
		if matched == "" {
			t.Errorf("%s %s is not in PLATFORMS.md", r.Method, r.Path)
			continue
		}
		used[matched] = true
		if matched == "GET /v2/server/all" && r.Bearer {
			t.Error("the token was sent to the public server list")
		}
		if matched != "GET /v2/server/all" && !r.Bearer {
			t.Errorf("%s: no bearer token", matched)
		}
		if len(r.Query) > 0 {
			t.Errorf("%s: undocumented query %v", matched, r.Query)
		}
		if matched == "POST /v2/user/events/new" {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			for k := range body {
				if k != "streamType" && k != "title" && k != "description" && k != "scheduledFor" {
					t.Errorf("undocumented body field %s", k)
				}
			}
			if body["streamType"] != "encoder" || body["title"] == "" {
				t.Errorf("body %v", body)
			}
			if n, ok := body["scheduledFor"].(float64); !ok || n < 1e9 || n > 1e10 {
				t.Errorf("scheduledFor %v is not unix seconds", body["scheduledFor"])
			}
		}
	}
	for name := range rows {
		if !used[name] {
			t.Errorf("%s never exercised", name)
		}
	}
}
