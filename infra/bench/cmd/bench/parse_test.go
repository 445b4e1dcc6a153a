package main

import (
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestHeyCSVIsReadIntoSamplesAndPooledPercentiles(t *testing.T) {
	t.Parallel()
	out := "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n" +
		"0.0040,0.0007,0.0000,0.0001,0.0030,0.0002,200,0.0002\n" +
		"0.0010,0.0000,0.0000,0.0001,0.0008,0.0001,200,0.0050\n" +
		"0.0020,0.0000,0.0000,0.0001,0.0018,0.0001,503,0.0100\n" +
		"0.0030,0.0000,0.0000,0.0001,0.0028,0.0001,200,0.0120\n"
	samples, err := parseHeyCSV(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 4 || samples[2].status != 503 || samples[3].end != 0.015 {
		t.Fatalf("%+v", samples)
	}
	if d := duration(samples); d != 0.015 {
		t.Fatalf("duration %v", d)
	}
	res := summarise(samples, 0.02)
	// Nearest rank: p50 of {1,2,3,4} ms is the 2nd, p99 the 4th.
	if res.p50 != 2*time.Millisecond || res.p99 != 4*time.Millisecond || res.rps != 200 || res.requests != 4 {
		t.Fatalf("%+v", res)
	}
}

func TestHeyCSVWithoutItsHeaderOrWithBrokenLinesIsRefused(t *testing.T) {
	t.Parallel()
	for name, out := range map[string]string{
		"text summary": "Summary:\n  Total: 1 secs\n",
		"short line":   "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n0.1,200\n",
		"no requests":  "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n",
	} {
		if _, err := parseHeyCSV(out); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestInitTraceLinesAreParsed(t *testing.T) {
	t.Parallel()
	out := "init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
		"some other line\n" +
		"init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @2.5 ms, 0.71 ms clock, 586683 bytes, 3151 allocs\n" +
		"init main @3.4 ms, 0.010 ms clock, 16 bytes, 1 allocs\n"
	tr := initTrace{inits: parseInitTrace(out)}
	if len(tr.inits) != 3 {
		t.Fatalf("%+v", tr.inits)
	}
	if h := tr.heaviest(1); h[0].pkg != "github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas" || h[0].bytes != 586683 || h[0].allocs != 3151 {
		t.Fatalf("heaviest %+v", h)
	}
	if tot, end := tr.total(), tr.end(); tot < 0.7199 || tot > 0.7201 || end < 3.4099 || end > 3.4101 {
		t.Fatalf("total %v end %v", tot, end)
	}
}

func TestPprofTopIsGroupedByPackage(t *testing.T) {
	t.Parallel()
	out := `File: bench
Type: cpu
Duration: 30s, Total samples = 20.50s (68.33%)
Showing nodes accounting for 20.50s, 100% of 20.50s total
      flat  flat%   sum%        cum   cum%
     5.00s 24.39% 24.39%      5.00s 24.39%  runtime.futex
     2.00s  9.76% 34.15%      2.00s  9.76%  p256MulInternal
     1.00s  4.88% 39.02%      3.00s 14.63%  crypto/internal/fips140/nistec.(*P256Point).Add
     0.50s  2.44% 41.46%      0.90s  4.39%  encoding/json.(*decodeState).object
     0.40s  1.95% 43.41%      0.40s  1.95%  reflect.Value.Field
     0.10s  0.49% 43.90%      0.10s  0.49%  github.com/aws/smithy-go/middleware.(*orderedIDs).Get (inline)
`
	p := parsePprofTop(out)
	if p.err != nil || p.total != "20.50s" {
		t.Fatalf("%+v", p)
	}
	if p.packages[0].pkg != "runtime" || p.packages[1].pkg != "crypto/internal/fips140/nistec" {
		t.Fatalf("%+v", p.packages)
	}
	if got := p.share("crypto"); got < 14.63 || got > 14.65 {
		t.Fatalf("crypto share %v", got)
	}
	if p.share("reflect") != 1.95 || p.share("github.com/aws") != 0.49 || p.share("encoding/json") != 2.44 {
		t.Fatalf("%+v", p.packages)
	}
}

func TestAnswersAreDescribedBriefly(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"statusCode":200,"body":"{\"items\":[]}"}`:                       "200",
		`{"statusCode":409,"body":"{\"code\":\"not_connected\",\"x\":1}"}`: "409 not_connected",
		`{"function":"stream-scheduler","found":0}`:                        `{"function":"stream-scheduler","found":0}`,
	}
	for in, want := range cases {
		if got := describeAnswer([]byte(in)); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestMedianAndMinimumOfSamples(t *testing.T) {
	t.Parallel()
	ms := func(n int) bootSample { return bootSample{total: time.Duration(n) * time.Millisecond} }
	c := coldStart{samples: []bootSample{ms(9), ms(3), ms(5), ms(4)}}
	if c.medianTotal() != 4500*time.Microsecond || c.minTotal() != 3*time.Millisecond {
		t.Fatalf("median %v min %v", c.medianTotal(), c.minTotal())
	}
	if (coldStart{}).medianTotal() != 0 {
		t.Fatal("median of nothing")
	}
}

func TestVercelDeployResultsAreReadFromGoTestBenchOutput(t *testing.T) {
	out := `goos: linux
BenchmarkVercelDeploy1000Files/first/upload-latency=0s-2         	       3	 512345678 ns/op	      1000 uploads/op	         1.000 creates/op
BenchmarkVercelDeploy1000Files/redeploy/upload-latency=20ms-2    	       3	   2345678 ns/op	         0 uploads/op	         1.000 creates/op
PASS`
	v := parseVercelDeploy(out)
	if v.err != nil || len(v.results) != 2 {
		t.Fatalf("%+v", v)
	}
	first, re := v.results[0], v.results[1]
	if first.name != "first/upload-latency=0s" || first.n != 3 || first.nsPerOp != 512345678 || first.metrics["uploads/op"] != 1000 || first.metrics["creates/op"] != 1 {
		t.Fatalf("first: %+v", first)
	}
	if re.name != "redeploy/upload-latency=20ms" || re.metrics["uploads/op"] != 0 {
		t.Fatalf("redeploy: %+v", re)
	}
	if parseVercelDeploy("PASS").err == nil {
		t.Fatal("no result line was accepted")
	}
}

// Every figure scale.md names is one scaleFigures gives, measured or not.
func TestScaleOnPaperNamesOnlyFiguresTheBenchGives(t *testing.T) {
	var out strings.Builder
	err := template.Must(template.New("scale.md").Option("missingkey=error").Parse(scaleOnPaper)).Execute(&out, (&results{}).scaleFigures())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(not measured)") {
		t.Fatal("with nothing measured, no figure says so")
	}
}
