package livestream_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram/instagramfake"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/testclock"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// clock is the shared test clock (internal/testclock).
type clock = testclock.Clock

// env is the livestream service on its own table of DynamoDB Local, with
// the four platforms' fakes and real connections, sealed by a real vault.
type env struct {
	t        *testing.T
	fix      *dynamotest.Fixture
	vault    *vault.Vault
	clock    *clock
	logs     *servicetest.Logs
	conns    *connection.Service
	yt       *youtubefake.Server
	fb       *facebookfake.Server
	ig       *instagramfake.Server
	rs       *restreamfake.Server
	svc      *livestream.Service
	tokens   map[string]string // every access token handed out, for scans
	tokensMu sync.Mutex
	cfg      livestream.Config
	stamps   *stamps
}

// stamps records, for every request a platform client sends, the test
// clock's time as it leaves: what "on time" is measured by.
type stamps struct {
	clock *clock
	next  http.RoundTripper
	mu    sync.Mutex
	sent  []stamp
}

type stamp struct {
	at   time.Time
	req  string // method, path and query
	body string
}

func (s *stamps) RoundTrip(r *http.Request) (*http.Response, error) {
	at := s.clock.Now()
	body := ""
	if r.Body != nil && r.GetBody != nil {
		if b, err := r.GetBody(); err == nil {
			raw, _ := io.ReadAll(b)
			body = string(raw)
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, stamp{at: at, req: r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery, body: body})
	s.mu.Unlock()
	return s.next.RoundTrip(r)
}

// goLiveTimes are the clock's times at which go-live requests were sent:
// YouTube's transition to live, Facebook's LIVE_NOW.
func (s *stamps) goLiveTimes() []time.Time {
	return s.matching(func(st stamp) bool {
		return strings.Contains(st.req, "/liveBroadcasts/transition") && strings.Contains(st.req, "broadcastStatus=live") ||
			strings.Contains(st.body, "status=LIVE_NOW")
	})
}

// endTimes are those of end requests: YouTube's transition to complete,
// Facebook's end_live_video.
func (s *stamps) endTimes() []time.Time {
	return s.matching(func(st stamp) bool {
		return strings.Contains(st.req, "broadcastStatus=complete") || strings.Contains(st.body, "end_live_video=true")
	})
}

func (s *stamps) matching(f func(stamp) bool) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, st := range s.sent {
		if f(st) {
			out = append(out, st.at)
		}
	}
	return out
}

const tenant = "church-1"

// igUser is the Instagram professional account the fake links to the
// user's Page.
const igUser = "17841400000000001"

func newEnv(t *testing.T, opts ...func(*dynamodb.Options)) *env {
	t.Helper()
	e := &env{t: t, fix: dynamotest.New(t, opts...), vault: vaulttest.Local(t), clock: &clock{}, logs: &servicetest.Logs{},
		yt: youtubefake.New(), fb: facebookfake.New(), ig: instagramfake.New(), rs: restreamfake.New(), tokens: map[string]string{}}
	t.Cleanup(func() { e.yt.Close(); e.fb.Close(); e.ig.Close(); e.rs.Close() })
	e.ig.AddPage("104857600000001", "Grace Church", igUser, "gracechurch")
	e.fb.SetClock(e.clock.Now)
	e.yt.SetClock(e.clock.Now)
	logger := logging.New(e.logs, "test", slog.LevelDebug)
	e.conns = connection.New(connection.Config{Repo: e.fix.Store.Connections(), Vault: e.vault, Logger: logger, Now: e.clock.Now})
	e.stamps = &stamps{clock: e.clock, next: http.DefaultTransport}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: e.stamps}
	e.cfg = livestream.Config{
		Repo: e.fix.Store.Livestreams(), Ingests: e.fix.Store.Ingests(), Series: e.fix.Store.Series(), Tokens: e.conns, Vault: e.vault, Logger: logger, Now: e.clock.Now, SleepUntil: e.clock.SleepUntil,
		Broadcasters: map[platform.ID]platform.Broadcaster{
			youtube.ID:   youtube.New(hc, e.yt.URL, youtube.WithClock(e.clock.Now)),
			facebook.ID:  facebook.New(hc, e.fb.URL, facebook.WithClock(e.clock.Now)),
			instagram.ID: instagram.New(hc, e.ig.URL),
			restream.ID:  restream.New(hc, e.rs.URL),
		},
	}
	e.svc = livestream.New(e.cfg)
	return e
}

// instance is another service over the same table: what another Lambda
// would be.
func (e *env) instance() *livestream.Service { return livestream.New(e.cfg) }

