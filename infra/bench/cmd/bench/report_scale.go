package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// youtubeLabel is how the counter names calls to YouTube's fake.
var youtubeLabel = string(youtubefake.PlatformID)

// partitionWCU is a DynamoDB partition's write limit, per second (AWS
// DynamoDB Developer Guide, "Service, account, and table quotas").
const partitionWCU = 1000

// maxRefreshShare is how much of token-refresher's timeout 10,000 due
// refreshes may take: half, so a run has the other half as margin.
const maxRefreshShare = 0.5

// refreshBudget holds the refresh-at-scale run to its budgets: done within
// half the timeout, nothing failed, and no due-index partition written
// faster than its limit at the run's pace.
func (r *results) refreshBudget() budget {
	f := r.refresh
	b := budget{name: fmt.Sprintf("%d due refreshes in one token-refresher run, within %.0f%% of its %s timeout, no due-index partition over %d WCU/s",
		f.n, 100*maxRefreshShare, refresherTimeout, partitionWCU)}
	switch {
	case f.n == 0:
		b.verdict, b.measured, b.why = fail, "not run", "make bench ran with -refreshes 0"
		return b
	case f.err != nil:
		b.verdict, b.measured, b.why = fail, "not measured", f.err.Error()
		return b
	}
	hot, hotWCU := f.hottestPartition()
	b.measured = fmt.Sprintf("%d done, %d failed, %d skipped in %s (%.0f%% of the timeout) at concurrency %d; hottest partition %s ≈ %.0f WCU/s",
		f.report.Done, f.report.Failed, f.report.Skipped, f.took.Round(100*time.Millisecond), 100*f.took.Seconds()/refresherTimeout.Seconds(), f.concurrency, hot, hotWCU)
	switch {
	case f.report.Done < f.n || f.report.Failed > 0 || f.report.Skipped > 0:
		// Done may pass n by the few other connections of the bench's tenants that were due too.
		b.verdict, b.why = fail, fmt.Sprintf("the run did %d of %d", f.report.Done, f.n)
	case f.took.Seconds() > maxRefreshShare*refresherTimeout.Seconds():
		bound := float64(f.n) * f.latency.Seconds() / float64(f.concurrency)
		b.verdict, b.why = fail, fmt.Sprintf("It took %s, more than %.0f%% of the timeout. On this machine the run is bound by CPU, not by the token endpoint: "+
			"DynamoDB Local (a JVM), the OAuth mock (node) and the KMS fake share its %d CPUs with the refresher and with whatever else runs on it (load average %s when the bench began, %s now). "+
			"The refresher itself waits %s a refresh, %d at once: %.0f s for %d, the bound in Lambda, where the other parts are AWS's. The 50%% budget is this machine's measurement, and it did not hold in this run",
			f.took.Round(time.Second), 100*maxRefreshShare, runtime.NumCPU(), r.loadBefore, loadAverage(), f.latency, f.concurrency, bound, f.n)
	case hotWCU > partitionWCU:
		b.verdict, b.why = fail, fmt.Sprintf("partition %s would take %.0f WCU/s", hot, hotWCU)
	}
	return b
}

// hottestPartition is the due-index partition that held the most of the
// run's items, and the index write units a second it took at the run's
// pace (the run's index units spread in proportion to the items).
func (f refreshScale) hottestPartition() (string, float64) {
	total, hot, most := 0, "", 0
	for pk, n := range f.partitions {
		total += n
		if n > most || (n == most && pk < hot) {
			hot, most = pk, n
		}
	}
	if total == 0 || f.took <= 0 {
		return hot, 0
	}
	return hot, f.write.Indexes / f.took.Seconds() * float64(most) / float64(total)
}

