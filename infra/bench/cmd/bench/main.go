// Command bench measures Switchboard and writes BENCHMARKS.md: each
// function's size, cold start against a hello-world function, round trips
// per API operation against the minimum each needs, and warm latency of
// the main routes against a one-GetItem baseline; then it checks issue 8's
// budgets and exits 1 when a measured one fails. `make bench` builds what
// it reads and runs it:
//
//	build/<fn>/bootstrap, build/<fn>.zip           make build's linux/arm64 functions (sizes)
//	build/bench/arm64/hello/bootstrap, hello.zip   hello world, built the same way (sizes)
//	build/bench/host/<fn>/bootstrap                every function and hello for this machine (cold starts)
//	build/bench/hey                                the load generator (github.com/rakyll/hey, a go.mod tool)
//
// It starts its own DynamoDB Local, KMS fake and platform sandbox, and
// sends load only to 127.0.0.1, in bounded runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// tokenLatency is how long the OAuth mock holds every token request in the
// refresh-at-scale run: a platform's token endpoint over the internet.
const tokenLatency = 150 * time.Millisecond

func main() {
	buildDir := flag.String("build", "build", "the build folder (see the package comment)")
	events := flag.String("events", "events", "the sample events")
	out := flag.String("out", "BENCHMARKS.md", "the report to write")
	runs := flag.Int("runs", 20, "measured cold starts per function")
	requests := flag.Int("n", 2000, "measured requests per route (and as many for the baseline beside it)")
	rounds := flag.Int("rounds", 8, "runs the requests of a route are split over, alternating with the baseline's")
	concurrency := flag.Int("c", 10, "concurrent requests in a load run")
	warmup := flag.Int("warmup", 300, "unmeasured requests before each route's load run")
	started := flag.String("started", "", "when make bench started (Unix seconds), to report its whole time")
	refreshes := flag.Int("refreshes", 10000, "due connections token-refresher refreshes in one run (0: skip)")
	flag.Parse()
	set := loadSettings{hey: filepath.Join(*buildDir, "bench", "hey"), requests: *requests, rounds: *rounds, concurrency: *concurrency, warmup: *warmup}
	pinHey(&set)
	set.refreshes = *refreshes
	os.Exit(run(*buildDir, *events, *out, *runs, set, *started))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

func run(buildDir, eventsDir, outPath string, runs int, set loadSettings, startedFlag string) int {
	// The whole run is bounded: make bench must end well within 15 minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	res := &results{started: time.Now(), runs: runs, settings: set, loadBefore: loadAverage(), tookNote: " (the measurements alone; builds not included)"}
	if sec, err := strconv.ParseInt(startedFlag, 10, 64); err == nil {
		res.started, res.tookNote = time.Unix(sec, 0), ", builds included"
	}
	functions := app.Functions()
	res.sizes = readSizes(buildDir, functions)

	w, err := startWorld(ctx, logf)
	if err != nil {
		logf("starting DynamoDB Local, the KMS fake and the sandbox: %v", err)
		return 2
	}
	defer w.close()

	s, err := startStack(ctx, w)
	if err != nil {
		logf("building the in-process stack: %v", err)
		return 2
	}
	defer s.close()
	logf("seeding the sample events' tenant")
	prepare, err := seedFirstEvents(ctx, s, eventsDir)
	if err != nil {
		logf("seeding the first events: %v", err)
		return 2
	}
	hostDir := filepath.Join(buildDir, "bench", "host")
	if res.cold, err = measureColdStarts(ctx, w, hostDir, eventsDir, functions, runs, prepare, logf); err != nil {
		logf("cold starts: %v", err)
		return 2
	}
	logf("init traces")
	res.inits = traceInits(ctx, w, hostDir, eventsDir, functions, prepare)

	res.wiringCalls = s.wiringCalls
	res.trips = roundTrips(ctx, s, logf)
	logf("a livestream's life, counted")
	res.life = measureLivestreamLife(ctx, s)
	if res.items, err = measureItems(ctx, s.store, rtTenant); err != nil {
		res.problems = append(res.problems, "item sizes: "+err.Error())
	}

	logf("on time: %d go-lives due in one second", onTimeLivestreams)
	res.onTime = measureOnTime(ctx, s)

	profile := filepath.Join(buildDir, "bench", "load.cpu.pprof")
	if res.load, err = measureLatency(ctx, s, set, profile, logf); err != nil {
		res.problems = append(res.problems, "warm latency: "+err.Error())
	}
	res.profile = readProfile(ctx, executable(), profile)
	if set.refreshes > 0 {
		conf, err := app.LoadConfig(w.getenv(nil))
		if err != nil {
			logf("reading the configuration: %v", err)
			return 2
		}
		res.refresh = measureRefreshScale(ctx, s, platform.ID(s.eventOAuth[0]), set.refreshes, conf.RefreshConcurrency, tokenLatency, logf)
	}
	logf("Vercel: a 1,000-file deployment (go test -bench)")
	res.vercel = measureVercelDeploy(ctx)
	logf("events: one event-dispatcher invocation (go test -bench)")
	res.events = measureEventDispatch(ctx, w.ddb.Endpoint)
	logf("the cost of aws-lambda-go's JSON per invocation")
	res.codec = measureCodec(eventsDir)

	res.finished = time.Now()
	budgets := res.budgets()
	if err := res.write(outPath, budgets); err != nil {
		logf("writing %s: %v", outPath, err)
		return 2
	}
	failed := false
	fmt.Printf("%-95s %-60s %s\n", "budget", "measured", "result")
	for _, b := range budgets {
		fmt.Printf("%-95s %-60s %s\n", b.name, b.measured, strings.Trim(b.verdict.String(), "*"))
		failed = failed || b.verdict == fail
	}
	logf("wrote %s in %s", outPath, time.Since(res.started).Round(time.Second))
	if failed {
		logf("a budget failed: see the closing note of %s", outPath)
		return 1
	}
	return 0
}

// readSizes reads the build outputs' sizes.
func readSizes(buildDir string, functions []string) []size {
	stat := func(path string) (int64, error) {
		fi, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	var out []size
	for _, fn := range append([]string{hello}, functions...) {
		dist := buildDir
		if fn == hello {
			dist = filepath.Join(buildDir, "bench", "arm64")
		}
		s := size{function: fn}
		var errs [3]error
		s.bootstrap, errs[0] = stat(filepath.Join(dist, fn, "bootstrap"))
		s.zip, errs[1] = stat(filepath.Join(dist, fn+".zip"))
		s.hostBootstrap, errs[2] = stat(filepath.Join(buildDir, "bench", "host", fn, "bootstrap"))
		for _, err := range errs {
			if err != nil && s.err == nil {
				s.err = fmt.Errorf("%w (run make bench, which builds them)", err)
			}
		}
		out = append(out, s)
	}
	return out
}
