package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// loadRoute is a route put under load.
type loadRoute struct {
	name, method, path, body string
	tenant                   string // whose token is sent; rtTenant when empty
	absent                   bool   // the route does not answer 200 yet: not measured
	budget                   bool   // held to the p50 budget against its like-for-like baseline
	why                      string // for a route outside the budget: why
}

// likeForLike records one request of r and returns its baseline: the
// replay route of the DynamoDB calls it made, called as r's tenant.
func likeForLike(ctx context.Context, s *stack, r loadRoute) (loadRoute, error) {
	tenant := r.tenant
	if tenant == "" {
		tenant = rtTenant
	}
	path, err := s.w.replays.record(func() (int, error) {
		st, body, err := s.call(ctx, r.method, r.path, tenant, nil, nil)
		if err == nil && st != 200 {
			err = fmt.Errorf("%s answered %d: %s", r.name, st, trunc.String(string(body), 200))
		}
		return len(body), err
	})
	if err != nil {
		return loadRoute{}, err
	}
	return loadRoute{name: "baseline of " + r.name, method: "GET", path: path, tenant: tenant}, nil
}

// heyResult is the pooled outcome of a route's hey runs.
type heyResult struct {
	requests int
	rps      float64
	p50, p99 time.Duration
}

// loadResult is a route's runs beside the baseline's, interleaved with
// them.
type loadResult struct {
	route         loadRoute
	baseline      heyResult
	baselineCalls string // what the like-for-like baseline replays: "GetItem 1, Query 1"
	got           heyResult
	reason        string // not measured: why
}

func (l loadResult) ratio() float64 {
	if l.baseline.p50 <= 0 {
		return 0
	}
	return float64(l.got.p50) / float64(l.baseline.p50)
}

// loadSettings bound every hey run: a fixed number of requests at a fixed
// concurrency, against 127.0.0.1 only.
type loadSettings struct {
	hey         string
	pin         []string // the command hey runs under (taskset), when pinned
	refreshes   int      // due connections of the refresh-at-scale run
	cpu         *heyCPU  // hey's CPU time over every run
	base        string   // the gateway's base URL, on 127.0.0.1
	requests    int      // per route, split over rounds
	rounds      int      // route and baseline runs alternate this many times
	concurrency int
	warmup      int
}

// mainRoutes lists the routes to put under load: the reads every client
// makes (the capabilities' only when they answer), a one-Query handler
// that shows what DynamoDB Local's Query costs next to its GetItem, and
// one write that costs a KMS call by contract, for comparison.
func mainRoutes(ctx context.Context, s *stack) []loadRoute {
	routes := []loadRoute{
		{name: "GET /platforms", method: "GET", path: "/platforms", budget: true},
		{name: "GET /connections", method: "GET", path: "/connections", budget: true},
		{name: "GET /connections/{p}", method: "GET", path: "/connections/youtube", budget: true},
	}
	// A capability's routes join when it answers; its first item is the one read.
	firstID := func(path string) (string, bool) {
		var page struct{ Items []struct{ ID string } }
		st, _, err := s.call(ctx, "GET", path, rtTenant, nil, &page)
		if err != nil || st != 200 {
			return "", false
		}
		if len(page.Items) == 0 {
			return "", true
		}
		return page.Items[0].ID, true
	}
	for _, c := range []struct{ list, item string }{{"/livestreams", "/livestreams/{id}"}, {"/meetings", "/meetings/{id}"}, {"/deployments", "/deployments/{id}"}} {
		id, ok := firstID(c.list)
		if !ok {
			// Listed as not measured; a capability that is not there fails no budget.
			routes = append(routes, loadRoute{name: "GET " + c.list, path: c.list, absent: true})
			continue
		}
		routes = append(routes, loadRoute{name: "GET " + c.list, method: "GET", path: c.list, budget: true})
		if id != "" {
			routes = append(routes, loadRoute{name: "GET " + c.item, method: "GET", path: strings.Replace(c.item, "{id}", id, 1), budget: true})
		}
	}
	if st, _, err := s.call(ctx, "GET", "/deployments/limits", rtTenant, nil, nil); err == nil && st == 200 {
		routes = append(routes, loadRoute{name: "GET /deployments/limits", method: "GET", path: "/deployments/limits", budget: true})
	} else {
		routes = append(routes, loadRoute{name: "GET /deployments/limits", path: "/deployments/limits", absent: true})
	}
	body, _ := json.Marshal(map[string]string{"returnTo": appURL + "/settings"})
	routes = append(routes, loadRoute{name: "POST /connections/{p}/oauth", method: "POST", path: "/connections/youtube/oauth", body: string(body),
		why: "a write that seals a secret: one PutItem and one KMS GenerateDataKey by contract; beside the one-GetItem baseline, not held to it"})
	return routes
}