func (r *results) writeRefreshScale(p func(string, ...any)) {
	f := r.refresh
	p("## Refreshes at scale\n\n")
	if f.n == 0 {
		p("Not run (make bench ran with -refreshes 0).\n\n")
		return
	}
	p("%d OAuth connections are due at once: copies of one real connection (made by the OAuth flow against the OAuth mock), each under its own tenant with its tokens sealed for it "+
		"by the KMS fake, written through the store (seeding took %s). The OAuth mock holds every token request %s, a token endpoint across the internet; the platform's client keeps "+
		"its refresh token on refresh, as Google's does, so that every copy refreshes with it. Then one token-refresher run, built as its main.go builds it (app.Scheduled) with the "+
		"configured REFRESH_CONCURRENCY (%d), is given its Lambda timeout (%s, template.yaml) as its deadline. DynamoDB capacity is what DynamoDB Local reported for each operation; "+
		"the machine is the same shared one as above, so the time is an upper bound for Lambda's (whose refresher does nothing else), not a prediction of it.\n\n",
		f.n, f.seedTook.Round(time.Second), f.latency, f.concurrency, refresherTimeout)
	if f.err != nil {
		p("Not measured: %s\n\n", f.err)
		return
	}
	rate := float64(f.report.Done) / f.took.Seconds()
	p("| due | done | failed | skipped | run time | share of the timeout | refreshes a second |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	p("| %d | %d | %d | %d | %s | %.0f%% | %.0f |\n\n", f.n, f.report.Done, f.report.Failed, f.report.Skipped, f.took.Round(100*time.Millisecond),
		100*f.took.Seconds()/refresherTimeout.Seconds(), rate)
	dyn := f.calls.Of("DynamoDB")
	p("Per refresh, measured over the run (the run's totals divided by the refreshes done): DynamoDB %s; KMS %s; token requests %.2f.\n\n",
		perOp(dyn, f.report.Done), perOp(f.calls.Of("KMS"), f.report.Done), f.per(float64(len(f.calls.Of(roundtrip.HTTP)))))
	p("| capacity per refresh | table | due-work index | all |\n| --- | ---: | ---: | ---: |\n")
	p("| write units | %.2f | %.2f | %.2f |\n", f.per(f.write.Table), f.per(f.write.Indexes), f.per(f.write.Table+f.write.Indexes))
	p("| read units | %.2f | %.2f | %.2f |\n\n", f.per(f.read.Table), f.per(f.read.Indexes), f.per(f.read.Table+f.read.Indexes))
	hot, hotWCU := f.hottestPartition()
	counts := make([]int, 0, len(f.partitions))
	for _, n := range f.partitions {
		counts = append(counts, n)
	}
	sort.Ints(counts)
	if len(counts) > 0 {
		p("The due items sat in %d partitions of the index (%d shards and the unsharded one of older items), %d to %d each. "+
			"At the run's pace the index took %.0f write units a second in all; the hottest partition, %s, ≈ %.0f WCU/s: %.0f%% of a partition's %d. "+
			"Unsharded, the whole %.0f WCU/s would have gone to one partition.\n\n",
			len(f.partitions), store.DueShards, counts[0], counts[len(counts)-1], f.write.Indexes/f.took.Seconds(), hot, hotWCU, 100*hotWCU/partitionWCU, partitionWCU, f.write.Indexes/f.took.Seconds())
	}
}

// perOp writes calls per operation as "GetItem 1.00, PutItem 1.00".
func perOp(calls roundtrip.Calls, n int) string {
	if n == 0 || len(calls) == 0 {
		return "0"
	}
	by := map[string]int{}
	for _, c := range calls {
		by[c.Operation]++
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.2f", k, float64(by[k])/float64(n))
	}
	return strings.Join(parts, ", ")
}

func (r *results) writeLife(p func(string, ...any)) {
	p("## A livestream's life, counted\n\n")
	p("The sample livestream (events/livestreams-create.json: YouTube, Facebook and Restream targets) for the sample tenant, in this process: its create (the livestreams " +
		"function's second, so its data keys are cached), then a stream-scheduler run that starts it (the fakes' encoders pushing) and one that ends it, each run by a freshly built " +
		"scheduler (its data-key cache empty). YouTube's units are its quota costs per call (PLATFORMS.md YouTube “Quota”: insert, bind, transition and delete 50, a read 1).\n\n")
	p("| step | DynamoDB | RCU | WCU table + index | KMS | platform HTTP | YouTube units | result |\n| --- | --- | ---: | ---: | --- | --- | ---: | --- |\n")
	for _, s := range r.life {
		if s.err != nil {
			p("| %s | not measured | | | | | | %s |\n", s.name, trunc.String(s.err.Error(), 200))
			continue
		}
		read, write := s.calls.Consumed()
		p("| %s | %d (%s) | %s | %s + %s | %d (%s) | %d (%s) | %d | %s |\n", s.name, len(s.calls.Of("DynamoDB")), s.calls.Summary("DynamoDB"),
			units(read.Table+read.Indexes), units(write.Table), units(write.Indexes), len(s.calls.Of("KMS")), s.calls.Summary("KMS"),
			len(s.calls.Of(roundtrip.HTTP)), s.calls.Summary(roundtrip.HTTP), youTubeUnits(s.calls), s.answer)
	}
	p("\n")
}

