// Package ontime measures how close to their second the stream-scheduler
// sends go-live requests when many livestreams are due at once: n
// livestreams, each with a YouTube target, all due in the same second, the
// YouTube fake answering every call after a set latency (150 ms: a distant
// API), the table on DynamoDB Local. It is shared by `make bench` (the
// "On time" section of BENCHMARKS.md) and a Go benchmark.
package ontime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Options say what to measure.
type Options struct {
	Store       *store.Store
	Vault       *vault.Vault
	Livestreams int           // due in the same second (1,000)
	PerTenant   int           // livestreams per tenant (10: a church's week is a handful)
	Latency     time.Duration // how long the platform takes to answer each call (150 ms)
	Concurrency int           // the scheduler's (STREAM_SCHEDULER_CONCURRENCY)
	// ReadAhead is how long before the start the run is ticked. In
	// production it is at least the scheduler's lead (30 s); less here
	// keeps the bench short and is harsher.
	ReadAhead time.Duration
	Logf      func(string, ...any)
}

// Result is what one measurement found.
type Result struct {
	Options
	// Late is each go-live request's send time after the start (negative:
	// early), sorted.
	Late   []time.Duration
	Report run.Report
	// Run is how long the whole run took, from its tick.
	Run  time.Duration
	Live int // broadcasts live at the fake afterwards
}

// Percentile is the p-th percentile (0–100) of Late.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Late) == 0 {
		return 0
	}
	i := int(float64(len(r.Late)-1) * p / 100)
	return r.Late[i]
}

// Within reports whether every livestream's go-live request was sent at or
// after its start and within bound of it.
func (r Result) Within(bound time.Duration) bool {
	return len(r.Late) == r.Livestreams && r.Late[0] >= 0 && r.Late[len(r.Late)-1] <= bound
}

// youTube is the platform measured, named through its fake.
const youTube = platform.ID(youtubefake.PlatformID)

// clock is the real time shifted, so that a start set up minutes ahead
// arrives a few seconds after the run begins.
type clock struct{ shift atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.shift.Load())) }

// stamper records the clock's time as each go-live request leaves.
type stamper struct {
	clock *clock
	next  http.RoundTripper
	mu    sync.Mutex
	sent  []time.Time
}

func (s *stamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/liveBroadcasts/transition") && r.URL.Query().Get("broadcastStatus") == "live" {
		at := s.clock.Now()
		s.mu.Lock()
		s.sent = append(s.sent, at)
		s.mu.Unlock()
	}
	return s.next.RoundTrip(r)
}

