package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/ontime"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// On time: the stream-scheduler's go-lives when 1,000 livestreams are due
// in the same second (infra/bench/ontime).
const (
	onTimeLivestreams = 1000
	onTimeLatency     = 150 * time.Millisecond
	onTimeConcurrency = 200 // STREAM_SCHEDULER_CONCURRENCY's default
	onTimeReadAhead   = 10 * time.Second
	onTimeBound       = 5 * time.Second
)

// onTimeResult is the measurement, or why there is none.
type onTimeResult struct {
	res ontime.Result
	err error
}

func measureOnTime(ctx context.Context, s *stack) onTimeResult {
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	kr, err := vault.NewLocalKeyring(hex.EncodeToString(kek))
	if err != nil {
		return onTimeResult{err: err}
	}
	res, err := ontime.Measure(ctx, ontime.Options{
		Store: s.store, Vault: vault.New(kr), Livestreams: onTimeLivestreams, PerTenant: 10,
		Latency: onTimeLatency, Concurrency: onTimeConcurrency, ReadAhead: onTimeReadAhead, Logf: logf,
	})
	return onTimeResult{res: res, err: err}
}

func (o onTimeResult) budget() budget {
	b := budget{name: fmt.Sprintf("%d go-lives due in the same second, platform answering in %s: every request sent 0–%s after the start",
		onTimeLivestreams, onTimeLatency, onTimeBound)}
	switch {
	case o.err != nil:
		b.verdict, b.measured, b.why = fail, "not measured", o.err.Error()
	case !o.res.Within(onTimeBound) || o.res.Live != onTimeLivestreams:
		b.verdict = fail
		b.measured = fmt.Sprintf("%d sent, %d live, %s to %s after the start", len(o.res.Late), o.res.Live, ms(o.res.Percentile(0)), ms(o.res.Percentile(100)))
	default:
		b.verdict = pass
		b.measured = fmt.Sprintf("all %d, %s to %s after the start (p50 %s)", len(o.res.Late), ms(o.res.Percentile(0)), ms(o.res.Percentile(100)), ms(o.res.Percentile(50)))
	}
	return b
}

func (o onTimeResult) write(p func(string, ...any)) {
	p("## On time\n\n")
	p("%d livestreams, 10 per tenant, each with a YouTube target, all due at the same second; the YouTube fake answers every call after %s; "+
		"the table is DynamoDB Local on this machine. One stream-scheduler run (`livestream.Service.RunDue`, concurrency %d) is ticked %s before "+
		"the start (in production a run reads at least 30 s ahead: the lead past the next tick); it reads the window, fetches the tokens and "+
		"claims each livestream ahead, then waits for the second and sends the go-lives. Each request's send time is taken as it leaves the "+
		"client (`go test -bench ThousandGoLives ./infra/bench/ontime/` measures the same).\n\n",
		onTimeLivestreams, onTimeLatency, onTimeConcurrency, onTimeReadAhead)
	if o.err != nil {
		p("Not measured: %v\n\n", o.err)
		return
	}
	r := o.res
	p("| go-lives sent | live at the fake | earliest | p50 | p99 | latest | whole run from its tick | run report |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	p("| %d | %d | %s | %s | %s | %s | %s | found %d, done %d, failed %d, skipped %d, contended %d |\n\n",
		len(r.Late), r.Live, ms(r.Percentile(0)), ms(r.Percentile(50)), ms(r.Percentile(99)), ms(r.Percentile(100)), r.Run.Round(time.Millisecond),
		r.Report.Found, r.Report.Done, r.Report.Failed, r.Report.Skipped, r.Report.Unchanged)
	p("Latest minus earliest is the platform's latency times the waves the concurrency makes (%d ÷ %d = %d waves of ≈ %s) plus the release "+
		"write each slot does after its request. DynamoDB Local is a JVM on the same CPUs; in AWS the writes that matter here are the claims, "+
		"made before the second, and the releases, made after each request is sent.\n\n",
		onTimeLivestreams, onTimeConcurrency, (onTimeLivestreams+onTimeConcurrency-1)/onTimeConcurrency, onTimeLatency)
}
