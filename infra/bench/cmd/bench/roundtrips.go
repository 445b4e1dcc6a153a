package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel/vercelfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// The tenant whose operations are counted.
const rtTenant = "bench-tenant"

// The platforms the round trips are measured on, the sandbox's fakes of
// them: YouTube (OAuth, livestreams), Zoom (meetings), Vercel
// (deployments). The cost table's notes count their calls.
const (
	rtLive   = youtubefake.PlatformID
	rtMeet   = zoomfake.PlatformID
	rtDeploy = vercelfake.PlatformID
)

// cost is a number of calls per kind of service.
type cost struct{ dynamo, kms, http int }

// operation is one measured API operation and the least it can cost.
type operation struct {
	name string
	min  cost
	why  string // why the minimum is what it is
}

// rtResult is an operation's measured calls, or why it was not measured.
type rtResult struct {
	op     operation
	calls  roundtrip.Calls
	note   string // what else to know about the measurement
	reason string // when not measured: why
	// absent is true when the capability is not built yet (501).
	absent bool
}

func (r rtResult) measured() bool { return r.reason == "" }

func (r rtResult) dynamo() int { return len(r.calls.Of("DynamoDB")) }
func (r rtResult) kms() int    { return len(r.calls.Of("KMS")) }
func (r rtResult) http() int   { return len(r.calls.Of(roundtrip.HTTP)) }

// errAbsent marks an operation whose capability is not built yet.
var errAbsent = errors.New("the capability is not built yet (it answers 501 not_implemented, or its run reports notBuilt)")

// Operation names, also used by the budgets.
const (
	opOAuthStart     = "POST /connections/{p}/oauth (start)"
	opOAuthCallback  = "GET /oauth/{p}/callback"
	opListConns      = "GET /connections"
	opGetConn        = "GET /connections/{p}"
	opRefreshConn    = "POST /connections/{p}/refresh"
	opTokenCold      = "credentials read, first in an instance"
	opTokenWarm      = "credentials read, warm"
	opCreateLive     = "POST /livestreams"
	opGetLive        = "GET /livestreams/{id}"
	opListLive       = "GET /livestreams"
	opSchedulerIdle  = "stream-scheduler run, nothing due"
	opRefresherIdle  = "token-refresher run, nothing due"
	opCreateMeeting  = "POST /meetings"
	opGetMeeting     = "GET /meetings/{id}"
	opListMeetings   = "GET /meetings"
	opCreateDeploy   = "POST /deployments"
	opDeployRateRule = "POST /deployments: the rate-limit decision"
	opGetLimits      = "GET /deployments/limits"
	opGetDeploy      = "GET /deployments/{id}"
	opListDeploys    = "GET /deployments"
)

