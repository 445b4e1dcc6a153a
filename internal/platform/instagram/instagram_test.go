package instagram_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/platformtest"
)

const (
	token     = "EAAGinstagramUserToken123"
	ingestURL = "rtmps://edgetee-upload-mxp1-1.xx.fbcdn.net:443/rtmp/"
	streamKey = "IG-17900000000000001-0-AbCdEfGhIjKlMnOp"
	igUserID  = "17841400000000001"
)

func setup(t *testing.T) (*instagram.Client, *instagramfake.Server) {
	t.Helper()
	fake := instagramfake.New()
	t.Cleanup(fake.Close)
	fake.AddPage("100000000000001", "Grace Church", igUserID, "gracechurch")
	return instagram.New(&http.Client{Timeout: 5 * time.Second}, fake.URL), fake
}

func spec() platform.BroadcastSpec {
	return platform.BroadcastSpec{
		Title: "Sunday service", ScheduledStart: time.Now().Add(time.Hour),
		RequestID: "ls_1:instagram", IngestURL: ingestURL, StreamKey: streamKey,
	}
}

func reasonOf(t *testing.T, err error) platform.Reason {
	t.Helper()
	return platformtest.Reason(t, err, instagram.ID)
}

func TestLifecycleUsesTheUsersIngestAndReadsWhetherTheAccountIsLive(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	if b.IngestURL != ingestURL || b.StreamKey != streamKey || b.Extra[instagram.ExtraIGUserID] != igUserID ||
		b.Extra[instagram.ExtraPageID] != "100000000000001" || b.WatchURL != "https://www.instagram.com/gracechurch/" {
		t.Fatalf("broadcast %+v", b)
	}
	if b.ExternalID == "" || b.ExternalID != instagram.ExternalID("ls_1:instagram") {
		t.Errorf("external id %q", b.ExternalID)
	}
	for _, r := range fake.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("Provision wrote to Instagram: %s %s", r.Method, r.Path)
		}
	}
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastReady {
		t.Fatalf("state %s, %v", s, err)
	}
	fake.StartLive(igUserID) // the user starts the broadcast in Live Producer
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastLive {
		t.Fatalf("state %s, %v", s, err)
	}
	fake.StopLive(igUserID)
	if s, err := c.State(ctx, token, b); err != nil || s != platform.BroadcastReady {
		t.Fatalf("state %s, %v", s, err)
	}
}

// No public API starts or ends an Instagram live broadcast, and nothing is
// created at Instagram to cancel: the client has none of the optional
// operations, so no call can be made for them.
func TestGoLiveEndAndCancelMakeNoCallsBecauseNoAPIExists(t *testing.T) {
	t.Parallel()
	var bc platform.Broadcaster = (*instagram.Client)(nil)
	if _, ok := bc.(platform.GoLiver); ok {
		t.Error("the client has GoLive, but no public API starts an Instagram live broadcast")
	}
	if _, ok := bc.(platform.Ender); ok {
		t.Error("the client has End, but no public API ends an Instagram live broadcast")
	}
	if _, ok := bc.(platform.Canceller); ok {
		t.Error("the client has Cancel, but nothing was created at Instagram to cancel")
	}
}

