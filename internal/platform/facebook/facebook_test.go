package facebook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/platformtest"
)

const token = "EAAGtestUserToken0123456789"

func setup(t *testing.T) (*facebook.Client, *facebookfake.Server) {
	t.Helper()
	fake := facebookfake.New()
	t.Cleanup(fake.Close)
	return facebook.New(&http.Client{Timeout: 5 * time.Second}, fake.URL), fake
}

func spec(lead time.Duration) platform.BroadcastSpec {
	return platform.BroadcastSpec{
		Title: "Sunday service", Description: "Live from the main hall",
		ScheduledStart: time.Now().Add(lead).Truncate(time.Second), RequestID: "ls_1:facebook",
	}
}

func reasonOf(t *testing.T, err error) platform.Reason {
	t.Helper()
	return platformtest.Reason(t, err, platform.Facebook)
}

func state(t *testing.T, c *facebook.Client, b platform.Broadcast) platform.BroadcastState {
	t.Helper()
	s, err := c.State(context.Background(), token, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLifecycleScheduledVideoGoesLiveWhenPublishedAndTheEncoderPushes(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	sp := spec(2 * time.Hour)
	b, err := c.Provision(ctx, token, sp)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := fake.Video(b.ExternalID)
	if !ok {
		t.Fatal("no video at Facebook")
	}
	if v.Status != "SCHEDULED_UNPUBLISHED" || v.PlannedStart != sp.ScheduledStart.Unix() || v.Title != sp.Title || v.Description != sp.Description || v.Target != "me" {
		t.Errorf("video %+v", v)
	}
	if b.IngestURL != "rtmps://live-api-s.facebook.com:443/rtmp/" || b.StreamKey != v.StreamKey {
		t.Errorf("ingest %q key %q, want the secure URL split after /rtmp/", b.IngestURL, b.StreamKey)
	}
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}

	if err := c.GoLive(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("published but no encoder yet: state %s, want ready", got)
	}
	fake.PushAll()
	if got := state(t, c, b); got != platform.BroadcastLive {
		t.Fatalf("state %s, want live", got)
	}
	if n := fake.Calls(facebookfake.OpUpdate); n != 1 {
		t.Errorf("go-live called %d times", n)
	}

	if err := c.End(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	if got := state(t, c, b); got != platform.BroadcastEnded {
		t.Fatalf("state %s, want ended", got)
	}
	fake.SetStatus(b.ExternalID, "VOD")
	if got := state(t, c, b); got != platform.BroadcastEnded {
		t.Fatalf("VOD: state %s, want ended", got)
	}
}

func TestAnEncoderPushingBeforeGoLiveDoesNotPublish(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b, err := c.Provision(context.Background(), token, spec(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fake.PushAll()
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s before go-live", got)
	}
	if err := c.GoLive(context.Background(), token, b); err != nil {
		t.Fatal(err)
	}
	if got := state(t, c, b); got != platform.BroadcastLive {
		t.Fatalf("state %s after go-live", got)
	}
}

func TestAStartLessThanTenMinutesAheadMakesAnUnpublishedVideo(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	for _, lead := range []time.Duration{5 * time.Minute, -time.Minute} {
		b, err := c.Provision(context.Background(), token, spec(lead))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := fake.Video(b.ExternalID)
		if v.Status != "UNPUBLISHED" || v.PlannedStart != 0 || v.Published {
			t.Errorf("lead %s: video %+v", lead, v)
		}
	}
	s := spec(0)
	s.ScheduledStart = time.Time{}
	b, err := c.Provision(context.Background(), token, s)
	if err != nil {
		t.Fatal(err)
	}
	if b.Extra[facebook.ExtraStatus] != "UNPUBLISHED" {
		t.Errorf("no start: %v", b.Extra)
	}
	for _, r := range fake.Requests() {
		if r.Form.Get("status") == "LIVE_NOW" {
			t.Errorf("a video was created LIVE_NOW: %v", r.Form)
		}
	}
}

func TestAStartBeyondSevenDaysIsRefusedWithFacebooksLimit(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	_, err := c.Provision(context.Background(), token, spec(8*24*time.Hour))
	if r := reasonOf(t, err); r != platform.ReasonInvalid {
		t.Fatalf("reason %s", r)
	}
	if !strings.Contains(err.Error(), "7 days") {
		t.Errorf("message does not explain the 7-day limit: %v", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached Facebook", n)
	}
	// Just inside the window is fine.
	if _, err := c.Provision(context.Background(), token, spec(7*24*time.Hour-time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestAPageDestinationCreatesTheVideoOnThePageWithThePagesToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddPage("200000000000001", "Other Page", "EAAGpageTokenOther")
	fake.AddPage("200000000000002", "Grace Church", "EAAGpageTokenGrace")
	ctx := context.Background()
	pt, err := c.PageToken(ctx, token, "200000000000002")
	if err != nil || pt != "EAAGpageTokenGrace" {
		t.Fatalf("page token %q, %v", pt, err)
	}
	s := spec(time.Hour)
	s.Destination = "200000000000002"
	b, err := c.Provision(ctx, pt, s)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fake.Video(b.ExternalID); v.Target != "200000000000002" || b.Extra[facebook.ExtraTarget] != "200000000000002" {
		t.Errorf("video target %q, extra %v", v.Target, b.Extra)
	}
	_, err = c.PageToken(ctx, token, "999")
	if r := reasonOf(t, err); r != platform.ReasonPermission {
		t.Errorf("unknown page: %s", r)
	}
}

func TestCancelCancelsThenDeletesAndToleratesAFailedDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("cancel and delete", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		b, err := c.Provision(ctx, token, spec(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Cancel(ctx, token, b); err != nil {
			t.Fatal(err)
		}
		if fake.Videos() != 0 || fake.Calls(facebookfake.OpUpdate) != 1 || fake.Calls(facebookfake.OpDelete) != 1 {
			t.Errorf("videos %d, updates %d, deletes %d", fake.Videos(), fake.Calls(facebookfake.OpUpdate), fake.Calls(facebookfake.OpDelete))
		}
		if err := c.Cancel(ctx, token, b); err != nil {
			t.Errorf("cancelling a video already gone: %v", err)
		}
	})
	t.Run("delete fails after cancel", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		b, err := c.Provision(ctx, token, spec(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fake.FailNext(facebookfake.OpDelete, 500, 2, 10)
		if err := c.Cancel(ctx, token, b); err != nil {
			t.Fatalf("a failed delete after a cancellation must not fail: %v", err)
		}
		if got := state(t, c, b); got != platform.BroadcastCancelled {
			t.Errorf("state %s", got)
		}
	})
	t.Run("unscheduled video is deleted", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		b, err := c.Provision(ctx, token, spec(0))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Cancel(ctx, token, b); err != nil {
			t.Fatal(err)
		}
		if fake.Videos() != 0 {
			t.Error("video left")
		}
	})
	t.Run("both fail", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		b, err := c.Provision(ctx, token, spec(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fake.FailNext(facebookfake.OpUpdate, 400, 200, 1)
		fake.FailNext(facebookfake.OpDelete, 400, 200, 1)
		if r := reasonOf(t, c.Cancel(ctx, token, b)); r != platform.ReasonPermission {
			t.Errorf("reason %s", r)
		}
	})
}

func TestGraphErrorsMapToReasonsByCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		err    facebookfake.Error
		want   platform.Reason
		code   string
	}{
		{400, facebookfake.Error{Code: 190, Subcode: 463, Message: "Error validating access token: Session has expired"}, platform.ReasonExpiredToken, "190/463"},
		{401, facebookfake.Error{Code: 190, Subcode: 460, Message: "Error validating access token: password changed"}, platform.ReasonExpiredToken, "190/460"},
		{400, facebookfake.Error{Code: 102, Message: "Session key invalid"}, platform.ReasonExpiredToken, "102"},
		{400, facebookfake.Error{Code: 4, Message: "(#4) Application request limit reached"}, platform.ReasonRateLimited, "4"},
		{400, facebookfake.Error{Code: 17, Message: "(#17) User request limit reached"}, platform.ReasonRateLimited, "17"},
		{400, facebookfake.Error{Code: 32, Message: "(#32) Page request limit reached"}, platform.ReasonRateLimited, "32"},
		{400, facebookfake.Error{Code: 613, Message: "(#613) Calls to this api have exceeded the rate limit."}, platform.ReasonRateLimited, "613"},
		{400, facebookfake.Error{Code: 80001, Message: "There have been too many calls to this Page account."}, platform.ReasonRateLimited, "80001"},
		{403, facebookfake.Error{Code: 10, Message: "(#10) Application does not have permission for this action"}, platform.ReasonPermission, "10"},
		{403, facebookfake.Error{Code: 200, Message: "(#200) Permissions error"}, platform.ReasonPermission, "200"},
		{403, facebookfake.Error{Code: 299, Message: "(#299) Requires extended permission"}, platform.ReasonPermission, "299"},
		{400, facebookfake.Error{Code: 200, Message: "(#200) This user is not eligible to create live videos (at least 60 days old and 100 followers)."}, platform.ReasonNotEligible, "200"},
		{400, facebookfake.Error{Code: 100, Subcode: 33, Message: "Unsupported post request. Object with ID '1' does not exist"}, platform.ReasonNotFound, "100/33"},
		{400, facebookfake.Error{Code: 100, Message: "(#100) Invalid parameter"}, platform.ReasonInvalid, "100"},
		{500, facebookfake.Error{Code: 1, Message: "An unknown error occurred"}, platform.ReasonTransient, "1"},
		{503, facebookfake.Error{Code: 2, Message: "Service temporarily unavailable"}, platform.ReasonTransient, "2"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.code), func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			fake.FailNextWith(facebookfake.OpCreate, tc.status, tc.err, 1)
			_, err := c.Provision(context.Background(), token, spec(time.Hour))
			if r := reasonOf(t, err); r != tc.want {
				t.Fatalf("reason %s, want %s: %v", r, tc.want, err)
			}
			if pe, _ := platform.AsError(err); pe.Code != tc.code || pe.Message == "" {
				t.Errorf("code %q message %q", pe.Code, pe.Message)
			}
			if n := fake.Calls(facebookfake.OpCreate); n != 1 {
				t.Errorf("create called %d times: a POST must not be retried", n)
			}
		})
	}
}

func TestReadsAreRetriedOnServerErrorsAndThrottlingThenSucceed(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b, err := c.Provision(context.Background(), token, spec(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(facebookfake.OpGet, 500, 2, 1)
	fake.FailNext(facebookfake.OpGet, 400, 17, 1)
	if got := state(t, c, b); got != platform.BroadcastReady {
		t.Fatalf("state %s", got)
	}
	if n := fake.Calls(facebookfake.OpGet); n != 3 {
		t.Errorf("status read %d times, want 3", n)
	}
}

func TestWritesAreNotRetried(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(facebookfake.OpCreate, 500, 2, 1)
	_, err := c.Provision(context.Background(), token, spec(time.Hour))
	if r := reasonOf(t, err); r != platform.ReasonTransient {
		t.Fatalf("reason %s", r)
	}
	if n := fake.Calls(facebookfake.OpCreate); n != 1 || fake.Videos() != 0 {
		t.Errorf("create called %d times, %d videos", n, fake.Videos())
	}
	b := platform.Broadcast{ExternalID: "1"}
	fake.FailNext(facebookfake.OpUpdate, 500, 2, 1)
	_ = c.GoLive(context.Background(), token, b)
	if n := fake.Calls(facebookfake.OpUpdate); n != 1 {
		t.Errorf("go-live called %d times", n)
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
	if n := fake.Calls(facebookfake.OpMe); n != 1 {
		t.Errorf("an expired token must not be retried: %d calls", n)
	}
	_, err = c.Provision(ctx, token, spec(time.Hour))
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
	if err != nil || acc.ID != facebookfake.UserID || acc.Name == "" {
		t.Fatalf("%+v, %v", acc, err)
	}
}

func TestStatusesMapToBroadcastStates(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]platform.BroadcastState{
		"UNPUBLISHED": platform.BroadcastReady, "SCHEDULED_UNPUBLISHED": platform.BroadcastReady,
		"SCHEDULED_LIVE": platform.BroadcastReady, "LIVE": platform.BroadcastLive,
		"LIVE_STOPPED": platform.BroadcastEnded, "PROCESSING": platform.BroadcastEnded, "VOD": platform.BroadcastEnded,
		"SCHEDULED_CANCELED": platform.BroadcastCancelled, "SCHEDULED_EXPIRED": platform.BroadcastFailed,
		"SOMETHING_NEW": platform.BroadcastPending,
	} {
		if got := facebook.StateOf(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func TestExchangeLongLivedTradesTheTokenAndKeepsTheSecretOutOfErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-app-secret-value"
	const short = "EAAGshortLivedToken42"
	c, fake := setup(t)
	fake.SetApp("app-1", secret)
	ctx := context.Background()

	long, exp, err := c.ExchangeLongLived(ctx, fake.TokenURL, "app-1", secret, short)
	if err != nil {
		t.Fatal(err)
	}
	if long == "" || long == short || exp < 59*24*time.Hour || exp > 61*24*time.Hour {
		t.Errorf("token %q expires in %s", long, exp)
	}
	r := fake.Requests()[0]
	if r.Method != http.MethodGet || r.Query.Get("grant_type") != "fb_exchange_token" || r.Query.Get("fb_exchange_token") != short {
		t.Errorf("request %+v", r)
	}

	var errs []error
	_, _, err = c.ExchangeLongLived(ctx, fake.TokenURL, "app-1", "wrong-"+secret, short)
	if r := reasonOf(t, err); r == "" {
		t.Error("no reason")
	}
	errs = append(errs, err)
	fake.RejectToken(short)
	_, _, err = c.ExchangeLongLived(ctx, fake.TokenURL, "app-1", secret, short)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("rejected short token: %s", r)
	}
	errs = append(errs, err)
	_, _, err = c.ExchangeLongLived(ctx, "http://127.0.0.1:1/v21.0/oauth/access_token", "app-1", secret, short)
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("a transport error carries the URL: %v", ue)
	}
	errs = append(errs, err)
	for _, err := range errs {
		text := errorText(err)
		for _, s := range []string{secret, short, "client_secret=", "fb_exchange_token="} {
			if strings.Contains(text, s) {
				t.Errorf("error shows %q: %s", s, text)
			}
		}
	}
}

func errorText(err error) string {
	var b strings.Builder
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		fmt.Fprintf(&b, "%v\n%+v\n%#v\n", e, e, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return b.String()
}

func TestErrorsNeverCarryTheTokenOrTheStreamKey(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	// Graph errors that quote the request (a hostile or careless answer).
	fake.FailNextWith(facebookfake.OpUpdate, 400, facebookfake.Error{Code: 100, Message: "(#100) bad token " + token + " for key " + b.StreamKey}, 1)
	errs = append(errs, c.GoLive(ctx, token, b))
	fake.FailNext(facebookfake.OpGet, 400, 200, 1)
	_, err = c.State(ctx, token, b)
	errs = append(errs, err)
	fake.RejectToken(token)
	errs = append(errs, c.End(ctx, token, b))
	_, err = c.Whoami(ctx, token)
	errs = append(errs, err)
	dead := facebook.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/v21.0")
	_, err = dead.State(ctx, token, b)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("an expected failure succeeded")
		}
		text := errorText(err)
		if strings.Contains(text, token) || strings.Contains(text, b.StreamKey) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// TestRequestsFollowPlatformsMD holds every request the client sent to the
// fake to the Graph API paths and parameters written down in
// shared/specs/PLATFORMS.md (Facebook section). There is no published
// machine-readable description of Facebook's Graph API here, so this table
// is the contract: each request must match a row's method and path, carry
// the row's required parameters, and no parameter the row does not list;
// the token goes in the Authorization header, never in the URL.
func TestRequestsFollowPlatformsMD(t *testing.T) {
	t.Parallel()
	type row struct {
		method   string
		path     func(segs []string) bool
		required []string
		allowed  []string
		values   map[string][]string // allowed values
	}
	id := func(s string) bool { _, err := strconv.ParseUint(s, 10, 64); return err == nil }
	rows := map[string]row{
		"GET /me": {http.MethodGet, func(s []string) bool { return len(s) == 1 && s[0] == "me" },
			[]string{"fields"}, nil, map[string][]string{"fields": {"id,name"}}},
		"GET /me/accounts": {http.MethodGet, func(s []string) bool { return len(s) == 2 && s[0] == "me" && s[1] == "accounts" },
			nil, []string{"fields", "limit", "after"}, nil},
		"POST /{page-or-user-id}/live_videos": {http.MethodPost, func(s []string) bool { return len(s) == 2 && (s[0] == "me" || id(s[0])) && s[1] == "live_videos" },
			[]string{"status"}, []string{"title", "description", "planned_start_time"},
			map[string][]string{"status": {"LIVE_NOW", "SCHEDULED_UNPUBLISHED", "UNPUBLISHED"}}},
		"POST /{id}": {http.MethodPost, func(s []string) bool { return len(s) == 1 && id(s[0]) },
			nil, []string{"status", "end_live_video"},
			map[string][]string{"status": {"LIVE_NOW", "SCHEDULED_CANCELED"}, "end_live_video": {"true"}}},
		"GET /{id}": {http.MethodGet, func(s []string) bool { return len(s) == 1 && id(s[0]) },
			[]string{"fields"}, nil, map[string][]string{"fields": {"status"}}},
		"DELETE /{id}": {http.MethodDelete, func(s []string) bool { return len(s) == 1 && id(s[0]) }, nil, nil, nil},
		"GET /oauth/access_token": {http.MethodGet, func(s []string) bool { return len(s) == 2 && s[0] == "oauth" && s[1] == "access_token" },
			[]string{"grant_type", "client_id", "client_secret", "fb_exchange_token"}, nil,
			map[string][]string{"grant_type": {"fb_exchange_token"}}},
	}

	c, fake := setup(t)
	fake.AddPage("200000000000002", "Grace", "EAAGpage")
	ctx := context.Background()
	_, _ = c.Whoami(ctx, token)
	pt, _ := c.PageToken(ctx, token, "200000000000002")
	s := spec(2 * time.Hour)
	s.Destination = "200000000000002"
	b, err := c.Provision(ctx, pt, s)
	if err != nil {
		t.Fatal(err)
	}
	fake.PushAll()
	_ = c.GoLive(ctx, pt, b)
	_, _ = c.State(ctx, pt, b)
	_ = c.End(ctx, pt, b)
	b2, _ := c.Provision(ctx, token, spec(time.Minute))
	_ = c.Cancel(ctx, token, b2)
	b3, _ := c.Provision(ctx, token, spec(time.Hour))
	_ = c.Cancel(ctx, token, b3)
	_, _, _ = c.ExchangeLongLived(ctx, fake.TokenURL, "fake-app-id", "fake-app-secret", token)

	used := map[string]bool{}
	for _, r := range fake.Requests() {
		segs := strings.Split(strings.Trim(strings.TrimPrefix(r.Path, "/"+facebookfake.Version), "/"), "/")
		matched := ""
		for name, rw := range rows {
			if rw.method == r.Method && rw.path(segs) {
				matched = name
			}
		}
		if matched == "" {
			t.Errorf("%s %s is not in PLATFORMS.md", r.Method, r.Path)
			continue
		}
		used[matched] = true
		rw := rows[matched]
		for _, p := range rw.required {
			if r.Form.Get(p) == "" {
				t.Errorf("%s: required parameter %s missing in %v", matched, p, r.Form)
			}
		}
		for p, vals := range r.Form {
			if p == "access_token" {
				t.Errorf("%s: the token is in the URL or body", matched)
				continue
			}
			if !contains(rw.required, p) && !contains(rw.allowed, p) {
				t.Errorf("%s: parameter %s is not documented", matched, p)
			}
			if want, ok := rw.values[p]; ok && !contains(want, vals[0]) {
				t.Errorf("%s: %s=%q, want one of %v", matched, p, vals[0], want)
			}
		}
		if r.Form.Get("status") == "SCHEDULED_UNPUBLISHED" && r.Form.Get("planned_start_time") == "" {
			t.Errorf("%s: a scheduled video without planned_start_time", matched)
		}
	}
	for name := range rows {
		if !used[name] {
			t.Errorf("%s was never exercised", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