// operations are the measured operations with their minimums, in order.
var operations = []operation{
	{opOAuthStart, cost{1, 1, 0}, "the state must outlive this instance (1 write); the PKCE verifier is a secret sealed with a fresh data key (1 GenerateDataKey)"},
	{opOAuthCallback, cost{2, 2, 2}, "take the state once (1 DeleteItem returning it), write the connection (1 conditional write); open the PKCE verifier (1 Decrypt: the callback generally reaches another instance than the start, and sealing does not cache the key) and seal the tokens (1 GenerateDataKey); exchange the code and read the account (2 HTTP)"},
	{opListConns, cost{1, 0, 0}, "one Query of the tenant's partition"},
	{opGetConn, cost{1, 0, 0}, "one GetItem"},
	{opRefreshConn, cost{3, 2, 1}, "read, take the refresh lease (invariant 4: one refresh at a time), save and release in one conditional write; open the current tokens (1 Decrypt: the connections function has not opened them, and sealing does not cache the key) and seal the new ones (1 GenerateDataKey); one token call"},
	{opTokenCold, cost{1, 1, 0}, "one consistent GetItem; the first Open in an instance unwraps the data key (1 Decrypt)"},
	{opTokenWarm, cost{1, 0, 0}, "one consistent GetItem; the vault's data-key cache opens it without KMS"},
	{opCreateLive, cost{3, 1, 3}, "read the connection (its data key cached); write the livestream before the platform calls and their outcome after, so nothing created at a platform goes unrecorded (2 writes); seal the stream key (1 GenerateDataKey); YouTube: insert broadcast, insert stream, bind (3 HTTP)"},
	{opGetLive, cost{1, 0, 0}, "one GetItem"},
	{opListLive, cost{1, 0, 0}, "one Query of the tenant's livestreams"},
	{opSchedulerIdle, cost{store.DueShards + 1, 0, 0}, fmt.Sprintf("one Query of each partition of the due-work index for livestreams: its %d shards and the unsharded partition of items written before the sharding (internal/store/due.go)", store.DueShards)},
	{opRefresherIdle, cost{store.DueShards + 2, 0, 0}, fmt.Sprintf("one Query of each of the %d partitions of the due-work index for credentials, and one for deployments whose worker died (the deployment sweep rides on this schedule, so that stream-scheduler's idle minute stays at its own queries)", store.DueShards+1)},
	{opCreateMeeting, cost{3, 1, 1}, "read the connection (data key cached); write the meeting before the platform call and its outcome after (2 writes); seal the host link, Zoom's start_url, which starts the meeting as its host (1 GenerateDataKey); one Zoom call"},
	{opGetMeeting, cost{1, 0, 0}, "one GetItem"},
	{opListMeetings, cost{1, 0, 0}, "one Query of the tenant's meetings"},
	{opCreateDeploy, cost{3, 0, 0}, "read the user's rate window and the connection (a deployment to an unconnected platform is refused, not queued), then one transaction that commits the window with the deployment and its files; the platform work is the worker's"},
	{opDeployRateRule, cost{2, 0, 0}, "read the window, commit it conditionally on its version (ratelimit.Taker)"},
	{opGetLimits, cost{1, 0, 0}, "one GetItem of the window"},
	{opGetDeploy, cost{2, 0, 0}, "one GetItem, and one of the user's rate window: every deployments answer carries RateLimit-* headers (the contract)"},
	{opListDeploys, cost{2, 0, 0}, "one Query of the tenant's deployments, and one GetItem of the user's rate window for the RateLimit-* headers"},
}

// aboveMinimum says, for an operation whose count stays above its minimum,
// why it does: what the extra call buys, or what removing it would take.
var aboveMinimum = map[string]string{
	opOAuthCallback: "the callback also reads the connection (GetItem CONN#) before writing it: a reconnect keeps connectedAt unless the connection was disconnected, " +
		"and records a status transition in its history only when the status changes; an update expression cannot branch on the stored status, " +
		"so the write needs the stored item first. Writing first on attribute_not_exists(pk) would make a first connection 2 calls but a reconnect 4 " +
		"(the refused write, the read, the write again), so it is not done",
	opCreateLive: "the target's outcome is written under the claim as soon as its platform calls end (UpdateItem), and the release writes the whole livestream " +
		"and its due-work key (UpdateItem): with several targets a slow or failing one cannot delay or lose what another made at its platform. " +
		"A one-target create could fold the two writes into one; not done yet",
	opCreateMeeting: "after the targets' outcomes are written (each its own conditional UpdateItem, so targets made at once never overwrite each other), " +
		"the answer reads the meeting again (GetItem MEET#). Taking the item from the last outcome's write (ReturnValues ALL_NEW: writes to one item are serialised, " +
		"so the last to finish holds every outcome) would save that read; not done yet",
	opCreateDeploy: "a files deployment writes its archive pieces (PutItem DEPLOYFILE#, one per 350 KiB piece) before the transaction: a transaction holds at most " +
		"100 items and 4 MB in all (DynamoDB TransactWriteItems limits), so pieces cannot ride in it in general. An image or repository deployment makes the 3",
}