// connect stores a connected connection for the platform with a fresh
// access token, as the connection service would after an OAuth flow.
func (e *env) connect(ten string, platforms ...platform.ID) {
	e.t.Helper()
	ctx := context.Background()
	for _, p := range platforms {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		tok := "tok-" + string(p) + "-" + hex.EncodeToString(b)
		raw, _ := json.Marshal(connection.Credentials{AccessToken: tok, TokenType: "Bearer"})
		sealed, err := e.vault.Seal(ctx, raw, vault.Context(ten, string(p), vault.PurposeTokenSet, "connection"))
		if err != nil {
			e.t.Fatal(err)
		}
		now := e.clock.Now()
		c, err := e.fix.Store.Connections().Get(ctx, ten, p)
		if err != nil {
			c = &connection.Connection{Tenant: ten, Platform: p}
		}
		c.Status, c.AuthType, c.AccountID, c.Sealed = connection.StatusConnected, connection.AuthOAuth2, "acct-"+string(p), sealed
		c.ConnectedAt, c.UpdatedAt = now, now
		if err := e.fix.Store.Connections().Save(ctx, c, ""); err != nil {
			e.t.Fatal(err)
		}
		e.tokensMu.Lock()
		e.tokens[ten+"/"+string(p)] = tok
		e.tokensMu.Unlock()
	}
}

func (e *env) token(ten string, p platform.ID) string {
	e.tokensMu.Lock()
	defer e.tokensMu.Unlock()
	return e.tokens[ten+"/"+string(p)]
}

// igTarget is an Instagram target with the Live Producer ingest a user
// would paste.
func igTarget() livestream.TargetInput {
	return livestream.TargetInput{Platform: "instagram", RTMPURL: "rtmps://edgetee-upload.facebook.com:443/rtmp/", StreamKey: "IG-user-key-" + randHex(8)}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// input is a livestream starting in an hour, ending an hour later.
func (e *env) input(platforms ...string) livestream.CreateInput {
	start := e.clock.Now().Add(time.Hour).Truncate(time.Minute)
	in := livestream.CreateInput{Title: "Sunday service", Description: "Live from Grace Church", ScheduledStart: start, ScheduledEnd: start.Add(time.Hour)}
	for _, p := range platforms {
		if p == "instagram" {
			in.Targets = append(in.Targets, igTarget())
			continue
		}
		ti := livestream.TargetInput{Platform: p, Privacy: "unlisted"}
		if p == "youtube" {
			ti.MadeForKids = new(false) // YouTube's audience declaration is required
		}
		in.Targets = append(in.Targets, ti)
	}
	return in
}

func (e *env) create(in livestream.CreateInput) *livestream.Livestream {
	e.t.Helper()
	ls, err := e.svc.Create(context.Background(), tenant, "user-1", in)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return ls
}

func (e *env) get(id string) *livestream.Livestream {
	e.t.Helper()
	ls, err := e.svc.Get(context.Background(), tenant, id)
	if err != nil {
		e.t.Fatalf("get: %v", err)
	}
	return ls
}

// run is one scheduler run at the clock's time.
func (e *env) run() run.Report {
	e.t.Helper()
	rep, err := e.svc.RunDue(context.Background(), e.clock.Now(), 4)
	if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	return rep
}

// at moves the clock to t.
func (e *env) at(t time.Time) { e.clock.Set(t) }

// target is the livestream's target for p.
func target(t *testing.T, ls *livestream.Livestream, p platform.ID) livestream.Target {
	t.Helper()
	for _, tg := range ls.Targets {
		if tg.Platform == p {
			return tg
		}
	}
	t.Fatalf("no %s target in %+v", p, ls.Targets)
	return livestream.Target{}
}

// goLives counts the go-live calls each platform received.
func (e *env) goLives() map[platform.ID]int {
	fbLive := 0
	for _, r := range e.fb.Requests() {
		if r.Op == facebookfake.OpUpdate && r.Form.Get("status") == "LIVE_NOW" {
			fbLive++
		}
	}
	ytLive := 0
	for _, r := range e.yt.Requests() {
		if r.Op == youtubefake.OpBroadcastTransition && r.Query.Get("broadcastStatus") == "live" {
			ytLive++
		}
	}
	return map[platform.ID]int{youtube.ID: ytLive, facebook.ID: fbLive}
}

// rawItems is every item of the table as DynamoDB holds it, as JSON.
func (e *env) rawItems() string {
	e.t.Helper()
	b, _ := json.Marshal(dynamotest.Items(e.t, e.fix.DB, e.fix.Table))
	return string(b)
}

// secrets are every token and stream key in play: the tokens the
// connections hand out, the keys the fakes made for the livestreams'
// broadcasts, and extra ones (what users pasted).
func (e *env) secrets(list []*livestream.Livestream, extra ...string) []string {
	out := append([]string(nil), extra...)
	e.tokensMu.Lock()
	for _, tok := range e.tokens {
		out = append(out, tok)
	}
	e.tokensMu.Unlock()
	for _, ls := range list {
		for _, t := range ls.Targets {
			switch t.Platform {
			case youtube.ID:
				if b, ok := e.yt.Broadcast(t.ExternalID); ok {
					if st, ok := e.yt.Stream(b.BoundStreamID); ok {
						out = append(out, st.StreamName)
					}
				}
			case facebook.ID:
				if v, ok := e.fb.Video(t.ExternalID); ok {
					out = append(out, v.StreamKey, v.PersistentKey)
				}
			case restream.ID:
				out = append(out, e.rs.UserStreamKey())
			}
		}
	}
	return out
}

// noSecretIn fails when any secret appears in what.
func noSecretIn(t *testing.T, where, what string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 8 && strings.Contains(what, s) {
			t.Errorf("a secret (%s…) appears in %s", s[:6], where)
		}
	}
}