// youTubeUnits is the YouTube Data API quota the calls to YouTube cost: 50
// units a write (insert, bind, transition, delete), 1 a read
// (developers.google.com/youtube/data/determine_quota_cost, in PLATFORMS.md).
func youTubeUnits(calls roundtrip.Calls) int {
	u := 0
	for _, c := range calls.Of(roundtrip.HTTP) {
		if c.Target != youtubeLabel {
			continue
		}
		if c.Operation == "GET" {
			u++
		} else {
			u += 50
		}
	}
	return u
}

func (r *results) writeVercel(p func(string, ...any)) {
	v := r.vercel
	p("## Vercel: a 1,000-file deployment\n\n")
	p("BenchmarkVercelDeploy1000Files (internal/platform/vercel, run by `go test -bench`, 3 iterations each): the upload and create steps of a 1,000-file deployment against the Vercel fake " +
		"on loopback. “first” deploys 1,000 files Vercel has never seen, “redeploy” the same files again, “one-changed” them with one file changed; the client asks Vercel which files it " +
		"lacks (missing_files) and uploads only those, VERCEL_UPLOAD_CONCURRENCY at a time. With 20 ms held at each upload, the time shows what the uploads cost over a network.\n\n")
	if v.err != nil {
		p("Not measured: %s\n\n", v.err)
		return
	}
	p("| case | time per deployment | uploads | creates |\n| --- | ---: | ---: | ---: |\n")
	for _, b := range v.results {
		p("| %s | %s | %.0f | %.0f |\n", b.name, time.Duration(b.nsPerOp).Round(100*time.Microsecond), b.metrics["uploads/op"], b.metrics["creates/op"])
	}
	p("\n")
}

func (r *results) writeEvents(p func(string, ...any)) {
	e := r.events
	p("## Events: one event-dispatcher invocation\n\n")
	p("BenchmarkEventDispatch (internal/store, run by `go test -bench` on the bench's DynamoDB Local, 3 iterations each): one invocation on a batch of 100 stream " +
		"records of 10 tenants (deployments that became ready). Each record's event is written to the feed with its deliveries in one transaction, " +
		"then each delivery is tried once against a loopback receiver; endpoints=N is N webhook endpoints per tenant.\n\n")
	if e.err != nil {
		p("Not measured: %s\n\n", e.err)
		return
	}
	p("| endpoints per tenant | events/s per invocation | DynamoDB calls per event | time per batch |\n| --- | ---: | ---: | ---: |\n")
	for _, b := range e.results {
		p("| %s | %.0f | %.2f | %s |\n", b.name, b.metrics["events/s"], b.metrics["ddb-calls/event"], time.Duration(b.nsPerOp).Round(time.Millisecond))
	}
	p("\n")
}