// measureLatency runs each route under hey in rounds that alternate with
// the baseline's, and profiles this process's CPU while it does.
func measureLatency(ctx context.Context, s *stack, set loadSettings, profilePath string, logf func(string, ...any)) ([]loadResult, error) {
	set.base = s.base
	tokens := map[string]string{}
	for _, tenant := range []string{rtTenant, baselineTenant} {
		tok, err := s.token(tenant)
		if err != nil {
			return nil, err
		}
		tokens[tenant] = tok
	}
	baseline := loadRoute{name: "baseline", method: "GET", path: baselinePath, tenant: baselineTenant}
	logf("latency: warming up DynamoDB Local and the stack")
	for range 3 {
		if _, err := runHey(ctx, set, baseline, tokens, set.warmup); err != nil {
			return nil, err
		}
	}
	f, err := os.Create(profilePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	defer pprof.StopCPUProfile()
	var out []loadResult
	for _, r := range mainRoutes(ctx, s) {
		logf("latency: %s", r.name)
		res := loadResult{route: r}
		if r.absent {
			res.reason = "it does not answer 200 yet (its capability is not built, or it has nothing to read)"
			out = append(out, res)
			continue
		}
		base := baseline
		if r.budget {
			if base, err = likeForLike(ctx, s, r); err != nil {
				res.reason = "recording its baseline: " + err.Error()
				out = append(out, res)
				continue
			}
			res.baselineCalls = s.w.replays.last()
		}
		res.baseline, res.got, err = alternate(ctx, set, base, r, tokens)
		if err != nil {
			res.reason = err.Error()
		}
		out = append(out, res)
	}
	return out, nil
}

// alternate warms r up, then runs the baseline and r in turns (B R R B B
// R ...), so that drift in the machine's load falls on both alike, and
// pools each one's samples.
func alternate(ctx context.Context, set loadSettings, baseline, r loadRoute, tokens map[string]string) (heyResult, heyResult, error) {
	if _, err := runHey(ctx, set, r, tokens, set.warmup); err != nil {
		return heyResult{}, heyResult{}, err
	}
	per := max(set.concurrency, set.requests/max(1, set.rounds))
	var base, got []heySample
	var baseTime, gotTime float64
	for i := range max(1, set.rounds) {
		order := []loadRoute{baseline, r}
		if i%2 == 1 {
			order = []loadRoute{r, baseline}
		}
		for _, route := range order {
			run, err := runHey(ctx, set, route, tokens, per)
			if err != nil {
				return heyResult{}, heyResult{}, err
			}
			if route.path == baseline.path {
				base, baseTime = append(base, run...), baseTime+duration(run)
			} else {
				got, gotTime = append(got, run...), gotTime+duration(run)
			}
		}
	}
	return summarise(base, baseTime), summarise(got, gotTime), nil
}

// heyCPU is the load generator's share of the machine: the CPU time its
// processes used against the wall time they ran.
type heyCPU struct {
	mu         sync.Mutex
	cpu, wall  time.Duration
	pinnedTo   string // "CPU 1" when hey ran under taskset
	pinMissing string // why it was not pinned
}

func (h *heyCPU) add(cpu, wall time.Duration) {
	h.mu.Lock()
	h.cpu += cpu
	h.wall += wall
	h.mu.Unlock()
}

// describe says what share of the CPUs hey took, and where it ran.
func (h *heyCPU) describe(cpus int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wall <= 0 {
		return "hey's CPU time was not measured."
	}
	share := float64(h.cpu) / float64(h.wall)
	where := "pinned to " + h.pinnedTo + " with taskset (the stack and DynamoDB Local may still use that CPU too; taskset only keeps hey off the others)"
	if h.pinnedTo == "" {
		where = "not pinned: " + h.pinMissing
	}
	return fmt.Sprintf("The load generator's own share: hey used %.1f s of CPU over the %.1f s its runs took, %.0f%% of one CPU (%.0f%% of the machine's %d); %s.",
		h.cpu.Seconds(), h.wall.Seconds(), 100*share, 100*share/float64(cpus), cpus, where)
}

// pinHey runs hey on the machine's last CPU when taskset is there and the
// machine has more than one.
func pinHey(set *loadSettings) {
	set.cpu = &heyCPU{}
	cpus := runtime.NumCPU()
	path, err := exec.LookPath("taskset")
	switch {
	case cpus < 2:
		set.cpu.pinMissing = "the machine has one CPU"
	case err != nil:
		set.cpu.pinMissing = "taskset is not installed"
	default:
		last := strconv.Itoa(cpus - 1)
		set.pin, set.cpu.pinnedTo = []string{path, "-c", last}, "CPU "+last
	}
}

// heySample is one request of a hey run, from its CSV output.
type heySample struct {
	latency float64 // seconds
	status  int
	end     float64 // seconds since the run began: offset + latency
}

// runHey sends n requests to one route, set.concurrency at a time, and
// checks that every one was answered with a success.
func runHey(ctx context.Context, set loadSettings, r loadRoute, tokens map[string]string, n int) ([]heySample, error) {
	n -= n % set.concurrency // hey sends n/c requests per worker
	tenant := r.tenant
	if tenant == "" {
		tenant = rtTenant
	}
	args := []string{"-n", strconv.Itoa(n), "-c", strconv.Itoa(set.concurrency), "-t", "20", "-o", "csv", "-m", r.method,
		"-H", "Authorization: Bearer " + tokens[tenant]}
	if r.body != "" {
		args = append(args, "-T", "application/json", "-d", r.body)
	}
	args = append(args, set.base+r.path)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	argv := append(append(append([]string(nil), set.pin...), set.hey), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("hey %s: %w: %s", r.name, err, trunc.String(stderr.String(), 300))
	}
	if set.cpu != nil && cmd.ProcessState != nil {
		set.cpu.add(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), time.Since(began))
	}
	samples, err := parseHeyCSV(string(out))
	if err != nil {
		return nil, fmt.Errorf("hey %s: %w", r.name, err)
	}
	ok := 0
	for _, s := range samples {
		if s.status >= 200 && s.status < 300 {
			ok++
		}
	}
	// hey leaves requests that failed in transport out of its CSV.
	if ok != n {
		return nil, fmt.Errorf("hey %s: %d of %d requests were answered with a success", r.name, ok, n)
	}
	return samples, nil
}

