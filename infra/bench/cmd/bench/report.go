package main

import (
	_ "embed"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// scaleOnPaper is the part of BENCHMARKS.md that works out cost and limits
// at scale: written by hand as a text/template whose numbers come from the
// measurements (scaleFigures), kept beside the generator.
//
//go:embed scale.md
var scaleOnPaper string

// initFindings is what the init traces and a look at the code found,
// written down with the owner of each item; kept beside the generator.
//
//go:embed init.md
var initFindings string

// Budget limits (issue 8).
const (
	maxColdRatio    = 1.3 // issue 16: init alone, the first event's work reported beside it
	maxBootstrap    = 12 << 20
	maxLatencyRatio = 1.5
	maxRateLimitOps = 2
)

type verdict int

const (
	pass verdict = iota
	fail
	absent // the capability is not built yet: not measured, not failed
)

func (v verdict) String() string {
	switch v {
	case pass:
		return "pass"
	case fail:
		return "**FAIL**"
	}
	return "not measured"
}

// budget is one line of the budget table.
type budget struct {
	name     string
	measured string
	verdict  verdict
	why      string // for a failure or a budget not measured: why
}

// size is one function's build output.
type size struct {
	function       string
	bootstrap, zip int64
	hostBootstrap  int64
	err            error
}

// results is everything one run measured.
type results struct {
	started, finished time.Time
	sizes             []size
	cold              []coldStart
	inits             []initTrace
	trips             []rtResult
	load              []loadResult
	profile           cpuProfile
	codec             codecCost
	items             []itemSize
	wiringCalls       roundtrip.Calls
	loadBefore        string // the machine's load average as the bench began
	tookNote          string // what the time above includes
	settings          loadSettings
	runs              int
	problems          []string // things that went wrong outside a measurement
	refresh           refreshScale
	life              []lifeStep
	vercel            vercelDeploy
	events            eventDispatch
	onTime            onTimeResult
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func (r *results) coldOf(fn string) (coldStart, bool) {
	for _, c := range r.cold {
		if c.function == fn {
			return c, true
		}
	}
	return coldStart{}, false
}

func (r *results) trip(name string) rtResult {
	for _, t := range r.trips {
		if t.op.name == name {
			return t
		}
	}
	return rtResult{reason: "not run"}
}

// budgets evaluates issue 8's budgets.
func (r *results) budgets() []budget {
	var out []budget

	// Cold start against hello world: init only (process start → ready for
	// the first event); the first event's own work is reported beside it.
	b := budget{name: fmt.Sprintf("cold start: median init (process start → ready for the first event) ≤ %.1f× hello world's in the same run", maxColdRatio)}
	if h, ok := r.coldOf(hello); !ok || h.err != nil || len(h.samples) == 0 {
		b.verdict, b.measured, b.why = fail, "no hello-world baseline", fmt.Sprint(h.err)
	} else {
		worst, worstRatio, over, errs := "", 0.0, 0, 0
		for _, c := range r.cold {
			if c.function == hello || c.function == helloSDK {
				continue
			}
			if c.err != nil || len(c.samples) == 0 {
				errs++
				continue
			}
			ratio := float64(c.medianReady()) / float64(h.medianReady())
			if ratio > worstRatio {
				worst, worstRatio = c.function, ratio
			}
			if ratio > maxColdRatio {
				over++
			}
		}
		c, _ := r.coldOf(worst)
		b.measured = fmt.Sprintf("worst %s %.2f× (%s vs %s; its first event then took %s more); %d of %d functions over",
			worst, worstRatio, ms(c.medianReady()), ms(h.medianReady()), ms(c.medianTotal()-c.medianReady()), over, len(r.cold)-2)
		if errs > 0 {
			b.measured += fmt.Sprintf("; %d could not be started", errs)
		}
		if over > 0 || errs > 0 {
			b.verdict = fail
			b.why = r.coldStartWhy(h)
		}
	}
	out = append(out, b)

	// Bootstrap sizes.
	b = budget{name: "each bootstrap ≤ 12 MiB (linux/arm64, as make build makes it)"}
	var largest size
	for _, s := range r.sizes {
		if s.function == hello {
			continue
		}
		if s.err != nil {
			b.verdict, b.why = fail, s.err.Error()
			continue
		}
		if s.bootstrap > largest.bootstrap {
			largest = s
		}
		if s.bootstrap > maxBootstrap {
			b.verdict = fail
			b.why = fmt.Sprintf("%s is %s", s.function, mib(s.bootstrap))
		}
	}
	b.measured = fmt.Sprintf("largest %s %s", largest.function, mib(largest.bootstrap))
	out = append(out, b)

	// Warm credentials read.
	t := r.trip(opTokenWarm)
	b = budget{name: "warm read of a connection's credentials: 1 DynamoDB read, 0 KMS calls"}
	if !t.measured() {
		b.verdict, b.measured, b.why = fail, "not measured", t.reason
	} else {
		reads := 0
		for _, c := range t.calls.Of("DynamoDB") {
			if roundtrip.IsRead(c.Operation) {
				reads++
			}
		}
		b.measured = fmt.Sprintf("%d DynamoDB (%s), %d KMS", t.dynamo(), t.calls.Summary("DynamoDB"), t.kms())
		if t.dynamo() != 1 || reads != 1 || t.kms() != 0 {
			b.verdict, b.why = fail, "the warm Token call made "+b.measured
		}
	}
	out = append(out, b)

	// Rate-limit decision.
	t = r.trip(opDeployRateRule)
	b = budget{name: fmt.Sprintf("rate-limit decision ≤ %d DynamoDB operations", maxRateLimitOps)}
	switch {
	case t.absent:
		b.verdict, b.measured, b.why = absent, "—", "POST /deployments answers 501: the deployments capability is not built yet"
	case !t.measured():
		b.verdict, b.measured, b.why = fail, "not measured", t.reason
	default:
		b.measured = fmt.Sprintf("%d (%s)", t.dynamo(), t.calls.Summary("DynamoDB"))
		if t.dynamo() > maxRateLimitOps || t.dynamo() == 0 {
			b.verdict, b.why = fail, "the accepted POST /deployments touched its RATE# window item in "+b.measured
		}
	}
	out = append(out, b)

	// Scheduler with nothing due.
	t = r.trip(opSchedulerIdle)
	b = budget{name: fmt.Sprintf("stream-scheduler run with nothing due: one query per partition of the due-work index (%d)", store.DueShards+1)}
	switch {
	case !t.measured():
		b.verdict, b.measured, b.why = fail, "not measured", t.reason
	default:
		b.measured = fmt.Sprintf("%d DynamoDB (%s), %d KMS, %d HTTP", t.dynamo(), t.calls.Summary("DynamoDB"), t.kms(), t.http())
		if q := store.DueShards + 1; t.dynamo() != q || t.calls.Count("DynamoDB", "Query") != q || t.kms() != 0 || t.http() != 0 {
			b.verdict, b.why = fail, "the idle run made "+b.measured
		}
	}
	out = append(out, b)

	// Warm latency.
	b = budget{name: fmt.Sprintf("main routes' p50 ≤ %.1f× a like-for-like baseline's (the route's own DynamoDB calls replayed by a bare handler + JSON)", maxLatencyRatio)}
	worst, worstRatio, over, held := "", 0.0, 0, 0
	for _, l := range r.load {
		if !l.route.budget {
			continue
		}
		if l.reason != "" {
			b.verdict = fail
			b.why += l.route.name + " not measured: " + l.reason + ". "
			continue
		}
		held++
		if l.ratio() > worstRatio {
			worst, worstRatio = l.route.name, l.ratio()
		}
		if l.ratio() > maxLatencyRatio {
			over++
			b.verdict = fail
			b.why += fmt.Sprintf("%s p50 %s against its baseline's %s (the same calls: %s). ", l.route.name, ms(l.got.p50), ms(l.baseline.p50), l.baselineCalls)
		}
	}
	if held == 0 {
		b.verdict, b.measured = fail, "not measured"
	} else {
		b.measured = fmt.Sprintf("worst %s %.2f×; %d of %d routes over", worst, worstRatio, over, held)
	}
	out = append(out, b)
	out = append(out, r.refreshBudget())
	out = append(out, r.onTime.budget())
	return out
}

// coldStartWhy explains a cold-start failure from the measurements: how
// far the SDK's clients alone (hellosdk) already are from hello world,
// and how much of the functions' package inits are the SDK's.
func (r *results) coldStartWhy(h coldStart) string {
	why := ""
	if sdk, ok := r.coldOf(helloSDK); ok && sdk.err == nil && len(sdk.samples) > 0 && h.medianReady() > 0 {
		worst, worstRatio := "", 0.0
		for _, c := range r.cold {
			if c.function == hello || c.function == helloSDK || len(c.samples) == 0 {
				continue
			}
			if ratio := float64(c.medianReady()) / float64(sdk.medianReady()); ratio > worstRatio {
				worst, worstRatio = c.function, ratio
			}
		}
		why += fmt.Sprintf("Hello world that only builds the DynamoDB and KMS clients (infra/bench/hellosdk, never calling them) is already ready in %s, %.2f× hello world's %s: "+
			"the floor under any function that uses those two clients, above the budget by itself. Against that floor the functions are at most %.2f× (%s). ",
			ms(sdk.medianReady()), float64(sdk.medianReady())/float64(h.medianReady()), ms(h.medianReady()), worstRatio, worst)
	}
	var helloInits, fnInits, sdkInits float64
	n := 0
	for _, t := range r.inits {
		switch {
		case t.err != nil, t.function == helloSDK:
		case t.function == hello:
			helloInits = t.total()
		default:
			fnInits += t.total()
			for _, c := range t.inits {
				if strings.HasPrefix(c.pkg, "github.com/aws/aws-sdk-go-v2/") {
					sdkInits += c.clock
				}
			}
			n++
		}
	}
	if n > 0 && h.medianReady() > 0 {
		helloReady := float64(h.medianReady()) / float64(time.Millisecond)
		why += fmt.Sprintf("The functions' package inits take %.1f ms on average against hello world's %.1f ms; the AWS SDK's packages (the DynamoDB and KMS clients' generated schema "+
			"and endpoint tables) take %.1f ms of it, %.0f%% of hello world's ready time against a budget of %.0f%%, and only an SDK change can remove them. ",
			fnInits/float64(n), helloInits, sdkInits/float64(n), 100*sdkInits/float64(n)/helloReady, 100*(maxColdRatio-1))
	}
	return why + "What Switchboard's own code did at init is gone (see Initialisation). In absolute terms the functions are ready within a few milliseconds of hello world, " +
		"a small part of a Lambda cold start."
}

// write renders BENCHMARKS.md.
func (r *results) write(path string, budgets []budget) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Switchboard benchmarks\n\n")
	p("Generated by `make bench` (infra/bench/cmd/bench) on %s; do not edit by hand: the section “Scale on paper” comes from infra/bench/cmd/bench/scale.md, filled in with the measured numbers.\n\n",
		r.finished.UTC().Format("2006-01-02 15:04 MST"))
	p("Machine: %s/%s, %d CPUs (%s), %s. `make bench` took %s%s. Load average when the bench began: %s; when it ended: %s "+
		"(other work on the machine adds noise to every timing below; the counts of round trips and sizes do not depend on it).\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version(), r.finished.Sub(r.started).Round(time.Second), r.tookNote, r.loadBefore, loadAverage())

	p("## Budgets\n\n`make bench` fails when a measured budget fails. A budget whose capability is not built yet is “not measured” and does not fail the run.\n\n")
	p("| budget | measured | result |\n| --- | --- | --- |\n")
	for _, bg := range budgets {
		p("| %s | %s | %s |\n", bg.name, bg.measured, bg.verdict)
	}
	p("\n")

	r.writeSizes(p)
	r.writeColdStarts(p)
	r.writeInits(p)
	r.writeRoundTrips(p)
	r.writeLatency(p)
	r.writeRefreshScale(p)
	r.writeLife(p)
	r.writeVercel(p)
	r.writeEvents(p)
	r.onTime.write(p)

	p("## Not measured\n\n")
	nothing := true
	for _, t := range r.trips {
		if !t.measured() {
			nothing = false
			p("- %s: %s\n", t.op.name, t.reason)
		}
	}
	for _, c := range r.cold {
		if c.err != nil {
			nothing = false
			p("- cold start of %s: %v\n", c.function, c.err)
		}
	}
	for _, l := range r.load {
		if l.reason != "" {
			nothing = false
			p("- latency of %s: %s\n", l.route.name, l.reason)
		}
	}
	for _, pr := range r.problems {
		nothing = false
		p("- %s\n", pr)
	}
	if nothing {
		p("Everything above was measured.\n")
	}
	p("\n")

	r.writeItems(p)
	var scale strings.Builder
	if err := template.Must(template.New("scale.md").Option("missingkey=error").Parse(scaleOnPaper)).Execute(&scale, r.scaleFigures()); err != nil {
		return fmt.Errorf("scale.md: %w", err)
	}
	p("%s\n", strings.TrimSpace(scale.String()))

	p("\n## Closing note\n\n")
	failed := false
	for _, bg := range budgets {
		switch bg.verdict {
		case fail:
			failed = true
			p("- **%s** does not hold: %s. %s\n", bg.name, bg.measured, strings.TrimSpace(bg.why))
		case absent:
			p("- %s is not measured: %s.\n", bg.name, bg.why)
		}
	}
	if !failed {
		p("- Every measured budget holds.\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func (r *results) writeSizes(p func(string, ...any)) {
	p("## Sizes\n\nEach function's `bootstrap` and zip as `make build` makes them (linux/arm64, `-trimpath -ldflags \"-s -w\" -tags lambda.norpc`, CGO off); hello world built the same way. Budget: 12 MiB per bootstrap.\n\n")
	p("| function | bootstrap | zip | host (%s/%s) bootstrap |\n| --- | ---: | ---: | ---: |\n", runtime.GOOS, runtime.GOARCH)
	for _, s := range r.sizes {
		if s.err != nil {
			p("| %s | %v | | |\n", s.function, s.err)
			continue
		}
		p("| %s | %s (%d B) | %s | %s |\n", s.function, mib(s.bootstrap), s.bootstrap, mib(s.zip), mib(s.hostBootstrap))
	}
	p("\n")
}

func (r *results) writeColdStarts(p func(string, ...any)) {
	h, _ := r.coldOf(hello)
	p("## Cold start\n\n")
	p("Each function's host build (same flags as above, for %s/%s) is started %d times (after one unmeasured start that warms the page cache), interleaved with hello world, "+
		"under a minimal Lambda Runtime API on loopback (infra/bench/runtimeapi) that already holds the function's sample event from events/. "+
		"Times run from just before the process is started. “Ready” (init) is when the process first asked for work: "+
		"the Go runtime, package inits and main's wiring (configuration, AWS SDK clients, platform clients) were done; the budget holds it to hello world's. "+
		"“First event” is what the first invocation then took, until its answer had arrived: the function's real work, seeded so that it does it (see below), which hello world does not do.\n\n", runtime.GOOS, runtime.GOARCH, r.runs)
	p("What this does not include: Lambda's own share of a real cold start — placing and starting the Firecracker sandbox, fetching and unpacking the zip, the runtime API's own latency — " +
		"nor TLS handshakes and network round trips to real DynamoDB, KMS and platforms (here: plain HTTP to DynamoDB Local, the KMS fake and platform fakes on loopback), " +
		"nor Lambda's smaller CPU share at low memory sizes. It isolates what Switchboard's code adds to a Go process's start.\n\n")
	p("| function | first event | first answer | median ready (init) | ready ratio | min ready | median first event | median total |\n")
	p("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range r.cold {
		if c.err != nil {
			p("| %s | %s | not measured | | | | | |\n", c.function, c.event)
			continue
		}
		ready := "1.00×"
		if c.function != hello && h.medianReady() > 0 {
			ready = fmt.Sprintf("%.2f×", float64(c.medianReady())/float64(h.medianReady()))
		}
		first := median(c.samples, func(s bootSample) time.Duration { return s.total - s.ready })
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.function, c.event, c.answer, ms(c.medianReady()), ready,
			ms(minOf(c.samples, func(s bootSample) time.Duration { return s.ready })), ms(first), ms(c.medianTotal()))
	}
	p("\n")
}

func (r *results) writeInits(p func(string, ...any)) {
	p("## Initialisation\n\n")
	p("Each bootstrap was run %d times more with `GODEBUG=inittrace=1`. “Package inits” is the summed clock time of every package's init in the first of those runs, and what they allocated. "+
		"“After inits” is the median, over those runs, of the time from the end of the package inits (when main began, in the trace's clock) to the first request for work: "+
		"the exec, main's wiring, lambda.Start and the first connection to the Runtime API. Hello world's is the floor; what a function spends above it is main's wiring "+
		"(configuration, AWS SDK and platform clients, built once per process). Differences under a millisecond are within this machine's noise.\n\n", traceRuns)
	p("| function | packages | package inits | allocated by inits | after inits | above hello world's | heaviest inits |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	global := map[string]initCost{}
	floor := time.Duration(-1)
	for _, t := range r.inits {
		if t.function == hello && t.err == nil {
			floor = t.afterInits
		}
	}
	for _, t := range r.inits {
		if t.err != nil {
			p("| %s | | | | | | not measured: %s |\n", t.function, trunc.String(t.err.Error(), 200))
			continue
		}
		var bytes int64
		for _, c := range t.inits {
			bytes += c.bytes
			if g, ok := global[c.pkg]; !ok || c.clock > g.clock {
				global[c.pkg] = c
			}
		}
		var heavy []string
		for _, c := range t.heaviest(3) {
			heavy = append(heavy, fmt.Sprintf("%s %.2f ms", c.pkg, c.clock))
		}
		above := ""
		if floor >= 0 && t.function != hello {
			above = fmt.Sprintf("%+.1f ms", float64(t.afterInits-floor)/float64(time.Millisecond))
		}
		p("| %s | %d | %.2f ms | %s | %s | %s | %s |\n", t.function, len(t.inits), t.total(), kib(bytes), ms(t.afterInits), above, strings.Join(heavy, "; "))
	}
	var all []initCost
	for _, c := range global {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].clock > all[j].clock })
	p("\nThe ten most expensive package inits across all functions:\n\n| package | clock | allocated | allocations |\n| --- | ---: | ---: | ---: |\n")
	for _, c := range all[:min(10, len(all))] {
		p("| %s | %.3f ms | %s | %d |\n", c.pkg, c.clock, kib(c.bytes), c.allocs)
	}
	p("\nBuilding all eight functions in the bench's process (app.HTTP, app.Scheduled, app.Worker) made %d calls to DynamoDB, KMS or a platform", len(r.wiringCalls))
	if len(r.wiringCalls) > 0 {
		p(": DynamoDB %s; KMS %s; HTTP %s", r.wiringCalls.Summary("DynamoDB"), r.wiringCalls.Summary("KMS"), r.wiringCalls.Summary(roundtrip.HTTP))
	}
	p(".\n\n%s\n\n", strings.TrimSpace(initFindings))
}

func (r *results) writeItems(p func(string, ...any)) {
	p("## Item sizes\n\nThe items the round trips left in the bench tenant's partition, sized as DynamoDB counts capacity (attribute names and values). " +
		"A write costs one WCU per started KB on the table; an item that carries duepk costs the due index one WCU more when a write changes what it projects (its keys, tenant, platform, id or nextCheckAt), " +
		"and a deployment (gsi1pk, which projects every attribute) costs gsi1 its whole size again; " +
		"a consistent read one RCU per started 4 KB.\n\n")
	p("| type | items | mean | largest | in an index of due work |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, it := range r.items {
		p("| %s | %d | %d B | %d B | %d |\n", it.kind, it.count, it.meanBytes, it.largest, it.inDueIndex)
	}
	p("\n")
}

func kib(n int64) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

// units writes capacity units: whole numbers bare, halves with one digit.
func units(u float64) string {
	if u == float64(int64(u)) {
		return fmt.Sprintf("%d", int64(u))
	}
	return fmt.Sprintf("%.1f", u)
}

func (r *results) writeRoundTrips(p func(string, ...any)) {
	p("## Round trips per operation\n\n")
	p("Each operation runs through the real wiring (internal/app) in this process, behind the local gateway, against DynamoDB Local, the KMS fake (the KMS keyring, as in AWS) and the platform sandbox. " +
		"DynamoDB and KMS calls are counted by a middleware on the AWS SDK's stack (each attempt, retries included); platform calls by a wrapper around the platform HTTP client's transport " +
		"(“oauth-mock” is every provider's token endpoint). Create operations are counted on their second call in an instance, so the vault's data-key cache is warm, as it is for most requests. " +
		"Capacity is what DynamoDB Local reported for each operation (ReturnConsumedCapacity INDEXES, asked by the same middleware): read units, and write units on the table + on the due-work index.\n\n")
	p("| operation | DynamoDB | min | RCU | WCU table + index | KMS | min | platform HTTP | min | note |\n| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |\n")
	for _, t := range r.trips {
		if !t.measured() {
			p("| %s | not measured | %d | | | | %d | | %d | %s |\n", t.op.name, t.op.min.dynamo, t.op.min.kms, t.op.min.http, trunc.String(t.reason, 160))
			continue
		}
		read, write := t.calls.Consumed()
		cell := func(n, min int, service string) string {
			s := fmt.Sprintf("%d", n)
			if n > 0 {
				s += " (" + t.calls.Summary(service) + ")"
			}
			if n > min {
				s += " ▲"
			}
			return s
		}
		note := t.note
		if t.dynamo() > t.op.min.dynamo {
			// Which items the calls touched says where the extra ones go.
			note = strings.TrimPrefix(note+"; DynamoDB in order: "+t.calls.Detail("DynamoDB"), "; ")
		}
		p("| %s | %s | %d | %s | %s | %s | %d | %s | %d | %s |\n", t.op.name, cell(t.dynamo(), t.op.min.dynamo, "DynamoDB"), t.op.min.dynamo,
			units(read.Table+read.Indexes), units(write.Table)+" + "+units(write.Indexes),
			cell(t.kms(), t.op.min.kms, "KMS"), t.op.min.kms, cell(t.http(), t.op.min.http, roundtrip.HTTP), t.op.min.http, note)
	}
	p("\n▲ marks a count above the minimum. Why each minimum is what it is:\n\n")
	for _, op := range operations {
		p("- %s: %s.", op.name, op.why)
		if above := aboveMinimum[op.name]; above != "" {
			p(" Above it: %s.", above)
		}
		p("\n")
	}
	p("\n")
}

func (r *results) writeLatency(p func(string, ...any)) {
	p("## Warm latency and throughput\n\n")
	p("The HTTP functions run in the bench's process behind the local gateway (JWT verified on every request) on DynamoDB Local; "+
		"[hey](https://github.com/rakyll/hey) (a go.mod tool) sends the load, keep-alive, to 127.0.0.1, %d requests at a time. "+
		"Each route gets %d unmeasured requests, then %d measured ones in %d runs that alternate with runs of its like-for-like baseline as B R R B B R …, "+
		"so that drift in the machine's load falls on both alike. The baseline of a route is a bare handler behind the same gateway and JWT check that makes exactly the DynamoDB calls "+
		"the route made (recorded from one of its requests and replayed: the same operations, keys, page sizes and projections, so the same items of the same size in the same round trips) "+
		"and answers the items as JSON, padded to the length of the route's answer; what the route costs above it is Switchboard's own work on the request. "+
		"Percentiles are over the pooled requests (hey's CSV, 0.1 ms resolution); req/s is requests over the runs' summed time. "+
		"Absolute numbers are this machine's, with DynamoDB Local (a JVM), hey and the stack sharing its %d CPUs, so they queue: the p50 ratio is what carries over.\n\n",
		r.settings.concurrency, r.settings.warmup, r.settings.requests, r.settings.rounds, runtime.NumCPU())
	p("%s\n\n", r.settings.cpu.describe(runtime.NumCPU()))
	p("| route | p50 | p99 | req/s | baseline's calls | baseline p50 | baseline p99 | baseline req/s | p50 ratio | budget |\n| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |\n")
	for _, l := range r.load {
		if l.reason != "" {
			p("| %s | not measured | | | | | | | | %s |\n", l.route.name, trunc.String(l.reason, 160))
			continue
		}
		inBudget, calls := "held", l.baselineCalls
		if !l.route.budget {
			inBudget, calls = "not held: "+l.route.why, "GetItem 1 (the plain baseline)"
		}
		p("| %s | %s | %s | %.0f | %s | %s | %s | %.0f | %.2f× | %s |\n", l.route.name, ms(l.got.p50), ms(l.got.p99), l.got.rps, calls,
			ms(l.baseline.p50), ms(l.baseline.p99), l.baseline.rps, l.ratio(), inBudget)
	}
	p("\n### Where the CPU goes on the hot path\n\n")
	if r.profile.err != nil {
		p("The CPU profile could not be read: %v\n\n", r.profile.err)
		return
	}
	p("A CPU profile of the bench's process during the measured load runs (gateway, JWT check, handlers, AWS SDK, and the fakes; hey and DynamoDB Local are other processes): %s sampled. "+
		"Package reflect takes %.1f%% and encoding/json %.1f%%; the AWS SDK and smithy-go %.1f%%; crypto (mostly the gateway's ES256 JWT check, which API Gateway does in AWS) %.1f%%; "+
		"the Go runtime (GC, scheduler, syscalls) %.1f%%, much of it the network I/O of a loaded 2-CPU machine.\n\n",
		r.profile.total, r.profile.share("reflect"), r.profile.share("encoding/json"),
		r.profile.share("github.com/aws"), r.profile.share("crypto", "vendor/golang.org/x/crypto", "golang.org/x/crypto"), r.profile.share("runtime", "syscall", "internal/runtime"))
	if c := r.codec; c.err == nil && c.decode.N > 0 {
		p("The gateway hands handlers Go values; in Lambda, aws-lambda-go also decodes every event and encodes every answer with encoding/json, by reflection. "+
			"Measured apart (testing.Benchmark): decoding a %d-byte HTTP API event costs %s and %d allocations, encoding a %d-byte answer %s and %d allocations — "+
			"together %.1f%% of the baseline's p50 above. That, and httpapi's own encoding/json of request and answer bodies (inside the profile above), "+
			"is the reflection on the hot path; the store maps items by hand (no attributevalue reflection) and the AWS SDK serialises with generated code.\n\n",
			c.eventBytes, micro(c.decode), c.decode.AllocsPerOp(), c.answerBytes, micro(c.encode), c.encode.AllocsPerOp(), r.codecShare())
	}
	p("| package | flat CPU |\n| --- | ---: |\n")
	for _, s := range r.profile.packages[:min(15, len(r.profile.packages))] {
		p("| %s | %.1f%% |\n", s.pkg, s.flat)
	}
	p("\n")
}

func micro(b testing.BenchmarkResult) string {
	return fmt.Sprintf("%.1f µs", float64(b.NsPerOp())/1000)
}

// codecShare is the event decoding and answer encoding as a share of the
// baseline's median latency.
func (r *results) codecShare() float64 {
	var base time.Duration
	for _, l := range r.load {
		if l.reason == "" && l.baseline.p50 > 0 {
			base = l.baseline.p50
			break
		}
	}
	if base == 0 {
		return 0
	}
	return 100 * float64(r.codec.decode.NsPerOp()+r.codec.encode.NsPerOp()) / float64(base)
}

// loadAverage is the machine's 1-, 5- and 15-minute load averages.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the CPU's name from /proc/cpuinfo, when there is one.
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
