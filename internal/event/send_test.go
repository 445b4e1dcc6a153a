package event

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestAnswersAreJudgedRetryableOrFinal(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		status     int
		retryAfter string
		ok, retry  bool
		wait       time.Duration
	}{
		{200, "", true, false, 0}, {204, "", true, false, 0},
		{500, "", false, true, 0}, {503, "120", false, true, 2 * time.Minute},
		{429, now.Add(time.Hour).Format(http.TimeFormat), false, true, time.Hour},
		{408, "", false, true, 0}, {409, "", false, true, 0},
		{410, "", false, false, 0}, {400, "", false, false, 0}, {404, "", false, false, 0}, {301, "", false, false, 0},
	}
	for _, c := range cases {
		o := classify(c.status, c.retryAfter, now)
		if o.OK != c.ok || o.Retry != c.retry || o.RetryAfter != c.wait {
			t.Errorf("%d %q: %+v", c.status, c.retryAfter, o)
		}
	}
}

func TestRetriesLastAtLeastADayAndHonourRetryAfter(t *testing.T) {
	t.Parallel()
	for _, jitter := range []float64{0, 0.5, 0.999} {
		var total time.Duration
		n := 1
		for ; ; n++ {
			d, ok := nextDelay(n, 0, func() float64 { return jitter })
			if !ok {
				break
			}
			total += d
		}
		if total < 24*time.Hour || n != 8 {
			t.Errorf("jitter %v: %d attempts over %v, want 8 over at least 24h", jitter, n, total)
		}
	}
	if d, _ := nextDelay(1, time.Hour, func() float64 { return 0 }); d != time.Hour {
		t.Errorf("Retry-After of an hour after the first attempt: waits %v", d)
	}
}

// A receiver verifies what the sender signed with the Standard Webhooks
// library; during a rotation's overlap, with either secret.
func TestDeliveriesVerifyWithTheStandardWebhooksLibraryUnderEitherSecret(t *testing.T) {
	t.Parallel()
	const oldSecret, newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	var got []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for _, s := range []string{oldSecret, newSecret, "whsec_" + strings.Repeat("A", 40)} {
			wh, _ := standardwebhooks.NewWebhook(s)
			got = append(got, wh.Verify(body, r.Header))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	o := NewSender(Guard{AllowLoopback: true}).Send(context.Background(), srv.URL, "evt_1", time.Now(), []byte(`{"type":"x"}`), []string{newSecret, oldSecret})
	if !o.OK || len(got) != 3 || got[0] != nil || got[1] != nil || got[2] == nil {
		t.Fatalf("outcome %+v, verifications %v", o, got)
	}
}

func TestRedirectsAreNotFollowedAndSlowEndpointsTimeOut(t *testing.T) {
	t.Parallel()
	var followed bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	s := NewSender(Guard{AllowLoopback: true})
	secrets := []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if o := s.Send(context.Background(), redirect.URL, "evt_1", time.Now(), []byte(`{}`), secrets); o.OK || o.Retry || followed {
		t.Fatalf("redirect: %+v, followed %v", o, followed)
	}
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	began := time.Now()
	o := s.Send(context.Background(), slow.URL, "evt_1", time.Now(), []byte(`{}`), secrets)
	if o.OK || !o.Retry || o.Error != "timeout" || time.Since(began) > SendTimeout+2*time.Second {
		t.Fatalf("slow endpoint: %+v after %v", o, time.Since(began))
	}
}
