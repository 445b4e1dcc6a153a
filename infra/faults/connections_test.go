package faults_test

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
)

func TestStorageLatencyOnlySlowsRequestsDown(t *testing.T) {
	t.Parallel()
	f := newTCPFaults(t)
	ddb := f.proxy(t, "ddb-latency", hostPort(t, dynamoEndpoint(t)))
	w := newWorld(t, "http://"+ddb.Listen, nil)
	poison(t, ddb, "slow", "latency", `{"latency":300,"jitter":50}`)
	start := time.Now()
	if code, _ := statusOf(t, w.connectRender("t1")); code != 201 {
		t.Fatalf("connect under latency: %d", code)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("the latency toxic did not apply (%s)", took)
	}
	w.checkNothingHalfWritten()
}

func TestStorageResetsFailWithA503AndWriteNothing(t *testing.T) {
	t.Parallel()
	f := newTCPFaults(t)
	ddb := f.proxy(t, "ddb-reset", hostPort(t, dynamoEndpoint(t)))
	w := newWorld(t, "http://"+ddb.Listen, nil)
	heal := poison(t, ddb, "reset", "reset_peer", `{"timeout":0}`)
	code, problem := statusOf(t, w.connectRender("t1"))
	if code != 503 || problem != "storage_unreachable" {
		t.Fatalf("got %d %s, want 503 storage_unreachable", code, problem)
	}
	heal()
	if n := itemCount(t, w.fix.DB, w.fix.Table); n != 0 {
		t.Fatalf("%d items written by a failed request", n)
	}
	// Healed, the same request goes through.
	if code, _ := statusOf(t, w.connectRender("t1")); code != 201 {
		t.Fatalf("after healing: %d", code)
	}
	w.checkNothingHalfWritten()
}

func TestStorageThrottlingIsRetriedThenSucceedsOrIsA503(t *testing.T) {
	t.Parallel()
	th := newThrottler(t, dynamoEndpoint(t))
	w := newWorld(t, th.srv.URL, nil)
	th.throttle(2) // the SDK's standard retryer makes 3 attempts
	if code, _ := statusOf(t, w.connectRender("t1")); code != 201 {
		t.Fatalf("after two throttled attempts: %d", code)
	}
	if th.seen.Load() != 2 {
		t.Fatalf("%d throttled answers seen", th.seen.Load())
	}
	th.throttle(1 << 20)
	code, problem := statusOf(t, w.do(app.Connections, apitest.Event("GET", "/connections/render", apitest.As("t1", "u"))))
	if code != 503 || problem != "storage_busy" {
		t.Fatalf("under constant throttling: %d %s", code, problem)
	}
	th.throttle(0)
	w.checkNothingHalfWritten()
}

func TestPlatformResetsDuringAKeyCheckAreA503AndStoreNothing(t *testing.T) {
	t.Parallel()
	f := newTCPFaults(t)
	var render *proxyRef = &proxyRef{}
	w := newWorld(t, "", func(env map[string]string) {
		p := f.proxy(t, "render", hostPort(t, env["RENDER_API_URL"]))
		env["RENDER_API_URL"] = "http://" + p.Listen + "/v1"
		render.p = p
	})
	heal := poison(t, render.p, "reset", "reset_peer", `{"timeout":0}`)
	code, problem := statusOf(t, w.connectRender("t1"))
	if code != 503 || problem != "platform_unavailable" {
		t.Fatalf("got %d %s, want 503 platform_unavailable", code, problem)
	}
	if n := itemCount(t, w.fix.DB, w.fix.Table); n != 0 {
		t.Fatalf("%d items written", n)
	}
	heal()
	if code, _ := statusOf(t, w.connectRender("t1")); code != 201 {
		t.Fatalf("after healing: %d", code)
	}
}

// A refresh request that never reaches the provider leaves the connection
// as it was: connected, with the failure recorded, and the next refresh
// clears it.
func TestTokenEndpointResetBeforeTheRequestArrivesKeepsTheConnection(t *testing.T) {
	t.Parallel()
	w, token := zoomWorld(t)
	heal := poisonStream(t, token.p, "upstream", "reset", "reset_peer", `{"timeout":0}`)
	c := w.refreshZoom()
	if c.Status != "connected" || c.LastError == nil || c.LastError.Code != "refresh_failed" {
		t.Fatalf("after a failed refresh: %+v", c)
	}
	heal()
	if c := w.refreshZoom(); c.Status != "connected" || c.LastError != nil {
		t.Fatalf("after healing: %+v", c)
	}
	w.checkNothingHalfWritten()
}

// What fault injection found: when the provider rotated the refresh token
// but its answer was lost on the way back, the new refresh token exists
// only at the provider. No client can recover it (rotation without a reuse
// window makes the old one dead), so the next refresh gets invalid_grant
// and the connection is expired with that reason: its status stays true,
// the user is told to reconnect, and nothing is half-written.
func TestLostRefreshAnswerAfterRotationEndsExpiredWithAReason(t *testing.T) {
	t.Parallel()
	w, token := zoomWorld(t)
	heal := poisonStream(t, token.p, "downstream", "reset", "reset_peer", `{"timeout":0}`)
	if c := w.refreshZoom(); c.Status != "connected" || c.LastError == nil {
		t.Fatalf("a lost answer is a transient failure at first: %+v", c)
	}
	heal()
	c := w.refreshZoom()
	if c.Status != "expired" || c.LastError == nil || c.LastError.Code != "invalid_grant" {
		t.Fatalf("after the provider rotated away the stored token: %+v", c)
	}
	w.checkNothingHalfWritten()
}

type connectionView struct {
	Status    string
	LastError *struct{ Code, Message string }
}

func zoomWorld(t *testing.T) (*world, *proxyRef) {
	t.Helper()
	f := newTCPFaults(t)
	token := &proxyRef{}
	w := newWorld(t, "", func(env map[string]string) {
		p := f.proxy(t, "oauth", hostPort(t, env["ZOOM_TOKEN_URL"]))
		env["ZOOM_TOKEN_URL"] = "http://" + p.Listen + "/token"
		token.p = p
	})
	w.connectZoom("t1")
	return w, token
}

func (w *world) refreshZoom() connectionView {
	w.t.Helper()
	var c connectionView
	apitest.DecodeJSON(w.t, w.do(app.Connections, apitest.Event("POST", "/connections/zoom/refresh", apitest.As("t1", "u"))), 200, &c)
	return c
}
