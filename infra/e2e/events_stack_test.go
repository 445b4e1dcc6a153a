package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// eventStack is the deploy stack with event-dispatcher behind the table's
// stream too, through its own event source with template.yaml's filter
// (as make dev runs it), and its retry schedule to tick by hand.
type eventStack struct {
	*deployStack
	dispatchLogs *servicetest.Logs
	retries      app.ScheduledHandler
}

func newEventStack(t *testing.T) *eventStack {
	t.Helper()
	es := &eventStack{deployStack: newDeployStack(t, map[string]string{"WEBHOOKS_ALLOW_LOOPBACK": "true"}), dispatchLogs: &servicetest.Logs{}}
	getenv := func(k string) string {
		if v, ok := es.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	ctx := context.Background()
	opts := app.Options{Getenv: getenv, Log: es.dispatchLogs}
	dispatch, err := app.EventStream(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if es.retries, err = app.Scheduled(ctx, app.EventDispatcher, opts); err != nil {
		t.Fatal(err)
	}
	startStreamPoller(t, es.table, streams.Config{Handler: streams.Handler(dispatch), Filter: streams.EventItems,
		Function: app.EventDispatcher, BatchSize: 100})
	return es
}

// tickRetries runs event-dispatcher's retry schedule once.
func (es *eventStack) tickRetries() app.RunReport { return es.tickRetriesAt(time.Now()) }

// tickRetriesAt runs it as its schedule would at at.
func (es *eventStack) tickRetriesAt(at time.Time) app.RunReport {
	es.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := es.retries(ctx, gateway.ScheduledEvent(app.EventDispatcher, gateway.DefaultRegion, gateway.DefaultAccountID, at))
	if err != nil {
		es.t.Fatalf("retries: %v", err)
	}
	return rep
}

type feedEvent struct {
	ID, Type, OccurredAt string
	Resource             struct{ Type, ID string }
	Data                 map[string]any
}

// feed reads the tenant's whole feed through GET /events, page by page.
func (es *eventStack) feed(tenant string) []feedEvent {
	es.t.Helper()
	var out []feedEvent
	after := ""
	for range 100 {
		var page struct {
			Items      []feedEvent
			NextCursor string
		}
		path := "/events?limit=4"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		if r := es.call("GET", path, tenant, nil, &page); r.StatusCode != http.StatusOK || page.NextCursor == "" {
			es.t.Fatalf("feed: %d %s", r.StatusCode, bodyOf(r))
		}
		out = append(out, page.Items...)
		if len(page.Items) == 0 {
			return out
		}
		after = page.NextCursor
	}
	es.t.Fatal("the feed does not end")
	return nil
}

// waitFeed waits until the feed holds an event that ok accepts.
func (es *eventStack) waitFeed(tenant string, ok func(feedEvent) bool) feedEvent {
	es.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, e := range es.feed(tenant) {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			es.t.Fatalf("no such event in the feed; dispatcher log:\n%s", es.dispatchLogs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ofType(typ string) func(feedEvent) bool { return func(e feedEvent) bool { return e.Type == typ } }

// receiver is a webhook endpoint on loopback that verifies every delivery
// with the Standard Webhooks library, as an app would.
type receiver struct {
	t      *testing.T
	addr   string
	mu     sync.Mutex
	srv    *http.Server
	secret string
	answer int
	counts map[string]int // deliveries per webhook-id
	got    []feedEvent    // first delivery of each id, in arrival order
	bodies []string
	bad    []error
	// sigs and timestamps are the verified deliveries' webhook-signature
	// and webhook-timestamp headers.
	sigs, timestamps []string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, answer: http.StatusNoContent, counts: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc.addr = ln.Addr().String()
	rc.serve(ln)
	t.Cleanup(rc.stop)
	return rc
}

func (rc *receiver) URL() string { return "http://" + rc.addr + "/hooks/switchboard" }

func (rc *receiver) serve(ln net.Listener) {
	rc.srv = &http.Server{Handler: http.HandlerFunc(rc.handle), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rc.srv.Serve(ln) }()
}

// stop takes the receiver down: connections are refused.
func (rc *receiver) stop() {
	rc.mu.Lock()
	srv := rc.srv
	rc.srv = nil
	rc.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// start brings it back on the same address.
func (rc *receiver) start() {
	ln, err := net.Listen("tcp", rc.addr)
	if err != nil {
		rc.t.Fatalf("listening again on %s: %v", rc.addr, err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.serve(ln)
}

func (rc *receiver) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(rc.secret)
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		rc.bad = append(rc.bad, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	rc.counts[id]++
	rc.bodies = append(rc.bodies, string(body))
	rc.sigs = append(rc.sigs, r.Header.Get("webhook-signature"))
	rc.timestamps = append(rc.timestamps, r.Header.Get("webhook-timestamp"))
	if rc.counts[id] == 1 {
		var e feedEvent
		_ = json.Unmarshal(body, &e)
		rc.got = append(rc.got, e)
	}
	w.WriteHeader(rc.answer)
}

func (rc *receiver) received() ([]feedEvent, map[string]int, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	counts := map[string]int{}
	for k, v := range rc.counts {
		counts[k] = v
	}
	return slices.Clone(rc.got), counts, slices.Clone(rc.bad)
}

// register registers rc for tenant and keeps the secret it is shown.
func (es *eventStack) register(tenant string, rc *receiver, types ...string) string {
	es.t.Helper()
	var created struct{ ID, URL, Secret, Status string }
	body := map[string]any{"url": rc.URL()}
	if len(types) > 0 {
		body["types"] = types
	}
	if r := es.call("POST", "/webhooks", tenant, body, &created); r.StatusCode != http.StatusCreated || !strings.HasPrefix(created.Secret, "whsec_") || created.Status != "active" {
		es.t.Fatalf("register: %d %s", r.StatusCode, bodyOf(r))
	}
	rc.mu.Lock()
	rc.secret = created.Secret
	rc.mu.Unlock()
	return created.ID
}

type deliveryBody struct {
	EventID, EventType, Status string
	Attempts                   int
	LastStatusCode             *int
	LastError, NextAttemptAt   *string
}

func (es *eventStack) deliveries(tenant, webhook string) []deliveryBody {
	es.t.Helper()
	var page struct{ Items []deliveryBody }
	if r := es.call("GET", "/webhooks/"+webhook+"/deliveries", tenant, nil, &page); r.StatusCode != http.StatusOK {
		es.t.Fatalf("deliveries: %d %s", r.StatusCode, bodyOf(r))
	}
	return page.Items
}

// Done means, in one run: a webhook on a loopback receiver; a platform
// connected, a deployment and a livestream run; the receiver gets every
// event once per webhook-id, each verified with the Standard Webhooks
// library, and GET /events lists the same events in order. No event or
// log of the dispatcher shows a secret.
func TestEveryEventReachesTheWebhookOnceAndTheFeedListsThemInOrder(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	rc := newReceiver(t)
	es.register("church", rc)

	es.connectDeployPlatforms("church")
	es.connectOAuth("church", "youtube")
	d := es.waitEnded("church", es.deploy("church", map[string]any{"platform": "vercel", "projectName": "events-site", "files": siteFiles()}).ID)
	if d.Status != "ready" {
		t.Fatalf("deployment ended %s", d.Status)
	}
	start := liveStartIn(3)
	ls := es.createLivestream("church", newLivestream(start, youtubeTarget("public")))
	sched := es.newLiveScheduler()
	es.sb.YouTube.PushAll()
	sched.tick(start)
	sched.tick(start.Add(time.Hour))
	if got := es.getLivestream("church", ls.ID); got.Status != "ended" {
		t.Fatalf("livestream %s", got.Status)
	}

	want := []string{"connection.connected", "deployment.queued", "deployment.ready", "livestream.target.ready",
		"livestream.target.live", "livestream.live", "livestream.target.ended", "livestream.ended"}
	es.waitFeed("church", ofType("livestream.ended"))
	feed := es.feed("church")
	var types []string
	for _, e := range feed {
		types = append(types, e.Type)
	}
	for _, w := range want {
		if !slices.Contains(types, w) {
			t.Errorf("no %s in the feed %v", w, types)
		}
	}
	if n := strings.Count(strings.Join(types, ","), "connection.connected"); n != 4 {
		t.Errorf("%d connection.connected events for 4 connections: %v", n, types)
	}
	// In order: each resource's events as its states went, times never
	// going back.
	for _, seq := range [][]string{{"deployment.queued", "deployment.building", "deployment.ready"},
		{"livestream.target.ready", "livestream.target.live", "livestream.live", "livestream.target.ended", "livestream.ended"}} {
		last := -1
		for _, typ := range seq {
			i := slices.Index(types, typ)
			if i >= 0 && i < last {
				t.Errorf("%s comes before what preceded it: %v", typ, types)
			}
			last = max(last, i)
		}
	}
	for i := 1; i < len(feed); i++ {
		if feed[i].OccurredAt < feed[i-1].OccurredAt {
			t.Errorf("the feed goes back in time at %d: %v", i, feed)
		}
	}

	// The receiver: every event of the feed, once per webhook-id, verified.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, counts, bad := rc.received()
		if len(bad) > 0 {
			t.Fatalf("deliveries that do not verify: %v", bad)
		}
		if len(got) == len(feed) {
			for i, e := range feed {
				if counts[e.ID] != 1 {
					t.Errorf("%s (%s) delivered %d times", e.ID, e.Type, counts[e.ID])
				}
				if !slices.ContainsFunc(got, func(g feedEvent) bool { return g.ID == e.ID && g.Type == e.Type }) {
					t.Errorf("feed event %d %s was not delivered", i, e.Type)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d events, the feed has %d", len(got), len(feed))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// No secret in any event, delivery or dispatcher log line.
	secrets := append([]string{e2eVercelToken, e2eRailwayToken, e2eRenderKey, rc.secret, strings.TrimPrefix(rc.secret, "whsec_")},
		es.liveAccessTokens("church", "youtube")...)
	rc.mu.Lock()
	bodies := strings.Join(rc.bodies, "\n")
	rc.mu.Unlock()
	feedRaw, _ := json.Marshal(feed)
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for where, text := range map[string]string{"a delivery": bodies, "the feed": string(feedRaw), "the dispatcher's logs": es.dispatchLogs.String(), "the functions' logs": es.logs.String()} {
			if strings.Contains(text, sec) {
				t.Errorf("%s shows a secret", where)
			}
		}
	}
}

// A receiver that is down gets its events once it is back: the first
// attempt fails (connection refused), the retry run delivers.
func TestAStoppedReceiverGetsItsEventsAfterARetry(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	rc := newReceiver(t)
	id := es.register("church", rc, "connection.connected")
	rc.stop()
	if r := es.call("POST", "/connections/render", "church", map[string]any{"credentials": map[string]string{"apiKey": e2eRenderKey}}, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.StatusCode, bodyOf(r))
	}
	var first deliveryBody
	waitFor(t, func() bool {
		ds := es.deliveries("church", id)
		if len(ds) == 1 && ds[0].Attempts == 1 {
			first = ds[0]
			return true
		}
		return false
	})
	if first.Status != "pending" || first.NextAttemptAt == nil || first.LastStatusCode != nil || first.LastError == nil {
		t.Fatalf("after a refused attempt: %+v", first)
	}
	rc.start()
	next, _ := time.Parse(time.RFC3339, *first.NextAttemptAt)
	if rep := es.tickRetriesAt(next.Add(time.Second)); rep.Found != 1 || rep.Done != 1 {
		t.Fatalf("retry run %+v\n%s", rep, es.dispatchLogs.String())
	}
	ds := es.deliveries("church", id)
	if ds[0].Status != "succeeded" || ds[0].Attempts != 2 || ds[0].LastStatusCode == nil || *ds[0].LastStatusCode != http.StatusNoContent || ds[0].NextAttemptAt != nil {
		t.Fatalf("after the retry: %+v", ds[0])
	}
	got, counts, bad := rc.received()
	if len(got) != 1 || got[0].Type != "connection.connected" || counts[got[0].ID] != 1 || len(bad) > 0 {
		t.Fatalf("received %+v %v %v", got, counts, bad)
	}
	if rep := es.tickRetries(); rep.Found != 0 {
		t.Fatalf("a delivered event is still due: %+v", rep)
	}
}

// 410 Gone is final: the delivery fails at once and is never tried again.
func TestADeliveryAnswered410IsNotRetried(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	rc := newReceiver(t)
	rc.answer = http.StatusGone
	id := es.register("church", rc)
	if r := es.call("POST", "/connections/render", "church", map[string]any{"credentials": map[string]string{"apiKey": e2eRenderKey}}, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.StatusCode, bodyOf(r))
	}
	waitFor(t, func() bool { ds := es.deliveries("church", id); return len(ds) == 1 && ds[0].Attempts == 1 })
	ds := es.deliveries("church", id)
	if ds[0].Status != "failed" || ds[0].NextAttemptAt != nil || *ds[0].LastStatusCode != http.StatusGone {
		t.Fatalf("after 410: %+v", ds[0])
	}
	if rep := es.tickRetriesAt(time.Now().Add(6 * time.Second)); rep.Found != 0 { // past the first retry's time
		t.Fatalf("the 410 delivery was tried again: %+v", rep)
	}
	if _, counts, _ := rc.received(); len(counts) != 1 {
		t.Fatalf("received %v", counts)
	}
}

// Disconnecting a platform that a scheduled livestream targets warns at
// once (the YouTube disconnect that answered without a word).
func TestDisconnectingAScheduledLivestreamsPlatformWarnsAtOnce(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	es.connectOAuth("church", "youtube")
	ls := es.createLivestream("church", newLivestream(liveStartIn(60), youtubeTarget("public")))
	if r := es.call("DELETE", "/connections/youtube", "church", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("disconnect: %d %s", r.StatusCode, bodyOf(r))
	}
	e := es.waitFeed("church", ofType("livestream.target_at_risk"))
	if e.Resource.ID != ls.ID || e.Data["platform"] != "youtube" || e.Data["connectionStatus"] != "disconnected" {
		t.Fatalf("warning %+v", e)
	}
	es.waitFeed("church", ofType("connection.disconnected"))
}

// A write whose condition failed commits nothing, so no event comes of it;
// a write after it does.
func TestNoEventForAWriteThatDidNotCommit(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	if r := es.call("POST", "/connections/render", "church", map[string]any{"credentials": map[string]string{"apiKey": e2eRenderKey}}, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.StatusCode, bodyOf(r))
	}
	es.waitFeed("church", ofType("connection.connected"))
	repo := store.New(dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")), es.table).Connections()
	c, err := repo.Get(context.Background(), "church", "render")
	if err != nil {
		t.Fatal(err)
	}
	stale := *c
	stale.Version-- // another writer got in first: the save's condition fails
	stale.Status = connection.StatusExpired
	if err := repo.Save(context.Background(), &stale, ""); !errors.Is(err, store.ErrConditionFailed) {
		t.Fatalf("a stale save: %v", err)
	}
	if r := es.call("DELETE", "/connections/render", "church", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("disconnect: %d %s", r.StatusCode, bodyOf(r))
	}
	es.waitFeed("church", ofType("connection.disconnected"))
	for _, e := range es.feed("church") {
		if e.Type == "connection.expired" {
			t.Fatalf("an event for a write that did not commit: %+v", e)
		}
	}
}

// Metadata, private and (outside dev) loopback addresses are refused at
// registration, and nothing is stored.
func TestWebhookURLsToForbiddenAddressesAreRefused(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	for _, u := range []string{"https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/", "https://10.0.0.8/hook", "http://203.0.113.9/hook"} {
		var p struct{ Code string }
		if r := es.call("POST", "/webhooks", "church", map[string]any{"url": u}, &p); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", u, r.StatusCode, bodyOf(r))
		}
	}
	var list struct{ Items []any }
	if r := es.call("GET", "/webhooks", "church", nil, &list); r.StatusCode != http.StatusOK || len(list.Items) != 0 {
		t.Fatalf("after refusals: %d %+v", r.StatusCode, list)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// After a rotation a receiver that already uses the new secret verifies
// the next delivery, and so would one still on the old: during the
// overlap each delivery carries a signature by each.
func TestARotatedSecretSignsAlongsideThePreviousOneDuringTheOverlap(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	rc := newReceiver(t)
	id := es.register("church", rc, "connection.connected")
	old := rc.secret
	var rot struct{ ID, Secret, PreviousSecretExpiresAt string }
	if r := es.call("POST", "/webhooks/"+id+"/rotate-secret", "church", map[string]any{"overlapSeconds": 3600}, &rot); r.StatusCode != http.StatusOK ||
		!strings.HasPrefix(rot.Secret, "whsec_") || rot.Secret == old || rot.PreviousSecretExpiresAt == "" {
		t.Fatalf("rotate: %d %s", r.StatusCode, bodyOf(r))
	}
	rc.mu.Lock()
	rc.secret = rot.Secret
	rc.mu.Unlock()
	if r := es.call("POST", "/connections/render", "church", map[string]any{"credentials": map[string]string{"apiKey": e2eRenderKey}}, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.StatusCode, bodyOf(r))
	}
	waitFor(t, func() bool { got, _, _ := rc.received(); return len(got) == 1 })
	rc.mu.Lock()
	body := rc.bodies[0]
	rc.mu.Unlock()
	if _, _, bad := rc.received(); len(bad) > 0 {
		t.Fatalf("did not verify with the new secret: %v", bad)
	}
	// The same delivery verifies under the old secret too, with the
	// headers it carried.
	waitFor(t, func() bool { ds := es.deliveries("church", id); return len(ds) == 1 && ds[0].Status == "succeeded" })
	ds := es.deliveries("church", id)
	wh, err := standardwebhooks.NewWebhook(old)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	sigs := rc.sigs
	rc.mu.Unlock()
	if len(sigs) != 1 || len(strings.Fields(sigs[0])) != 2 {
		t.Fatalf("webhook-signature %v, want two signatures during the overlap", sigs)
	}
	h := http.Header{}
	h.Set("webhook-id", ds[0].EventID)
	h.Set("webhook-timestamp", rc.timestamps[0])
	h.Set("webhook-signature", sigs[0])
	if err := wh.Verify([]byte(body), h); err != nil {
		t.Fatalf("the old secret does not verify the delivery: %v", err)
	}
}

// A recurring meeting's occurrence that cannot be made (its Teams
// connection was disconnected) is told once, with the reason, through the
// stream as make dev runs it.
func TestAnOccurrenceThatCannotBeMadeIsAnEventWithItsReason(t *testing.T) {
	t.Parallel()
	es := newEventStack(t)
	for _, p := range []string{"zoom", "microsoft-teams"} {
		if q := es.connectOAuth("church", p); q.Get("status") != "connected" {
			t.Fatalf("%s: %v", p, q)
		}
	}
	first := time.Now().Add(20 * 24 * time.Hour).UTC().Truncate(time.Minute)
	body := meetingRequest("zoom", "microsoft-teams")
	body["startTime"] = first.Format(time.RFC3339)
	body["recurrence"] = map[string]string{"rule": "FREQ=WEEKLY", "timeZone": "America/Chicago"}
	var sr meetingSeriesBody
	if r := es.call("POST", "/meeting-series", "church", body, &sr); r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	if r := es.call("DELETE", "/connections/microsoft-teams", "church", nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("disconnect: %d %s", r.StatusCode, bodyOf(r))
	}
	es.tokenRefresherTick(time.Now().Add(10 * 24 * time.Hour))
	e := es.waitFeed("church", ofType("series.occurrence_failed"))
	lerr, _ := e.Data["lastError"].(map[string]any)
	if e.Resource.Type != "meeting_series" || e.Resource.ID != sr.ID || e.Data["start"] != first.Format(time.RFC3339) || lerr["code"] != "target_not_connected" {
		t.Fatalf("event %+v", e)
	}
	var now meetingSeriesBody
	if r := es.call("GET", "/meeting-series/"+sr.ID, "church", nil, &now); r.StatusCode != http.StatusOK || now.Failure == nil || now.Failure.Code != "target_not_connected" {
		t.Fatalf("the series: %d %+v", r.StatusCode, now.Failure)
	}
}