// roundTrips runs every operation through the in-process stack and counts
// its calls.
func roundTrips(ctx context.Context, s *stack, logf func(string, ...any)) []rtResult {
	r := &rtRun{s: s, ctx: ctx, results: map[string]rtResult{}}
	logf("round trips: connections")
	r.connections()
	logf("round trips: livestreams and the scheduler")
	r.livestreams()
	logf("round trips: meetings")
	r.meetings()
	logf("round trips: deployments")
	r.deployments()
	out := make([]rtResult, 0, len(operations))
	for _, op := range operations {
		res, ok := r.results[op.name]
		if !ok {
			res = rtResult{reason: "not reached"}
		}
		res.op = op
		out = append(out, res)
	}
	return out
}

type rtRun struct {
	s       *stack
	ctx     context.Context
	results map[string]rtResult
}

// count runs f and records the calls it made under name.
func (r *rtRun) count(name string, f func() (note string, err error)) bool {
	r.s.w.counter.Take()
	note, err := f()
	calls := r.s.w.counter.Take()
	res := rtResult{calls: calls, note: note}
	if err != nil {
		res = rtResult{reason: err.Error(), absent: errors.Is(err, errAbsent)}
	}
	r.results[name] = res
	return err == nil
}

// skip records that name was not measured.
func (r *rtRun) skip(name string, err error) {
	r.results[name] = rtResult{reason: err.Error(), absent: errors.Is(err, errAbsent)}
}

// request counts one call through the gateway that should answer want,
// decoding a success into out when out is not nil.
func (r *rtRun) request(name, method, path string, body any, want int, out any, note string) bool {
	return r.count(name, func() (string, error) {
		st, raw, err := r.s.call(r.ctx, method, path, rtTenant, body, out)
		if err != nil {
			return "", err
		}
		return note, expect(method, path, st, want, raw)
	})
}

// expect checks a status, naming 501 as an absent capability.
func expect(method, path string, got, want int, body []byte) error {
	if got == want {
		return nil
	}
	if got == http.StatusNotImplemented {
		return fmt.Errorf("%s %s: %w", method, path, errAbsent)
	}
	return fmt.Errorf("%s %s answered %d, not %d: %s", method, path, got, want, trunc.String(string(body), 300))
}

func (r *rtRun) connections() {
	s, ctx := r.s, r.ctx
	var start struct{ AuthorizeURL string }
	ok := r.count(opOAuthStart, func() (string, error) {
		st, body, err := s.call(ctx, "POST", "/connections/"+rtLive+"/oauth", rtTenant, map[string]string{"returnTo": appURL + "/settings"}, &start)
		if err != nil {
			return "", err
		}
		return "YouTube (PKCE)", expect("POST", "/connections/"+rtLive+"/oauth", st, 200, body)
	})
	if !ok {
		for _, op := range []string{opOAuthCallback, opListConns, opGetConn, opRefreshConn, opTokenCold, opTokenWarm} {
			r.skip(op, errors.New("the OAuth start failed"))
		}
		return
	}
	callback, err := s.authorizeUntilCallback(ctx, start.AuthorizeURL)
	if err != nil {
		r.skip(opOAuthCallback, err)
	} else {
		r.count(opOAuthCallback, func() (string, error) { return "YouTube, same instance as the start", s.callback(ctx, callback) })
	}
	r.request(opListConns, "GET", "/connections", nil, 200, nil, "")
	r.request(opGetConn, "GET", "/connections/"+rtLive, nil, 200, nil, "")
	r.request(opRefreshConn, "POST", "/connections/"+rtLive+"/refresh", nil, 200, nil, "YouTube")
	// A fresh instance reads the credentials twice: the first Open unwraps
	// the data key at KMS, the second finds it in the vault's cache.
	deps, err := app.NewDeps(ctx, app.Meetings, s.opts)
	var conns *connection.Service
	if err == nil {
		conns, err = deps.ConnectionService(ctx)
	}
	if err != nil {
		r.skip(opTokenCold, err)
		r.skip(opTokenWarm, err)
		return
	}
	for _, name := range []string{opTokenCold, opTokenWarm} {
		r.count(name, func() (string, error) {
			c, err := conns.Token(ctx, rtTenant, platform.ID(rtLive))
			if err == nil && c.Bearer() == "" {
				err = errors.New("the credentials read gave no bearer token")
			}
			return "connection.Service.Token, YouTube, token not near expiry", err
		})
	}
}

