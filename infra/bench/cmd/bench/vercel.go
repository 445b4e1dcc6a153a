package main

import (
	"context"
	"fmt"
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

var benchLine = regexp.MustCompile(`^BenchmarkVercelDeploy1000Files/(\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op(.*)$`)

// measureVercelDeploy runs the benchmark (go test, 3 iterations each).
func measureVercelDeploy(ctx context.Context) vercelDeploy {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkVercelDeploy1000Files$", "-benchtime", "3x", "./internal/platform/vercel/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return vercelDeploy{err: fmt.Errorf("go test -bench: %w: %s", err, trunc.String(string(out), 400))}
	}
	return parseVercelDeploy(string(out))
}

func parseVercelDeploy(out string) vercelDeploy {
	var v vercelDeploy
	for _, line := range strings.Split(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
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
		v.results = append(v.results, b)
	}
	if len(v.results) == 0 {
		v.err = fmt.Errorf("no result line in: %s", trunc.String(out, 400))
	}
	return v
}
