package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/runtimeapi"
	"github.com/switchboard-dev/switchboard/infra/eventfile"
	"github.com/switchboard-dev/switchboard/infra/gateway"
)

// hello is the name of the hello-world function beside the real ones;
// helloSDK is hello world that also builds the DynamoDB and KMS clients:
// the floor under any function that uses them.
const (
	hello    = "hello"
	helloSDK = "hellosdk"
)

// firstEvents is the sample event each function is started with: the one
// in events/ for its main work (firstRoutes moves one to another route).
// Hello world gets any event; it ignores it. seedFirstEvents readies the
// world so that each does its real work.
var firstEvents = map[string]string{
	"oauth":            "oauth-start.json",
	"connections":      "connections-list-platforms.json",
	"livestreams":      "livestreams-create.json",
	"meetings":         "meetings-create.json",
	"stream-scheduler": "stream-scheduler.json",
	"token-refresher":  "token-refresher.json",
	"deployments":      "deployments-create.json",
	"deploy-worker":    "deploy-worker.json",
	"event-dispatcher": "event-dispatcher.json",
	"webhooks":         "webhooks-list.json",
	hello:              "connections-list-platforms.json",
	helloSDK:           "connections-list-platforms.json",
}

// firstRoutes sends a function's sample event to another of its routes:
// GET /platforms reads nothing, GET /connections reads the tenant's
// connections, as most of the function's calls do.
var firstRoutes = map[string][2]string{"connections": {"GET", "/connections"}}

// readFirstEvent is fn's first event, refreshed at now.
func readFirstEvent(eventsDir, fn string, now time.Time) ([]byte, error) {
	ev, err := eventfile.Read(filepath.Join(eventsDir, firstEvents[fn]), now)
	if err != nil {
		return nil, err
	}
	if r, ok := firstRoutes[fn]; ok {
		return retargetHTTPEvent(ev, r[0], r[1])
	}
	return ev, nil
}

// eventName names fn's first event in the report.
func eventName(fn string) string {
	if r, ok := firstRoutes[fn]; ok {
		return firstEvents[fn] + " as " + r[0] + " " + r[1]
	}
	return firstEvents[fn]
}

// bootSample is one cold start, timed from just before the process is
// started.
type bootSample struct {
	ready time.Duration // until the function first asked for work (its init was done)
	total time.Duration // until its first answer had arrived
}

// coldStart is one function's cold starts.
type coldStart struct {
	function, event string
	samples         []bootSample
	answer          string // what the first answer was, briefly
	err             error
}

func (c coldStart) medianTotal() time.Duration {
	return median(c.samples, func(s bootSample) time.Duration { return s.total })
}
func (c coldStart) minTotal() time.Duration {
	return minOf(c.samples, func(s bootSample) time.Duration { return s.total })
}
func (c coldStart) medianReady() time.Duration {
	return median(c.samples, func(s bootSample) time.Duration { return s.ready })
}

// boot starts bin once under a fresh Runtime API that already holds event,
// waits for its first answer, and stops it. stderr gets the process's
// standard error when not nil.
func boot(ctx context.Context, bin, function string, env []string, event []byte, stderr *bytes.Buffer) (bootSample, []byte, error) {
	rt, err := runtimeapi.Start(runtimeapi.Options{FunctionARN: gateway.FunctionARN(region, gateway.DefaultAccountID, function)})
	if err != nil {
		return bootSample{}, nil, err
	}
	defer rt.Close()
	inv := rt.Enqueue(event) // queued first: the function's first call for work gets it at once
	var logs limitedBuffer
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.Addr)
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if stderr != nil {
		cmd.Stderr = stderr
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return bootSample{}, nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	type answer struct {
		res runtimeapi.Result
		err error
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := rt.Wait(ctx, inv)
		answered <- answer{res, err}
	}()
	select {
	case a := <-answered:
		if a.err != nil {
			return bootSample{}, nil, fmt.Errorf("%s: %w; its output: %s", function, a.err, logs.String())
		}
		if a.res.Err != nil {
			return bootSample{}, nil, fmt.Errorf("%s reported an error: %v", function, a.res.Err)
		}
		return bootSample{ready: rt.FirstNext().Sub(start), total: a.res.Done.Sub(start)}, a.res.Payload, nil
	case err := <-exited:
		exited <- err // for the deferred wait
		return bootSample{}, nil, fmt.Errorf("%s exited before answering (%v); its output: %s", function, err, logs.String())
	}
}