// Measure sets the livestreams up (with no platform latency), then ticks
// one scheduler run ReadAhead before their common start and records when
// each go-live request is sent.
func Measure(ctx context.Context, o Options) (Result, error) {
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	res := Result{Options: o}
	yt := youtubefake.New()
	defer yt.Close()
	clk := &clock{}
	st := &stamper{clock: clk, next: &http.Transport{MaxIdleConnsPerHost: o.Concurrency, IdleConnTimeout: time.Minute}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: st}
	conns := connection.New(connection.Config{Repo: o.Store.Connections(), Vault: o.Vault, Now: clk.Now})
	run := fmt.Sprintf("ontime-%d", time.Now().UnixNano())
	// The client as the registry builds it in production, counting every
	// call in the quota ledger (each go-live is then also an ADD to the
	// day's one ledger item), with a quota large enough for the bench's
	// livestreams under a project of this run's own.
	reg, ok := registry.Registration(string(youTube))
	if !ok {
		return Result{}, fmt.Errorf("ontime: %s is not registered", youTube)
	}
	// Its one setting is the daily quota (this package names no platform).
	settings := map[string]string{}
	for _, st := range reg.Settings {
		if quota := strconv.Itoa(1000 * o.Livestreams); st.Check == nil || st.Check(quota) == nil {
			settings[st.Name] = quota
		}
	}
	bc, ok := reg.New(platform.ClientDeps{HTTP: hc, Endpoints: platform.Endpoints{APIURL: yt.URL, ClientID: run},
		Settings: settings, Ledger: o.Store.QuotaLedger()}).(platform.Broadcaster)
	if !ok {
		return Result{}, fmt.Errorf("ontime: the %s client is not a Broadcaster", youTube)
	}
	svc := livestream.New(livestream.Config{
		Repo: o.Store.Livestreams(), Tokens: conns, Vault: o.Vault, Now: clk.Now,
		Broadcasters: map[platform.ID]platform.Broadcaster{youTube: bc},
	})

	tenants := (o.Livestreams + o.PerTenant - 1) / o.PerTenant
	for i := range tenants {
		if err := connect(ctx, o, fmt.Sprintf("%s-%d", run, i)); err != nil {
			return res, err
		}
	}
	start := clk.Now().Add(10 * time.Minute).Truncate(time.Second)
	o.Logf("setting up %d livestreams due at one second", o.Livestreams)
	if err := createAll(ctx, svc, run, start, o); err != nil {
		return res, err
	}

	yt.PushAll() // every encoder pushes
	// The preflight 10 minutes before (no latency: not measured), so the
	// measured run has only the starts to do, as in production.
	clk.shift.Store(int64(time.Until(start.Add(-10*time.Minute + time.Second))))
	if rep, err := svc.RunDue(ctx, clk.Now(), o.Concurrency); err != nil || rep.Done != o.Livestreams {
		return res, fmt.Errorf("the preflight run: %+v %v", rep, err)
	}
	yt.SetLatency(o.Latency)
	tick := start.Add(-o.ReadAhead)
	clk.shift.Store(int64(time.Until(tick)))
	began := clk.Now()
	o.Logf("one scheduler run, ticked %s before the start, concurrency %d", o.ReadAhead, o.Concurrency)
	rctx, cancel := context.WithTimeout(ctx, devenv.Timeout(app.StreamSched))
	defer cancel()
	rep, err := svc.RunDue(rctx, tick, o.Concurrency)
	res.Run, res.Report = clk.Now().Sub(began), rep
	if err != nil {
		return res, err
	}
	st.mu.Lock()
	for _, at := range st.sent {
		res.Late = append(res.Late, at.Sub(start))
	}
	st.mu.Unlock()
	slices.Sort(res.Late)
	for _, id := range yt.BroadcastIDs() {
		if b, ok := yt.Broadcast(id); ok && b.LifeCycleStatus == "live" {
			res.Live++
		}
	}
	return res, nil
}

// connect stores a connected YouTube connection for the tenant, as an
// OAuth flow would leave it.
func connect(ctx context.Context, o Options, tenant string) error {
	raw, err := json.Marshal(connection.Credentials{AccessToken: "tok-" + tenant, TokenType: "Bearer"})
	if err != nil {
		return err
	}
	sealed, err := o.Vault.Seal(ctx, raw, vault.Context(tenant, string(youTube), vault.PurposeTokenSet, "connection"))
	if err != nil {
		return err
	}
	now := time.Now()
	return o.Store.Connections().Save(ctx, &connection.Connection{
		Tenant: tenant, Platform: youTube, Status: connection.StatusConnected, AuthType: connection.AuthOAuth2,
		AccountID: "acct-" + tenant, Sealed: sealed, ConnectedAt: now, UpdatedAt: now,
	}, "")
}

// createAll creates the livestreams through the service, 32 at a time.
func createAll(ctx context.Context, svc *livestream.Service, run string, start time.Time, o Options) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, 32)
	)
	for i := range o.Livestreams {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			_, err := svc.Create(ctx, fmt.Sprintf("%s-%d", run, i/o.PerTenant), "bench", livestream.CreateInput{
				Title: fmt.Sprintf("Sunday service %d", i), ScheduledStart: start, ScheduledEnd: start.Add(time.Hour),
				Targets: []livestream.TargetInput{{Platform: string(youTube), MadeForKids: new(false)}},
			})
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("creating livestream %d: %w", i, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