// scaleFigures are the numbers “Scale on paper” (scale.md, a text/template)
// is worked out from: measured unit costs and what follows from them.
// A figure whose measurement is missing reads “(not measured)”.
func (r *results) scaleFigures() map[string]string {
	const nm = "(not measured)"
	f := map[string]string{}
	num := func(x float64, digits int) string { return fmt.Sprintf("%.*f", digits, x) }
	grouped := func(x float64) string { // 12,345
		s := fmt.Sprintf("%.0f", x)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	f["Shards"] = fmt.Sprint(store.DueShards)
	f["ShardWCU"] = grouped(float64(store.DueShards * partitionWCU))
	f["IdleQueries"] = fmt.Sprint(store.DueShards + 1)

	for _, k := range []string{"ListRCU", "ListItems", "ListRCU10", "ListPerSec"} {
		f[k] = nm
	}
	if t := r.trip(opListConns); t.measured() {
		read, _ := t.calls.Consumed()
		items := 0
		for _, it := range r.items {
			if it.kind == "connection" {
				items = it.count
			}
		}
		f["ListRCU"], f["ListItems"] = units(read.Table+read.Indexes), fmt.Sprint(items)
		if items > 0 && read.Table > 0 {
			per10 := read.Table * 10 / float64(items)
			f["ListRCU10"], f["ListPerSec"] = num(per10, 1), grouped(3000/per10)
		}
	}

	rf := r.refresh
	refreshKeys := []string{"RefreshWCU", "RefreshTableWCU", "RefreshIndexWCU", "RefreshRCU", "RefreshKMS", "RefreshTook", "RefreshRate", "RefreshShare",
		"RefreshC", "RefreshLatencyRate", "CredShardWCU", "CredShardShare", "RefreshKMS26", "RefreshKMSPeak", "RefreshReadCost", "RefreshWriteCost", "RefreshKMSMonth", "RefreshKMSCost"}
	for _, k := range refreshKeys {
		f[k] = nm
	}
	if rf.err == nil && rf.report.Done > 0 {
		wcu, rcu := rf.per(rf.write.Table+rf.write.Indexes), rf.per(rf.read.Table+rf.read.Indexes)
		kms := rf.per(float64(len(rf.calls.Of("KMS"))))
		latencyRate := float64(rf.concurrency) / rf.latency.Seconds() // each refresh waits the token endpoint once
		const perMonth = 67e6
		f["RefreshWCU"], f["RefreshTableWCU"], f["RefreshIndexWCU"] = num(wcu, 1), num(rf.per(rf.write.Table), 1), num(rf.per(rf.write.Indexes), 1)
		f["RefreshRCU"], f["RefreshKMS"] = num(rcu, 1), num(kms, 1)
		f["RefreshTook"], f["RefreshRate"] = rf.took.Round(time.Second).String(), num(float64(rf.report.Done)/rf.took.Seconds(), 0)
		f["RefreshShare"] = fmt.Sprintf("%.0f%%", 100*rf.took.Seconds()/refresherTimeout.Seconds())
		f["RefreshC"], f["RefreshLatencyRate"] = fmt.Sprint(rf.concurrency), num(latencyRate, 0)
		shard := latencyRate * rf.per(rf.write.Indexes) / store.DueShards
		f["CredShardWCU"], f["CredShardShare"] = num(shard, 0), fmt.Sprintf("%.0f%%", 100*shard/partitionWCU)
		f["RefreshKMS26"], f["RefreshKMSPeak"] = num(26*kms, 0), num(latencyRate*kms, 0)
		f["RefreshReadCost"], f["RefreshWriteCost"] = grouped(perMonth*rcu*0.125/1e6), grouped(perMonth*wcu*0.625/1e6)
		f["RefreshKMSMonth"], f["RefreshKMSCost"] = num(perMonth*kms/1e6, 0), grouped(perMonth*kms*0.03/1e4)
	}

	liveKeys := []string{"StartWCU", "StartTableWCU", "StartIndexWCU", "StartKMS", "StartRCU", "EndWCU", "Live1000WCU", "Live1000IndexWCU", "Live1000ShardWCU",
		"Start1000KMS", "Start1000KMSPer10s", "YTCreate", "YTStart", "YTEnd", "YTPerLive", "YTPerDay", "YT1000", "YTDays"}
	for _, k := range liveKeys {
		f[k] = nm
	}
	if len(r.life) == 3 && r.life[0].err == nil && r.life[1].err == nil && r.life[2].err == nil {
		create, start, end := r.life[0].calls, r.life[1].calls, r.life[2].calls
		sr, sw := start.Consumed()
		_, ew := end.Consumed()
		kms := len(start.Of("KMS"))
		f["StartWCU"], f["StartTableWCU"], f["StartIndexWCU"] = units(sw.Table+sw.Indexes), units(sw.Table), units(sw.Indexes)
		f["StartKMS"], f["StartRCU"], f["EndWCU"] = fmt.Sprint(kms), units(sr.Table+sr.Indexes), units(ew.Table+ew.Indexes)
		f["Live1000WCU"], f["Live1000IndexWCU"] = grouped(1000*sw.Table), grouped(1000*sw.Indexes)
		f["Live1000ShardWCU"] = num(1000*sw.Indexes/store.DueShards, 0)
		f["Start1000KMS"], f["Start1000KMSPer10s"] = grouped(float64(1000*kms)), num(float64(1000*kms)/10, 0)
		yc, ys, ye := youTubeUnits(create), youTubeUnits(start), youTubeUnits(end)
		per := yc + ys + ye
		f["YTCreate"], f["YTStart"], f["YTEnd"], f["YTPerLive"] = fmt.Sprint(yc), fmt.Sprint(ys), fmt.Sprint(ye), fmt.Sprint(per)
		if per > 0 {
			f["YTPerDay"], f["YT1000"], f["YTDays"] = fmt.Sprint(10000/per), grouped(float64(1000*per)), num(float64(1000*per)/10000, 0)
		}
	}
	return f
}