// parseHeyCSV reads hey -o csv: response-time, DNS+dialup, DNS,
// Request-write, Response-delay, Response-read, status-code, offset.
func parseHeyCSV(out string) ([]heySample, error) {
	var samples []heySample
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if i == 0 {
			if len(f) != 8 || f[0] != "response-time" || f[6] != "status-code" || f[7] != "offset" {
				return nil, fmt.Errorf("hey's CSV header is %q", line)
			}
			continue
		}
		if len(f) != 8 {
			return nil, fmt.Errorf("hey's CSV line %d is %q", i+1, line)
		}
		lat, err1 := strconv.ParseFloat(f[0], 64)
		status, err2 := strconv.Atoi(f[6])
		offset, err3 := strconv.ParseFloat(f[7], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("hey's CSV line %d is %q", i+1, line)
		}
		samples = append(samples, heySample{latency: lat, status: status, end: offset + lat})
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("hey reported no request")
	}
	return samples, nil
}

// duration is how long a run took: until its last answer.
func duration(run []heySample) float64 {
	end := 0.0
	for _, s := range run {
		end = max(end, s.end)
	}
	return end
}

// summarise pools samples into percentiles (nearest rank) and a rate over
// the runs' summed time.
func summarise(samples []heySample, seconds float64) heyResult {
	if len(samples) == 0 {
		return heyResult{}
	}
	lat := make([]float64, len(samples))
	for i, s := range samples {
		lat[i] = s.latency
	}
	sort.Float64s(lat)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(lat)))) - 1
		return time.Duration(lat[max(0, i)] * float64(time.Second))
	}
	res := heyResult{requests: len(samples), p50: rank(0.50), p99: rank(0.99)}
	if seconds > 0 {
		res.rps = float64(len(samples)) / seconds
	}
	return res
}

