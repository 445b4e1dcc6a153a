package main

import (
	"context"
	"fmt"
	"github.com/switchboard-dev/switchboard/infra/cmd/dev/devenv"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// refresherTimeout is token-refresher's Lambda timeout (template.yaml, as
// make dev gives it): the run's deadline.
var refresherTimeout = devenv.Timeout(app.TokenRefresher)

// refreshScale is one token-refresher run over many due connections.
type refreshScale struct {
	n, concurrency int
	latency        time.Duration // added at the token endpoint
	platform       platform.ID
	seedTook, took time.Duration
	report         app.RunReport
	calls          roundtrip.Calls
	read, write    roundtrip.Units
	partitions     map[string]int // due items per index partition ("due DUE#CRED#3") before the run
	err            error
}

func (r refreshScale) per(n float64) float64 {
	if r.report.Done == 0 {
		return 0
	}
	return n / float64(r.report.Done)
}

// measureRefreshScale makes n connections due at once (copies of one real
// OAuth connection, each with its credentials sealed for its own tenant),
// holds every token request latency at the OAuth mock, and times one
// token-refresher run, as Lambda runs it, over them: its report, its
// calls and the DynamoDB capacity they consumed. The platform's client
// keeps its refresh token on refresh, as Google's does, so that every copy
// can refresh with it.
func measureRefreshScale(ctx context.Context, s *stack, p platform.ID, n, concurrency int, latency time.Duration, logf func(string, ...any)) (res refreshScale) {
	res = refreshScale{n: n, concurrency: concurrency, latency: latency, platform: p}
	conns := s.store.Connections()
	seed, err := conns.Get(ctx, eventTenant, p)
	if err != nil {
		res.err = fmt.Errorf("the seed connection: %w", err)
		return res
	}
	cfg, err := s.w.awsConfig(ctx)
	if err != nil {
		res.err = err
		return res
	}
	v, err := vault.FromEnv(ctx, s.w.getenv(nil), cfg)
	if err != nil {
		res.err = err
		return res
	}
	tokens, err := v.Open(ctx, seed.Sealed, vault.Context(eventTenant, string(p), vault.PurposeTokenSet, "connection"))
	if err != nil {
		res.err = fmt.Errorf("opening the seed connection's tokens: %w", err)
		return res
	}
	keep := false
	mock := s.w.sb.OAuth
	if err := mock.ConfigureClients(ctx, map[string]oauthmock.ClientConfig{sandbox.ClientID(p): {RefreshOnRefresh: &keep}}); err != nil {
		res.err = err
		return res
	}
	defer func() {
		_ = mock.Delay(context.Background(), 0)
		_ = mock.ConfigureClients(context.Background(), map[string]oauthmock.ClientConfig{sandbox.ClientID(p): {}})
	}()

	logf("refresh at scale: seeding %d due connections", n)
	began := time.Now()
	due := time.Now().Add(-time.Second)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				c := *seed
				c.Tenant = "bench-refresh-" + strconv.Itoa(i)
				c.Version, c.LeaseOwner, c.LeaseUntil, c.NextCheckAt = 0, "", time.Time{}, due
				sealed, err := v.Seal(ctx, tokens, vault.Context(c.Tenant, string(p), vault.PurposeTokenSet, "connection"))
				if err == nil {
					c.Sealed = sealed
					err = conns.Save(ctx, &c, "")
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	res.seedTook = time.Since(began)
	if len(errs) > 0 {
		res.err = fmt.Errorf("seeding: %d failed, the first: %w", len(errs), errs[0])
		return res
	}
	if res.partitions, err = duePartitionSizes(ctx, s.store); err != nil {
		res.err = err
		return res
	}
	if err := mock.Delay(ctx, latency); err != nil {
		res.err = err
		return res
	}
	opts := s.opts
	opts.Getenv = s.w.getenv(map[string]string{"REFRESH_CONCURRENCY": strconv.Itoa(concurrency)})
	handler, err := app.Scheduled(ctx, app.TokenRefresher, opts)
	if err != nil {
		res.err = err
		return res
	}
	s.w.counter.Take()
	logf("refresh at scale: one token-refresher run, concurrency %d, %v at the token endpoint", concurrency, latency)
	runCtx, cancel := context.WithTimeout(ctx, refresherTimeout)
	defer cancel()
	began = time.Now()
	res.report, res.err = handler(runCtx, events.EventBridgeEvent{ID: "bench-refresh", DetailType: "Scheduled Event", Source: "aws.events", Time: time.Now()})
	res.took = time.Since(began)
	res.calls = s.w.counter.Take()
	res.read, res.write = res.calls.Of("DynamoDB").Consumed()
	return res
}

// duePartitionSizes counts the credentials due in each partition of the
// due-work index.
func duePartitionSizes(ctx context.Context, st *store.Store) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range store.DuePartitions("DUE#CRED") {
		cursor := ""
		for {
			page, err := st.Query(ctx, store.Query{Index: part.Index, PK: part.PK, Limit: store.MaxPageSize, Cursor: cursor, Attrs: []string{"tenant"}})
			if err != nil {
				return nil, err
			}
			out[part.Index+" "+part.PK] += len(page.Items)
			if cursor = page.Cursor; cursor == "" {
				break
			}
		}
	}
	return out, nil
}
