package facebook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/contract"
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
	return platformtest.Reason(t, err, facebook.ID)
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
	if b.IngestURL != "rtmps://live-api-s.facebook.com:443/rtmp/" || b.StreamKey != v.PersistentKey || v.PersistentKey == "" || !b.StableKey {
		t.Errorf("ingest %q key %q stable %v, want the persistent stream URL split after /rtmp/", b.IngestURL, b.StreamKey, b.StableKey)
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
	if n := goLives(fake); n != 1 {
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

// goLives counts the updates that published a video (status=LIVE_NOW).
func goLives(fake *facebookfake.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Op == facebookfake.OpUpdate && r.Form.Get("status") == "LIVE_NOW" {
			n++
		}
	}
	return n
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

func TestAPageDestinationCreatesAndDrivesTheVideoWithThePagesToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	const pageToken = "EAAGpageTokenGrace"
	fake.AddPage("200000000000001", "Other Page", "EAAGpageTokenOther")
	fake.AddPage("200000000000002", "Grace Church", pageToken)
	ctx := context.Background()
	s := spec(time.Hour)
	s.Destination = "200000000000002"
	b, err := c.Provision(ctx, token, s)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fake.Video(b.ExternalID); v.Page != "200000000000002" || v.Status != "SCHEDULED_UNPUBLISHED" || b.Extra[facebook.ExtraTarget] != "200000000000002" {
		t.Errorf("video %+v, extra %v", v, b.Extra)
	}
	if err := c.GoLive(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	fake.PushAll()
	if got := state(t, c, b); got != platform.BroadcastLive {
		t.Fatalf("state %s", got)
	}
	if err := c.End(ctx, token, b); err != nil {
		t.Fatal(err)
	}
	// Every call about the Page's video carried the Page's token, and the
	// user's token went only to /me/accounts.
	for _, r := range fake.Requests() {
		if r.Op == facebookfake.OpAccounts {
			continue
		}
		if r.Token != pageToken {
			t.Errorf("%s %s with token %q, want the Page's", r.Method, r.Path, r.Token)
		}
	}
	for _, dest := range []string{"", "me"} {
		s.Destination = dest
		b, err := c.Provision(ctx, token, s)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := fake.Video(b.ExternalID); v.Page != "" || v.Target != "me" {
			t.Errorf("destination %q: video %+v, want the profile's", dest, v)
		}
	}
}

func TestADestinationTheUserDoesNotManageIsAPermissionFailureAndCreatesNothing(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.AddPage("200000000000002", "Grace Church", "EAAGpageTokenGrace")
	s := spec(time.Hour)
	s.Destination = "999000000000999"
	_, err := c.Provision(context.Background(), token, s)
	if r := reasonOf(t, err); r != platform.ReasonPermission {
		t.Fatalf("reason %s: %v", r, err)
	}
	if !strings.Contains(err.Error(), "999000000000999") || fake.Calls(facebookfake.OpCreate) != 0 {
		t.Errorf("error %v; %d creates", err, fake.Calls(facebookfake.OpCreate))
	}
	s.Destination = "../me"
	if _, err := c.Provision(context.Background(), token, s); reasonOf(t, err) != platform.ReasonInvalid {
		t.Errorf("a destination with a path: %v", err)
	}
}

func TestDestinationsListTheProfileAndEveryPageAcrossGraphsPagesWithoutTokens(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	for i := range 130 { // more than one page of 100
		fake.AddPage(fmt.Sprintf("2000000000%05d", i), fmt.Sprintf("Page %d", i), fmt.Sprintf("EAAGpageSecret%05d", i))
	}
	ds, err := c.Destinations(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 131 || ds[0] != (platform.Destination{ID: "me", Name: "Grace Church Media", Kind: platform.DestinationProfile}) {
		t.Fatalf("%d destinations, first %+v", len(ds), ds[0])
	}
	if last := ds[130]; last.ID != "200000000000129" || last.Name != "Page 129" || last.Kind != platform.DestinationPage {
		t.Errorf("last %+v", last)
	}
	if n := fake.Calls(facebookfake.OpAccounts); n != 2 {
		t.Errorf("/me/accounts read %d times, want 2 (two pages of Graph's paging)", n)
	}
	if text := fmt.Sprintf("%+v", ds); strings.Contains(text, "EAAGpageSecret") {
		t.Errorf("a Page token in the destinations: %s", text)
	}
}

func TestASchedulingStartIsSentOnTheUpdateNeverOnTheCreate(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	sp := spec(3 * time.Hour)
	b, err := c.Provision(context.Background(), token, sp)
	if err != nil {
		t.Fatal(err)
	}
	var create, schedule []url.Values
	for _, r := range fake.Requests() {
		switch r.Op {
		case facebookfake.OpCreate:
			create = append(create, r.Form)
		case facebookfake.OpUpdate:
			if r.Form.Has("status") {
				schedule = append(schedule, r.Form)
			}
		}
	}
	if len(create) != 1 || create[0].Has("planned_start_time") || create[0].Get("status") != "UNPUBLISHED" {
		t.Errorf("create %v: want UNPUBLISHED without planned_start_time", create)
	}
	if len(schedule) != 1 || schedule[0].Get("status") != "SCHEDULED_UNPUBLISHED" || schedule[0].Get("planned_start_time") != strconv.FormatInt(sp.ScheduledStart.Unix(), 10) {
		t.Errorf("schedule %v", schedule)
	}
	if b.Extra[facebook.ExtraStatus] != "SCHEDULED_UNPUBLISHED" {
		t.Errorf("extra %v", b.Extra)
	}
}

func TestAFailedSchedulingRemovesTheVideoOrHandsItsIDBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("removed", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		fake.FailNext(facebookfake.OpUpdate, 400, 100, 1)
		b, err := c.Provision(ctx, token, spec(time.Hour))
		if r := reasonOf(t, err); r != platform.ReasonInvalid {
			t.Fatalf("reason %s", r)
		}
		if b.ExternalID != "" || fake.Videos() != 0 || fake.Calls(facebookfake.OpDelete) != 1 {
			t.Errorf("broadcast %+v, %d videos left", b, fake.Videos())
		}
	})
	t.Run("removal fails too", func(t *testing.T) {
		t.Parallel()
		c, fake := setup(t)
		fake.FailNext(facebookfake.OpUpdate, 500, 2, 1)
		fake.FailNext(facebookfake.OpDelete, 500, 2, 5)
		b, err := c.Provision(ctx, token, spec(time.Hour))
		if r := reasonOf(t, err); r != platform.ReasonTransient {
			t.Fatalf("reason %s", r)
		}
		if _, ok := fake.Video(b.ExternalID); !ok || b.StreamKey != "" {
			t.Errorf("the id of the video left at Facebook must come back (and no key): %+v", b)
		}
	})
}

// graph sends one raw request to the fake, as a client other than ours
// would, and returns Graph's error code (0 for success).
func graph(t *testing.T, fake *facebookfake.Server, method, path, bearer string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(method, fake.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    int    `json:"code"`
			Trace   string `json:"fbtrace_id"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Error == nil {
		return 0
	}
	if resp.StatusCode != http.StatusBadRequest || out.Error.Type != "OAuthException" || out.Error.Message == "" || out.Error.Trace == "" {
		t.Errorf("%s %s: HTTP %d, error %+v: not Graph's error shape", method, path, resp.StatusCode, out.Error)
	}
	return out.Error.Code
}

func TestTheFakeRefusesWhatGraphRefuses(t *testing.T) {
	t.Parallel()
	fake := facebookfake.New()
	t.Cleanup(fake.Close)
	const page, pageToken, otherToken = "200000000000002", "EAAGpageTokenGrace", "EAAGpageTokenOther"
	fake.AddPage(page, "Grace Church", pageToken)
	fake.AddPage("200000000000003", "Other", otherToken)
	soon := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	cases := []struct {
		name, method, path, bearer string
		form                       url.Values
		code                       int
	}{
		{"planned_start_time on create", "POST", "/me/live_videos", token,
			url.Values{"status": {"SCHEDULED_UNPUBLISHED"}, "planned_start_time": {soon}}, 100},
		{"planned_start_time on a Page's create", "POST", "/" + page + "/live_videos", pageToken,
			url.Values{"status": {"UNPUBLISHED"}, "planned_start_time": {soon}}, 100},
		{"a parameter the SDK does not declare", "POST", "/me/live_videos", token, url.Values{"status": {"UNPUBLISHED"}, "privacy_status": {"public"}}, 100},
		{"a Page-only parameter on a user's create", "POST", "/me/live_videos", token, url.Values{"status": {"UNPUBLISHED"}, "targeting": {"{}"}}, 100},
		{"a status outside the enum", "POST", "/me/live_videos", token, url.Values{"status": {"LIVE"}}, 100},
		{"scheduled on create without event_params", "POST", "/me/live_videos", token, url.Values{"status": {"SCHEDULED_UNPUBLISHED"}}, 100},
		{"a user token on a Page's live_videos", "POST", "/" + page + "/live_videos", token, url.Values{"status": {"UNPUBLISHED"}}, 210},
		{"another Page's token", "POST", "/" + page + "/live_videos", otherToken, url.Values{"status": {"UNPUBLISHED"}}, 200},
		{"a Page token on /me/accounts", "GET", "/me/accounts", pageToken, nil, 100},
		{"the Page's token on its live_videos", "POST", "/" + page + "/live_videos", pageToken, url.Values{"status": {"UNPUBLISHED"}}, 0},
		{"the user's token on the profile", "POST", "/me/live_videos", token, url.Values{"status": {"UNPUBLISHED"}, "title": {"x"}}, 0},
	}
	for _, tc := range cases {
		if got := graph(t, fake, tc.method, tc.path, tc.bearer, tc.form); got != tc.code {
			t.Errorf("%s: code %d, want %d", tc.name, got, tc.code)
		}
	}
	// The Page's video answers only to the Page's token.
	onPage := fake.VideosOn(page)
	if len(onPage) != 1 || len(fake.VideosOn("")) != 1 {
		t.Fatalf("videos on the Page %v, on the profile %v: want one each (the refused creates made none)", onPage, fake.VideosOn(""))
	}
	pageVideo := onPage[0]
	if got := graph(t, fake, "POST", "/"+pageVideo, token, url.Values{"status": {"LIVE_NOW"}}); got != 210 {
		t.Errorf("a user token on a Page's video: code %d, want 210", got)
	}
	if got := graph(t, fake, "POST", "/"+pageVideo, pageToken, url.Values{"planned_start_time": {soon}, "status": {"SCHEDULED_UNPUBLISHED"}}); got != 0 {
		t.Errorf("scheduling by update: code %d", got)
	}
	if got := graph(t, fake, "POST", "/"+pageVideo, pageToken, url.Values{"status": {"SCHEDULED_UNPUBLISHED"}, "planned_start_time": {strconv.FormatInt(time.Now().Add(8*24*time.Hour).Unix(), 10)}}); got != 100 {
		t.Errorf("a planned start beyond 7 days: code %d, want 100", got)
	}
	if got := graph(t, fake, "POST", "/"+pageVideo, pageToken, url.Values{"end_live_video": {"true"}, "is_live": {"false"}}); got != 100 {
		t.Errorf("an update parameter the SDK does not declare: code %d, want 100", got)
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
		// One update scheduled the video, one enabled its persistent key,
		// the last cancelled it.
		if fake.Videos() != 0 || fake.Calls(facebookfake.OpUpdate) != 3 || fake.Calls(facebookfake.OpDelete) != 1 {
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
	const otherUser = "EAAGanotherUserToken0123456789"
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
	// A Page's video: the Page's token, read on the way, stays out too.
	const pageToken = "EAAGpageTokenSecret0123456789"
	fake.AddPage("200000000000002", "Grace", pageToken)
	ps := spec(time.Hour)
	ps.Destination = "200000000000002"
	pb, err := c.Provision(ctx, otherUser, ps)
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNextWith(facebookfake.OpUpdate, 400, facebookfake.Error{Code: 100, Message: "(#100) bad token " + pageToken}, 1)
	errs = append(errs, c.GoLive(ctx, otherUser, pb))
	dead := facebook.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/v21.0")
	_, err = dead.State(ctx, token, b)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("an expected failure succeeded")
		}
		text := errorText(err)
		if strings.Contains(text, token) || strings.Contains(text, b.StreamKey) || strings.Contains(text, pageToken) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// TestRequestsFollowTheGraphLiveVideoDescription holds every request the
// client sent to the fake to what Graph takes. Live video creates and
// updates are checked against shared/specs/facebook-livevideo-params.json
// (the SDK's parameters and enum values, by call); the other calls the
// description does not cover are held to this table, each row with its
// evidence. The token goes in the Authorization header, never in the URL
// or the body.
func TestRequestsFollowTheGraphLiveVideoDescription(t *testing.T) {
	t.Parallel()
	desc, err := contract.LoadFacebookLiveVideo()
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) bool { _, err := strconv.ParseUint(s, 10, 64); return err == nil }
	type row struct {
		method string
		path   func(segs []string) bool
		params map[string][]string // allowed parameters and their values (nil: any value)
	}
	// Calls outside the LiveVideo description. Evidence: PLATFORMS.md
	// Facebook ("Whoami GET /me?fields=id,name"; "GET /me/accounts?fields=
	// id,name,access_token (paged)"; "Status GET /{id}?fields=status";
	// "delete DELETE /{id}" = livevideo_delete, no parameters; the token
	// URL with grant_type=fb_exchange_token).
	rows := map[string]row{
		"GET /me": {http.MethodGet, func(s []string) bool { return len(s) == 1 && s[0] == "me" },
			map[string][]string{"fields": {"id,name"}}},
		"GET /me/accounts": {http.MethodGet, func(s []string) bool { return len(s) == 2 && s[0] == "me" && s[1] == "accounts" },
			map[string][]string{"fields": {"id,name,access_token"}, "limit": nil, "after": nil}},
		"GET /{id}": {http.MethodGet, func(s []string) bool { return len(s) == 1 && id(s[0]) },
			map[string][]string{"fields": {"status"}}},
		"DELETE /{id}": {http.MethodDelete, func(s []string) bool { return len(s) == 1 && id(s[0]) }, map[string][]string{}},
		"GET /oauth/access_token": {http.MethodGet, func(s []string) bool { return len(s) == 2 && s[0] == "oauth" && s[1] == "access_token" },
			map[string][]string{"grant_type": {"fb_exchange_token"}, "client_id": nil, "client_secret": nil, "fb_exchange_token": nil}},
	}

	// The fake takes exactly the parameters the description lists.
	for op, got := range map[string][]string{
		contract.FacebookPageCreate: facebookfake.CreateParams(true),
		contract.FacebookUserCreate: facebookfake.CreateParams(false),
		contract.FacebookUpdate:     facebookfake.UpdateParams(),
	} {
		if want := desc.Names(op); !slices.Equal(got, want) {
			t.Errorf("the fake's %s parameters %v, the description's %v", op, got, want)
		}
		for name, p := range desc.Operations[op].Params {
			if len(p.Enum) > 0 && !slices.Equal(facebookfake.Enum(name), p.Enum) {
				t.Errorf("the fake's %s enum %v, the description's %v", name, facebookfake.Enum(name), p.Enum)
			}
		}
	}

	c, fake := setup(t)
	const page = "200000000000002"
	fake.AddPage(page, "Grace", "EAAGpage")
	ctx := context.Background()
	if _, err := c.Destinations(ctx, token); err != nil {
		t.Fatal(err)
	}
	s := spec(2 * time.Hour)
	s.Destination = page
	b, err := c.Provision(ctx, token, s)
	if err != nil {
		t.Fatal(err)
	}
	_, errUpdate := c.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{Title: "Moved", Description: "d",
		ScheduledStart: time.Now().Add(3 * time.Hour), StartMoved: true})
	fake.PushAll()
	steps := []error{errUpdate, c.GoLive(ctx, token, b), c.End(ctx, token, b)}
	_, err = c.State(ctx, token, b)
	steps = append(steps, err)
	for _, lead := range []time.Duration{time.Minute, time.Hour} {
		b, err := c.Provision(ctx, token, spec(lead))
		steps = append(steps, err, c.Cancel(ctx, token, b))
	}
	_, _, err = c.ExchangeLongLived(ctx, fake.TokenURL, "fake-app-id", "fake-app-secret", token)
	steps = append(steps, err)
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}

	used := map[string]bool{}
	for _, r := range fake.Requests() {
		segs := strings.Split(strings.Trim(strings.TrimPrefix(r.Path, "/"+facebookfake.Version), "/"), "/")
		if r.Form.Has("access_token") || strings.Contains(r.URL, "access_token=") {
			t.Errorf("%s %s: the token is in the URL or body", r.Method, r.Path)
		}
		op := ""
		switch {
		case r.Method == http.MethodPost && len(segs) == 2 && segs[0] == "me" && segs[1] == "live_videos":
			op = contract.FacebookUserCreate
		case r.Method == http.MethodPost && len(segs) == 2 && id(segs[0]) && segs[1] == "live_videos":
			op = contract.FacebookPageCreate
		case r.Method == http.MethodPost && len(segs) == 1 && id(segs[0]):
			op = contract.FacebookUpdate
		}
		if op != "" {
			used[op] = true
			if err := desc.CheckForm(op, r.Form); err != nil {
				t.Error(err)
			}
			continue
		}
		matched := ""
		for name, rw := range rows {
			if rw.method == r.Method && rw.path(segs) {
				matched = name
			}
		}
		if matched == "" {
			t.Errorf("%s %s is not a call Graph documents here", r.Method, r.Path)
			continue
		}
		used[matched] = true
		for p, vals := range r.Form {
			want, ok := rows[matched].params[p]
			switch {
			case !ok:
				t.Errorf("%s: parameter %s is not documented", matched, p)
			case want != nil && !slices.Contains(want, vals[0]):
				t.Errorf("%s: %s=%q, want one of %v", matched, p, vals[0], want)
			}
		}
	}
	for _, name := range []string{contract.FacebookUserCreate, contract.FacebookPageCreate, contract.FacebookUpdate,
		"GET /me", "GET /me/accounts", "GET /{id}", "DELETE /{id}", "GET /oauth/access_token"} {
		if !used[name] {
			t.Errorf("%s was never exercised", name)
		}
	}
}

// Facebook's persistent stream key: asked for on every new live video
// (an update parameter, never a create one), it is the ingest when
// granted, the same for the Page's next video, and the target is stable;
// a Page Graph refuses it keeps the video's own key, with a plain note.
func TestThePersistentStreamKeyIsUsedWhereThePageAllowsIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, fake := setup(t)
	first, err := c.Provision(ctx, token, spec(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Provision(ctx, token, spec(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !first.StableKey || first.StreamKey != second.StreamKey || first.StreamKey != fake.PersistentKey("") {
		t.Errorf("granted: stable %v, keys %q and %q, Facebook's persistent key %q", first.StableKey, first.StreamKey, second.StreamKey, fake.PersistentKey(""))
	}
	if !strings.Contains(first.KeyNote, "persistent stream key") {
		t.Errorf("note %q", first.KeyNote)
	}
	for _, r := range fake.Requests() {
		if r.Op == facebookfake.OpCreate && r.Form.Has("persistent_stream_key_status") {
			t.Errorf("the create sent persistent_stream_key_status: %v", r.Form)
		}
	}

	fake.DenyPersistentKey("")
	third, err := c.Provision(ctx, token, spec(3*time.Hour))
	if err != nil {
		t.Fatalf("a refused persistent key fails the broadcast: %v", err)
	}
	v, _ := fake.Video(third.ExternalID)
	if third.StableKey || third.StreamKey != v.StreamKey || v.PersistentKey != "" {
		t.Errorf("refused: stable %v, key is the video's own %v", third.StableKey, third.StreamKey == v.StreamKey)
	}
	if !strings.Contains(third.KeyNote, "did not give this Page a persistent stream key") || !strings.Contains(third.KeyNote, "Permissions error") ||
		!strings.Contains(third.KeyNote, "changes with the next livestream") {
		t.Errorf("refused note %q", third.KeyNote)
	}
}

// The fake takes only the documented values of persistent_stream_key_status
// (the SDK's enum), on the update only, with Graph's invalid-parameter error.
func TestTheFakeTakesOnlyDocumentedPersistentKeyValues(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	b, err := c.Provision(context.Background(), token, spec(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := graph(t, fake, "POST", "/"+b.ExternalID, token, url.Values{"persistent_stream_key_status": {"ON"}}); got != 100 {
		t.Errorf("an undocumented value: code %d, want 100", got)
	}
	if got := graph(t, fake, "POST", "/me/live_videos", token, url.Values{"persistent_stream_key_status": {"ENABLE"}}); got != 100 {
		t.Errorf("on the create: code %d, want 100", got)
	}
	if got := graph(t, fake, "POST", "/"+b.ExternalID, token, url.Values{"persistent_stream_key_status": {"REGENERATE"}}); got != 0 {
		t.Errorf("REGENERATE: code %d", got)
	}
	if fake.PersistentKey("") == b.StreamKey {
		t.Error("REGENERATE kept the key")
	}
}

// A change reaches the live video in one update with its target's token:
// the title and description always, the planned start when it moved
// within Facebook's window (10 minutes to 7 days ahead), which also
// announces a video that was not scheduled yet. A start moved outside the
// window is not sent and the answer says Facebook keeps its planned start;
// a refusal at Facebook is the error, and the video keeps what it had.
func TestUpdateBroadcastChangesTheVideoWithinFacebooksWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		name        string
		createLead  time.Duration // when the video was first planned (5 minutes: created unscheduled)
		moveTo      time.Duration // the new start, from now
		wantStatus  string
		wantPlanned time.Duration // 0: the planned start at creation stays
		wantKept    string
	}{
		{"moved an hour later", 2 * time.Hour, 3 * time.Hour, "SCHEDULED_UNPUBLISHED", 3 * time.Hour, ""},
		{"an unscheduled video is announced", 5 * time.Minute, 2 * time.Hour, "SCHEDULED_UNPUBLISHED", 2 * time.Hour, ""},
		{"moved beyond 7 days", 2 * time.Hour, 8 * 24 * time.Hour, "SCHEDULED_UNPUBLISHED", 0, "keeps the planned start"},
		{"moved to 5 minutes from now", 2 * time.Hour, 5 * time.Minute, "SCHEDULED_UNPUBLISHED", 0, "10 minutes to 7 days ahead"},
	} {
		c, fake := setup(t)
		const page, pageToken = "200000000000002", "EAAGpageTokenGrace"
		fake.AddPage(page, "Grace Church", pageToken)
		s := spec(tc.createLead)
		s.Destination = page
		b, err := c.Provision(ctx, token, s)
		if err != nil {
			t.Fatal(err)
		}
		created, _ := fake.Video(b.ExternalID)
		start := now.Add(tc.moveTo).Truncate(time.Second)
		kept, err := c.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{Title: "Easter service", Description: "At 11:00",
			ScheduledStart: start, StartMoved: true})
		if err != nil || !strings.Contains(kept, tc.wantKept) || (tc.wantKept == "") != (kept == "") {
			t.Errorf("%s: kept %q, %v; want %q", tc.name, kept, err, tc.wantKept)
		}
		v, _ := fake.Video(b.ExternalID)
		wantPlanned := created.PlannedStart
		if tc.wantPlanned != 0 {
			wantPlanned = start.Unix()
		}
		if v.Title != "Easter service" || v.Description != "At 11:00" || v.Status != tc.wantStatus || v.PlannedStart != wantPlanned {
			t.Errorf("%s: Facebook holds %+v, want status %s planned %d", tc.name, v, tc.wantStatus, wantPlanned)
		}
		for _, r := range fake.Requests() {
			if r.Op == facebookfake.OpUpdate && r.Form.Get("title") == "Easter service" && r.Token != pageToken {
				t.Errorf("%s: the update went with token %q, want the Page's", tc.name, r.Token)
			}
		}
	}

	// Facebook's own refusals come back as the error and change nothing.
	c, fake := setup(t)
	b, err := c.Provision(ctx, token, spec(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := fake.Video(b.ExternalID)
	fake.FailNext(facebookfake.OpUpdate, http.StatusBadRequest, 100, 1)
	_, err = c.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{Title: "x", ScheduledStart: time.Now().Add(3 * time.Hour), StartMoved: true})
	if reasonOf(t, err) != platform.ReasonInvalid {
		t.Errorf("a refused update: %v", err)
	}
	if after, _ := fake.Video(b.ExternalID); after != before {
		t.Errorf("a refused update changed the video: %+v", after)
	}
	// The fake itself holds a planned start to Facebook's window, as Graph does.
	fake.SetClock(func() time.Time { return time.Now().Add(3 * time.Hour) }) // the new start is now only minutes away
	_, err = c.UpdateBroadcast(ctx, token, b, platform.BroadcastChange{Title: "x", ScheduledStart: time.Now().Add(3*time.Hour + 5*time.Minute), StartMoved: true})
	if reasonOf(t, err) != platform.ReasonInvalid || !strings.Contains(err.Error(), "invalid planned start time") {
		t.Errorf("a planned start outside Facebook's window: %v", err)
	}
}