// measureColdStarts starts every function and hello world runs+1 times,
// interleaved so that drift in the machine's load spreads evenly; the
// first round warms the page cache and is not counted.
func measureColdStarts(ctx context.Context, w *world, hostDir, eventsDir string, functions []string, runs int, prepare map[string]prepareBoot, logf func(string, ...any)) ([]coldStart, error) {
	home, err := os.MkdirTemp("", "bench-home-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(home)
	all := append([]string{hello, helloSDK}, functions...)
	out := make([]coldStart, len(all))
	events := make([][]byte, len(all))
	for i, fn := range all {
		out[i] = coldStart{function: fn, event: eventName(fn)}
		if events[i], err = readFirstEvent(eventsDir, fn, time.Now()); err != nil {
			return nil, err
		}
	}
	for round := 0; round <= runs; round++ {
		logf("cold starts: round %d of %d", round, runs)
		for i, fn := range all {
			if out[i].err != nil {
				continue
			}
			env := w.bootEnv(fn, home, coldStartEnv)
			event := events[i]
			if p := prepare[fn]; p != nil {
				if event, err = p(ctx, event); err != nil {
					out[i].err = fmt.Errorf("readying the world for its start: %w", err)
					continue
				}
			}
			s, payload, err := boot(ctx, filepath.Join(hostDir, fn, "bootstrap"), fn, env, event, nil)
			if err != nil {
				out[i].err = err
				continue
			}
			if round == 0 {
				out[i].answer = describeAnswer(payload)
				continue
			}
			out[i].samples = append(out[i].samples, s)
		}
	}
	return out, nil
}

// coldStartEnv lifts the deployment limit for the cold starts (the same
// user's deployment is made a few dozen times, and each should do the
// same work rather than meet the limit), and has deploy-worker poll the
// Vercel fake every 50 ms instead of every 2 s, so that its first event
// (a deployment run to its end) waits on the fake's work, not on the
// production pace between polls.
var coldStartEnv = map[string]string{"MAX_DEPLOYMENTS_PER_HOUR": "100000", "DEPLOY_POLL_INTERVAL_MS": "50"}

// describeAnswer says briefly what a function answered: an HTTP status
// and problem code, or a scheduled or stream function's report.
func describeAnswer(payload []byte) string {
	var resp struct {
		StatusCode *int   `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal(payload, &resp) == nil && resp.StatusCode != nil {
		var problem struct{ Code string }
		if json.Unmarshal([]byte(resp.Body), &problem) == nil && problem.Code != "" {
			return fmt.Sprintf("%d %s", *resp.StatusCode, problem.Code)
		}
		return strconv.Itoa(*resp.StatusCode)
	}
	s := strings.TrimSpace(string(payload))
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// initCost is one package's init as GODEBUG=inittrace=1 reports it.
type initCost struct {
	pkg    string
	at     float64 // ms since the runtime started
	clock  float64 // ms
	bytes  int64
	allocs int64
}

// initTrace is a function's package inits.
type initTrace struct {
	function string
	inits    []initCost
	// afterInits is, over the traced runs, the median time from the end of
	// the package inits (in the trace's clock) to the first request for
	// work: the exec, main's wiring, lambda.Start and the first connection
	// to the Runtime API.
	afterInits time.Duration
	err        error
}

// total is the summed clock time of every package init.
func (t initTrace) total() float64 {
	sum := 0.0
	for _, c := range t.inits {
		sum += c.clock
	}
	return sum
}

// end is when the last package init finished, in ms since the runtime
// started: roughly when main began.
func (t initTrace) end() float64 {
	end := 0.0
	for _, c := range t.inits {
		end = max(end, c.at+c.clock)
	}
	return end
}

func (t initTrace) heaviest(n int) []initCost {
	s := append([]initCost(nil), t.inits...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].clock > s[j].clock })
	return s[:min(n, len(s))]
}

var initLine = regexp.MustCompile(`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// parseInitTrace reads the init lines of GODEBUG=inittrace=1 output.
func parseInitTrace(out string) []initCost {
	var costs []initCost
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[2], 64)
		clock, _ := strconv.ParseFloat(m[3], 64)
		b, _ := strconv.ParseInt(m[4], 10, 64)
		a, _ := strconv.ParseInt(m[5], 10, 64)
		costs = append(costs, initCost{pkg: m[1], at: at, clock: clock, bytes: b, allocs: a})
	}
	return costs
}

// traceRuns is how often each function is traced; the package inits come
// from the first run, the time after them is the median.
const traceRuns = 5

// traceInits runs each function traceRuns times with GODEBUG=inittrace=1.
func traceInits(ctx context.Context, w *world, hostDir, eventsDir string, functions []string, prepare map[string]prepareBoot) []initTrace {
	home, err := os.MkdirTemp("", "bench-home-")
	if err != nil {
		return []initTrace{{function: "all", err: err}}
	}
	defer os.RemoveAll(home)
	var out []initTrace
	for _, fn := range append([]string{hello, helloSDK}, functions...) {
		t := initTrace{function: fn}
		first, err := readFirstEvent(eventsDir, fn, time.Now())
		var after []time.Duration
		for run := 0; err == nil && run < traceRuns; run++ {
			var stderr bytes.Buffer
			env := append(w.bootEnv(fn, home, coldStartEnv), "GODEBUG=inittrace=1")
			event := first
			if p := prepare[fn]; p != nil {
				if event, err = p(ctx, event); err != nil {
					break
				}
			}
			var s bootSample
			if s, _, err = boot(ctx, filepath.Join(hostDir, fn, "bootstrap"), fn, env, event, &stderr); err != nil {
				break
			}
			inits := parseInitTrace(stderr.String())
			if run == 0 {
				t.inits = inits
			}
			end := time.Duration(initTrace{inits: inits}.end() * float64(time.Millisecond))
			after = append(after, s.ready-end)
		}
		t.afterInits = median(after, func(d time.Duration) time.Duration { return d })
		t.err = err
		out = append(out, t)
	}
	return out
}

// limitedBuffer keeps the first 64 KiB written to it; safe for the
// concurrent writes of a process's stdout and stderr.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// median and minOf summarise samples; zero when there are none.
func median[T any](xs []T, f func(T) time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = f(x)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if n := len(ds); n%2 == 0 {
		return (ds[n/2-1] + ds[n/2]) / 2
	}
	return ds[len(ds)/2]
}

func minOf[T any](xs []T, f func(T) time.Duration) time.Duration {
	var m time.Duration
	for i, x := range xs {
		if d := f(x); i == 0 || d < m {
			m = d
		}
	}
	return m
}
