package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// goBench is one result line of a Go benchmark.
type goBench struct {
	name    string  // the sub-benchmark: "first/upload-latency=20ms"
	n       int     // iterations
	nsPerOp float64 // time per op
	metrics map[string]float64
}

// vercelDeploy is BenchmarkVercelDeploy1000Files
// (internal/platform/vercel): a 1,000-file deployment's upload and create
// steps against the Vercel fake, first deploy, redeploy and one file
// changed, with and without 20 ms held at each upload.
type vercelDeploy struct {
	results []goBench
	err     error
}

// measureVercelDeploy runs the benchmark (go test, 3 iterations each).
func measureVercelDeploy(ctx context.Context) vercelDeploy {
	results, err := runGoBench(ctx, "BenchmarkVercelDeploy1000Files", "./internal/platform/vercel/", nil)
	return vercelDeploy{results: results, err: err}
}

// eventDispatch is BenchmarkEventDispatch (internal/store): one
// event-dispatcher invocation on a batch of 100 stream records, with 0, 1
// and 3 webhook endpoints per tenant, on DynamoDB Local.
type eventDispatch struct {
	results []goBench
	err     error
}

// measureEventDispatch runs the benchmark against the bench's DynamoDB
// Local (ddbEndpoint).
func measureEventDispatch(ctx context.Context, ddbEndpoint string) eventDispatch {
	results, err := runGoBench(ctx, "BenchmarkEventDispatch", "./internal/store/", []string{"AWS_ENDPOINT_URL_DYNAMODB=" + ddbEndpoint})
	return eventDispatch{results: results, err: err}
}

// runGoBench runs one Go benchmark of a package (3 iterations of each
// sub-benchmark) and reads its result lines.
func runGoBench(ctx context.Context, name, pkg string, env []string) ([]goBench, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^"+name+"$", "-benchtime", "3x", pkg)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w: %s", err, trunc.String(string(out), 400))
	}
	return parseGoBench(name, string(out))
}

func parseVercelDeploy(out string) vercelDeploy {
	results, err := parseGoBench("BenchmarkVercelDeploy1000Files", out)
	return vercelDeploy{results: results, err: err}
}

// parseGoBench reads the result lines of benchmark name's sub-benchmarks.
func parseGoBench(name, out string) ([]goBench, error) {
	line := regexp.MustCompile(`^` + name + `/(\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op(.*)$`)
	var results []goBench
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[3], 64)
		b := goBench{name: m[1], n: n, nsPerOp: ns, metrics: map[string]float64{}}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			if x, err := strconv.ParseFloat(f[i], 64); err == nil {
				b.metrics[f[i+1]] = x
			}
		}
		results = append(results, b)
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no result line in: %s", trunc.String(out, 400))
	}
	return results, nil
}