func TestProvisionWithoutAStreamURLAndKeySaysPlainlyThatNoAPIExists(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	for name, mod := range map[string]func(*platform.BroadcastSpec){
		"no URL": func(s *platform.BroadcastSpec) { s.IngestURL = "" },
		"no key": func(s *platform.BroadcastSpec) { s.StreamKey = "  " },
	} {
		s := spec()
		mod(&s)
		_, err := c.Provision(context.Background(), token, s)
		if r := reasonOf(t, err); r != platform.ReasonUnsupported {
			t.Errorf("%s: reason %s", name, r)
		}
		if !strings.Contains(err.Error(), "Instagram has no public API to create a live broadcast: copy the stream URL and key from Instagram Live Producer into this target") {
			t.Errorf("%s: message %q", name, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestProvisionRefusesAnIngestThatIsNotRTMP(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	for _, u := range []string{"https://live-upload.instagram.com/rtmp/", "live-upload.instagram.com:443/rtmp/", "rtmp://", "srt://x.example:9000"} {
		s := spec()
		s.IngestURL = u
		_, err := c.Provision(context.Background(), token, s)
		if r := reasonOf(t, err); r != platform.ReasonInvalid {
			t.Errorf("%s: reason %s", u, r)
		}
		if strings.Contains(err.Error(), streamKey) {
			t.Errorf("%s: the error shows the key", u)
		}
	}
	s := spec()
	s.IngestURL = "rtmp://live-upload.instagram.com:80/rtmp/"
	if _, err := c.Provision(context.Background(), token, s); err != nil {
		t.Errorf("rtmp:// refused: %v", err)
	}
}

func TestExternalIDIsStablePerRequestID(t *testing.T) {
	t.Parallel()
	a, b := instagram.ExternalID("ls_1:instagram"), instagram.ExternalID("ls_1:instagram")
	if a == "" || a != b || a == instagram.ExternalID("ls_2:instagram") || instagram.ExternalID("") != "" {
		t.Errorf("ids %q %q", a, b)
	}
}

func TestADestinationNamesTheAccountWithoutAskingInstagram(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	s := spec()
	s.Destination = igUserID
	b, err := c.Provision(context.Background(), token, s)
	if err != nil || b.Extra[instagram.ExtraIGUserID] != igUserID {
		t.Fatalf("%+v, %v", b, err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestWhoamiFindsTheLinkedProfessionalAccountAcrossPages(t *testing.T) {
	t.Parallel()
	fake := instagramfake.New()
	t.Cleanup(fake.Close)
	for i := range 30 {
		fake.AddPage(fmt.Sprintf("1000%02d", i), fmt.Sprintf("Page %d", i), "", "")
	}
	fake.AddPage("200000", "Grace Church", "1784", "gracechurch")
	c := instagram.New(nil, fake.URL)
	acc, err := c.Whoami(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if acc.ID != "1784" || acc.Name != "gracechurch" || acc.Extra["pageId"] != "200000" || acc.Extra["igUserId"] != "1784" {
		t.Errorf("account %+v", acc)
	}
	if n := fake.Calls(instagramfake.OpAccounts); n != 2 {
		t.Errorf("%d page reads, want 2", n)
	}
}

func TestWhoamiWithoutALinkedProfessionalAccountIsNotEligible(t *testing.T) {
	t.Parallel()
	fake := instagramfake.New()
	t.Cleanup(fake.Close)
	fake.AddPage("100", "A Page", "", "")
	c := instagram.New(nil, fake.URL)
	_, err := c.Whoami(context.Background(), token)
	if r := reasonOf(t, err); r != platform.ReasonNotEligible {
		t.Fatalf("reason %s", r)
	}
	if !strings.Contains(err.Error(), "no Instagram professional account is linked to a Facebook Page") {
		t.Errorf("message %v", err)
	}
	// Provision needs the account too when no destination names it.
	_, err = c.Provision(context.Background(), token, spec())
	if r := reasonOf(t, err); r != platform.ReasonNotEligible {
		t.Errorf("provision: %s", r)
	}
}

func TestStateWithoutTheUserIDIsInvalid(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	_, err := c.State(context.Background(), token, platform.Broadcast{})
	if r := reasonOf(t, err); r != platform.ReasonInvalid {
		t.Fatalf("reason %s", r)
	}
}

func TestGraphErrorsMapToReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status, code, n int
		want            platform.Reason
		calls           int
	}{
		{400, 190, 1, platform.ReasonExpiredToken, 1},
		{403, 10, 1, platform.ReasonPermission, 1},
		{403, 200, 1, platform.ReasonPermission, 1},
		{400, 100, 1, platform.ReasonInvalid, 1},
		{400, 17, 5, platform.ReasonRateLimited, 3}, // retried, then given up
		{500, 2, 5, platform.ReasonTransient, 3},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%d", tc.status, tc.code), func(t *testing.T) {
			t.Parallel()
			c, fake := setup(t)
			fake.FailNext(instagramfake.OpLiveMedia, tc.status, tc.code, tc.n)
			_, err := c.State(context.Background(), token, platform.Broadcast{Extra: map[string]string{"igUserId": igUserID}})
			if r := reasonOf(t, err); r != tc.want {
				t.Fatalf("reason %s, want %s", r, tc.want)
			}
			if n := fake.Calls(instagramfake.OpLiveMedia); n != tc.calls {
				t.Errorf("%d calls, want %d", n, tc.calls)
			}
		})
	}
}

func TestReadsAreRetriedOnServerErrorsThenSucceed(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.FailNext(instagramfake.OpLiveMedia, 500, 2, 1)
	fake.StartLive(igUserID)
	s, err := c.State(context.Background(), token, platform.Broadcast{Extra: map[string]string{"igUserId": igUserID}})
	if err != nil || s != platform.BroadcastLive {
		t.Fatalf("%s, %v", s, err)
	}
	if n := fake.Calls(instagramfake.OpLiveMedia); n != 2 {
		t.Errorf("%d calls", n)
	}
}

func TestRejectedOrMissingTokenIsExpiredToken(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	fake.RejectToken(token)
	_, err := c.Whoami(context.Background(), token)
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("rejected: %s", r)
	}
	_, err = c.Whoami(context.Background(), "")
	if r := reasonOf(t, err); r != platform.ReasonExpiredToken {
		t.Errorf("missing: %s", r)
	}
}

func TestErrorsNeverCarryTheTokenOrTheStreamKey(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b := platform.Broadcast{IngestURL: ingestURL, StreamKey: streamKey, Extra: map[string]string{"igUserId": igUserID}}
	var errs []error
	fake.FailNextWith(instagramfake.OpLiveMedia, 400, instagramfake.Error{Code: 100, Message: "(#100) token " + token + " key " + streamKey}, 1)
	_, err := c.State(ctx, token, b)
	errs = append(errs, err)
	fake.FailNextWith(instagramfake.OpAccounts, 400, instagramfake.Error{Code: 100, Message: "(#100) token " + token + " key " + streamKey}, 1)
	_, err = c.Provision(ctx, token, spec())
	errs = append(errs, err)
	s := spec()
	s.IngestURL = "http://x.example/" + streamKey
	_, err = c.Provision(ctx, token, s)
	errs = append(errs, err)
	dead := instagram.New(&http.Client{Timeout: time.Second}, "http://127.0.0.1:1/v21.0")
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
		if strings.Contains(text, token) || strings.Contains(text, streamKey) {
			t.Errorf("error carries a secret: %s", text)
		}
	}
}

// TestRequestsFollowPlatformsMD holds every request the client sent to the
// fake to what shared/specs/PLATFORMS.md (Instagram, Facebook sections)
// documents: there is no published machine-readable description of the
// Graph API here. Only two reads exist: the Pages with their linked
// Instagram accounts, and live_media (read-only). No write of any kind is
// allowed, and the token travels in the Authorization header only.
func TestRequestsFollowPlatformsMD(t *testing.T) {
	t.Parallel()
	c, fake := setup(t)
	ctx := context.Background()
	b, err := c.Provision(ctx, token, spec())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Whoami(ctx, token)
	_, _ = c.State(ctx, token, b)

	type row struct {
		path   func([]string) bool
		fields string
		extra  []string
	}
	rows := map[string]row{
		"GET /me/accounts": {func(s []string) bool { return len(s) == 2 && s[0] == "me" && s[1] == "accounts" },
			"name,instagram_business_account{id,username}", []string{"after"}},
		"GET /{ig-user-id}/live_media": {func(s []string) bool { return len(s) == 2 && s[0] == igUserID && s[1] == "live_media" },
			"id", nil},
	}
	used := map[string]bool{}
	for _, r := range fake.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("%s %s: Instagram's API is read-only here", r.Method, r.Path)
			continue
		}
		segs := strings.Split(strings.Trim(strings.TrimPrefix(r.Path, "/"+instagramfake.Version), "/"), "/")
		matched := ""
		for name, rw := range rows {
			if rw.path(segs) {
				matched = name
			}
		}
		if matched == "" {
			t.Errorf("%s %s is not documented", r.Method, r.Path)
			continue
		}
		used[matched] = true
		rw := rows[matched]
		if r.Query.Get("fields") != rw.fields {
			t.Errorf("%s: fields=%q, want %q", matched, r.Query.Get("fields"), rw.fields)
		}
		for p := range r.Query {
			if p != "fields" && !contains(rw.extra, p) {
				t.Errorf("%s: undocumented parameter %s", matched, p)
			}
		}
	}
	for name := range rows {
		if !used[name] {
			t.Errorf("%s never exercised", name)
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