// connect runs an OAuth connection for tenant, uncounted.
func (s *stack) connect(ctx context.Context, tenant, p string) error {
	var start struct{ AuthorizeURL string }
	st, body, err := s.call(ctx, "POST", "/connections/"+p+"/oauth", tenant, map[string]string{"returnTo": appURL + "/settings"}, &start)
	if err != nil {
		return err
	}
	if err := expect("POST", "/connections/"+p+"/oauth", st, 200, body); err != nil {
		return err
	}
	cb, err := s.authorizeUntilCallback(ctx, start.AuthorizeURL)
	if err != nil {
		return err
	}
	return s.callback(ctx, cb)
}

// authorizeUntilCallback plays the browser at the provider (the OAuth
// mock approves at once) and stops at the redirect to our callback,
// which it returns.
func (s *stack) authorizeUntilCallback(ctx context.Context, authorizeURL string) (string, error) {
	browser := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), s.base+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, "GET", authorizeURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := browser.Do(req)
	if err != nil {
		return "", fmt.Errorf("authorizing at the OAuth mock: %w", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, s.base+"/oauth/") {
		return "", fmt.Errorf("the OAuth mock answered %d without a redirect to the callback (Location %q)", resp.StatusCode, loc)
	}
	return loc, nil
}

// callback sends the browser's callback request and checks that it went
// back to the app connected.
func (s *stack) callback(ctx context.Context, callbackURL string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", callbackURL, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("status") != "connected" {
		return fmt.Errorf("the callback answered %d to %q, not a redirect back connected", resp.StatusCode, resp.Header.Get("Location"))
	}
	return nil
}

func (r *rtRun) livestreams() {
	s, ctx := r.s, r.ctx
	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Minute)
	body := map[string]any{
		"title": "Bench service", "scheduledStart": start.Format(time.RFC3339), "scheduledEnd": start.Add(time.Hour).Format(time.RFC3339),
		"targets": []map[string]any{{"platform": rtLive, "privacy": "unlisted", "madeForKids": false}},
	}
	var created struct{ ID string }
	// The first create warms this instance (its first Open unwraps the
	// connection's data key); the second is counted.
	st, raw, err := s.call(ctx, "POST", "/livestreams", rtTenant, body, &created)
	if err == nil {
		err = expect("POST", "/livestreams", st, 201, raw)
	}
	if err != nil {
		for _, op := range []string{opCreateLive, opGetLive, opListLive} {
			r.skip(op, err)
		}
	} else {
		r.request(opCreateLive, "POST", "/livestreams", body, 201, &created, "one YouTube target; second create in the instance")
		r.request(opGetLive, "GET", "/livestreams/"+created.ID, nil, 200, nil, "")
		r.request(opListLive, "GET", "/livestreams", nil, 200, nil, "two livestreams")
	}
	r.scheduled(opSchedulerIdle, app.StreamSched)
	r.scheduled(opRefresherIdle, app.TokenRefresher)
}

// scheduled runs a scheduled function once, now, when nothing is due
// (everything created above is due a day from now or later).
func (r *rtRun) scheduled(name, function string) {
	run, err := app.Scheduled(r.ctx, function, r.s.opts)
	if err != nil {
		r.skip(name, err)
		return
	}
	r.count(name, func() (string, error) {
		ctx, cancel := context.WithTimeout(r.ctx, 50*time.Second)
		defer cancel()
		rep, err := run(ctx, events.EventBridgeEvent{ID: "bench", DetailType: "Scheduled Event", Time: time.Now().UTC()})
		if err != nil {
			return "", err
		}
		if rep.Found != 0 {
			return "", fmt.Errorf("%s found %d due, so this is not a run with nothing due", function, rep.Found)
		}
		return "", nil
	})
}