// cpuShare is a package's share of the sampled CPU.
type cpuShare struct {
	pkg  string
	flat float64 // percent
}

// cpuProfile is the summary of the load runs' CPU profile.
type cpuProfile struct {
	total    string // the sampled CPU time, as pprof says it
	packages []cpuShare
	err      error
}

func (p cpuProfile) share(prefixes ...string) float64 {
	sum := 0.0
	for _, s := range p.packages {
		for _, pre := range prefixes {
			if s.pkg == pre || strings.HasPrefix(s.pkg, pre+"/") {
				sum += s.flat
				break
			}
		}
	}
	return sum
}

var pprofTotal = regexp.MustCompile(`Total samples = (\S+)`)

// readProfile summarises a CPU profile by package with go tool pprof.
func readProfile(ctx context.Context, exe, profile string) cpuProfile {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return cpuProfile{err: err}
	}
	out, err := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", "-nodecount=100000", exe, profile).Output()
	if err != nil {
		return cpuProfile{err: fmt.Errorf("go tool pprof: %w", err)}
	}
	return parsePprofTop(string(out))
}

// parsePprofTop groups pprof -top rows (flat, flat%, sum%, cum, cum%,
// function) by the function's package.
func parsePprofTop(out string) cpuProfile {
	p := cpuProfile{}
	if m := pprofTotal.FindStringSubmatch(out); m != nil {
		p.total = m[1]
	}
	by := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	rows := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 5 && f[0] == "flat" && f[1] == "flat%" {
			rows = true
			continue
		}
		if !rows || len(f) < 6 {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		by[packageOf(f[5])] += pct
	}
	for pkg, flat := range by {
		p.packages = append(p.packages, cpuShare{pkg: pkg, flat: flat})
	}
	sort.Slice(p.packages, func(i, j int) bool {
		if p.packages[i].flat != p.packages[j].flat {
			return p.packages[i].flat > p.packages[j].flat
		}
		return p.packages[i].pkg < p.packages[j].pkg
	})
	if len(p.packages) == 0 {
		p.err = fmt.Errorf("no rows in pprof's output")
	}
	return p
}

// packageOf is a symbol's package path: "encoding/json.(*decodeState).object"
// is "encoding/json". Assembly routines appear without one: the P-256
// field arithmetic is crypto's, the rest the runtime's (memmove, hashing).
func packageOf(sym string) string {
	if !strings.ContainsAny(sym, "./") {
		if strings.HasPrefix(sym, "p256") {
			return "crypto/internal/fips140/nistec"
		}
		return "runtime"
	}
	dir, rest := "", sym
	if i := strings.LastIndexByte(sym, '/'); i >= 0 {
		dir, rest = sym[:i+1], sym[i+1:]
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return dir + rest
}

// executable is this program, for pprof's symbols.
func executable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if abs, err := filepath.EvalSymlinks(exe); err == nil {
		return abs
	}
	return exe
}