func (r *rtRun) meetings() {
	s, ctx := r.s, r.ctx
	if err := s.connect(ctx, rtTenant, rtMeet); err != nil {
		for _, op := range []string{opCreateMeeting, opGetMeeting, opListMeetings} {
			r.skip(op, fmt.Errorf("connecting Zoom: %w", err))
		}
		return
	}
	body := map[string]any{
		"title": "Bench meeting", "startTime": time.Now().UTC().Add(24 * time.Hour).Truncate(time.Minute).Format(time.RFC3339),
		"durationMinutes": 30, "timezone": "UTC", "targets": []map[string]string{{"platform": rtMeet}},
	}
	var created struct{ ID string }
	st, raw, err := s.call(ctx, "POST", "/meetings", rtTenant, body, &created)
	if err == nil {
		err = expect("POST", "/meetings", st, 201, raw)
	}
	if err != nil {
		for _, op := range []string{opCreateMeeting, opGetMeeting, opListMeetings} {
			r.skip(op, err)
		}
		return
	}
	r.request(opCreateMeeting, "POST", "/meetings", body, 201, &created, "one Zoom target; second create in the instance")
	r.request(opGetMeeting, "GET", "/meetings/"+created.ID, nil, 200, nil, "")
	r.request(opListMeetings, "GET", "/meetings", nil, 200, nil, "two meetings")
}

func (r *rtRun) deployments() {
	ops := []string{opCreateDeploy, opDeployRateRule, opGetDeploy, opListDeploys, opGetLimits}
	body := func(n int) map[string]any {
		return map[string]any{
			"platform": rtDeploy, "projectName": fmt.Sprintf("bench-site-%d", n),
			"files": []map[string]string{{"path": "index.html", "content": "<h1>bench</h1>", "encoding": "utf-8"}},
		}
	}
	// Is the capability there at all? Asking for the limits says.
	if st, raw, err := r.s.call(r.ctx, "GET", "/deployments/limits", rtTenant, nil, nil); err != nil || st != 200 {
		if err == nil {
			err = expect("GET", "/deployments/limits", st, 200, raw)
		}
		for _, op := range ops {
			r.skip(op, err)
		}
		return
	}
	err := r.s.connect(r.ctx, rtTenant, rtDeploy)
	if err == nil {
		// The first deployment warms the instance; the second is counted.
		st, raw, callErr := r.s.call(r.ctx, "POST", "/deployments", rtTenant, body(1), nil)
		if err = callErr; err == nil {
			err = expect("POST", "/deployments", st, 202, raw)
		}
	}
	if err != nil {
		for _, op := range ops[:4] {
			r.skip(op, err)
		}
	} else {
		var created struct{ ID string }
		r.request(opCreateDeploy, "POST", "/deployments", body(2), 202, &created, "Vercel, one file; the user's window holds an earlier acceptance")
		if res := r.results[opCreateDeploy]; res.measured() {
			r.results[opDeployRateRule] = rtResult{calls: res.calls.Touching("RATE#"),
				note: "the calls of the POST above that touch the RATE# window item"}
		} else {
			r.results[opDeployRateRule] = rtResult{reason: res.reason, absent: res.absent}
		}
		r.request(opGetDeploy, "GET", "/deployments/"+created.ID, nil, 200, nil, "")
		r.request(opListDeploys, "GET", "/deployments", nil, 200, nil, "two deployments")
	}
	var lim struct{ Limit, Remaining int }
	if r.request(opGetLimits, "GET", "/deployments/limits", nil, 200, &lim, "") {
		res := r.results[opGetLimits]
		res.note = fmt.Sprintf("limit %d, remaining %d", lim.Limit, lim.Remaining)
		r.results[opGetLimits] = res
	}
}
