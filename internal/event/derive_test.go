package event

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/series"
)

var at = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func change(old, cur any) Change {
	return Change{ID: "rec-1", Tenant: "t1", At: at, Order: "20261206T100000Z#0001", Old: old, New: cur}
}

func conn(st connection.Status, connectedAt time.Time) *connection.Connection {
	return &connection.Connection{Tenant: "t1", Platform: "youtube", Status: st, ConnectedAt: connectedAt, AccountID: "UC1",
		Sealed: []byte("sealed-envelope-bytes")}
}

type scheduled []*livestream.Livestream

func (s scheduled) ScheduledLivestreams(context.Context, string) ([]*livestream.Livestream, error) {
	return s, nil
}

func types(evs []Event) []Type {
	out := make([]Type, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func TestDeriveYieldsAnEventForEachChangeACallerCaresAboutAndNoneOtherwise(t *testing.T) {
	t.Parallel()
	t0, t1 := at.Add(-time.Hour), at
	ls := &livestream.Livestream{Tenant: "t1", ID: "ls1", Title: "Sunday", Status: livestream.StatusScheduled, ScheduledStart: at.Add(time.Hour),
		Targets: []livestream.Target{{Platform: "youtube", Status: livestream.TargetPending}}}
	other := &livestream.Livestream{Tenant: "t1", ID: "ls2", Status: livestream.StatusScheduled,
		Targets: []livestream.Target{{Platform: "facebook", Status: livestream.TargetPending}}}
	target := func(st livestream.TargetStatus, lerr *livestream.LastError) *livestream.Livestream {
		c := *ls
		c.Targets = []livestream.Target{{Platform: "youtube", Status: st, LastError: lerr}}
		return &c
	}
	live := target(livestream.TargetLive, nil)
	live.Status = livestream.StatusLive
	dep := func(st deploy.Status, rollbackOf string) *deploy.Deployment {
		return &deploy.Deployment{Tenant: "t1", ID: "dpl1", Platform: "vercel", Status: st, RollbackOf: rollbackOf}
	}
	meet := func(st meeting.TargetStatus) *meeting.Meeting {
		return &meeting.Meeting{Tenant: "t1", ID: "m1", Targets: []meeting.Target{{Platform: "zoom", Status: st, JoinURL: "https://zoom.example/j/1?pwd=secret"}}}
	}
	expiring := conn(connection.StatusConnected, t0)
	expiring.ExpiryNotice = connection.NoticeWeek
	checked := func(when time.Time, encoder livestream.CheckStatus) *livestream.Livestream {
		c := *ls
		c.CheckedAt = when
		c.Targets = []livestream.Target{{Platform: "youtube", Status: livestream.TargetReady, Checks: []livestream.Check{
			{Name: livestream.CheckConnection, Status: livestream.CheckPass, Message: "the token lasts past the start", At: when},
			{Name: livestream.CheckEncoder, Status: encoder, Message: "the encoder is not pushing", At: when}}}}
		return &c
	}
	ep := func(st EndpointStatus) *Endpoint { return &Endpoint{Tenant: "t1", ID: "wh1", Status: st} }
	liveSeries := func(f *series.Failure) *livestream.Series {
		return &livestream.Series{Tenant: "t1", ID: "sr1", Failure: f, Definition: livestream.Definition{Template: livestream.CreateInput{Title: "Sunday"}}}
	}
	meetSeries := func(f *series.Failure) *meeting.Series {
		return &meeting.Series{Tenant: "t1", ID: "ms1", Failure: f}
	}
	sunday := &series.Failure{Start: at.Add(48 * time.Hour), Code: "target_not_connected", Message: "connect YouTube", At: t0}
	sundayAgain := &series.Failure{Start: sunday.Start, Code: sunday.Code, Message: sunday.Message, At: t1}
	nextSunday := &series.Failure{Start: sunday.Start.Add(7 * 24 * time.Hour), Code: sunday.Code, Message: sunday.Message, At: t1}
	fail1 := &livestream.LastError{Code: "quota", At: t0}
	fail2 := &livestream.LastError{Code: "quota", At: t1}
	cases := []struct {
		name   string
		c      Change
		lookup Lookup
		want   []Type
	}{
		{"a new connection", change(nil, conn(connection.StatusConnected, t0)), nil, []Type{ConnectionConnected}},
		{"a refresh that changes nothing visible", change(conn(connection.StatusConnected, t0), conn(connection.StatusConnected, t0)), nil, nil},
		{"a reconnect of a connected account", change(conn(connection.StatusConnected, t0), conn(connection.StatusConnected, t1)), nil, []Type{ConnectionConnected}},
		{"an expiry", change(conn(connection.StatusConnected, t0), conn(connection.StatusExpired, t0)), scheduled{ls, other}, []Type{ConnectionExpired, LivestreamAtRisk}},
		{"an error", change(conn(connection.StatusConnected, t0), conn(connection.StatusError, t0)), nil, []Type{ConnectionError}},
		{"a recovery", change(conn(connection.StatusError, t0), conn(connection.StatusConnected, t0)), nil, []Type{ConnectionRecovered}},
		{"a disconnect with a scheduled livestream on it", change(conn(connection.StatusConnected, t0), conn(connection.StatusDisconnected, t0)), scheduled{ls, other}, []Type{ConnectionDisconnected, LivestreamAtRisk}},
		{"a disconnect of a disconnected connection", change(conn(connection.StatusDisconnected, t0), conn(connection.StatusDisconnected, t0)), scheduled{ls}, nil},
		{"a reconnect after a disconnect", change(conn(connection.StatusDisconnected, t0), conn(connection.StatusConnected, t0)), nil, []Type{ConnectionConnected}},
		{"an expiry notice", change(conn(connection.StatusConnected, t0), expiring), nil, []Type{ConnectionExpiring}},
		{"the same expiry notice again", change(expiring, expiring), nil, nil},
		{"a connection item removed", change(conn(connection.StatusConnected, t0), nil), nil, nil},
		{"a new livestream", change(nil, ls), nil, nil},
		{"a target set up", change(ls, target(livestream.TargetReady, nil)), nil, []Type{LivestreamTargetReady}},
		{"a target and the livestream live", change(target(livestream.TargetReady, nil), live), nil, []Type{LivestreamTargetLive, LivestreamLive}},
		{"a target failing", change(target(livestream.TargetReady, nil), target(livestream.TargetFailed, fail1)), nil, []Type{LivestreamTargetFailed}},
		{"a failed target rewritten as it was", change(target(livestream.TargetFailed, fail1), target(livestream.TargetFailed, fail1)), nil, nil},
		{"a failed target failing again", change(target(livestream.TargetFailed, fail1), target(livestream.TargetFailed, fail2)), nil, []Type{LivestreamTargetFailed}},
		{"a preflight ran", change(target(livestream.TargetReady, nil), checked(t0, livestream.CheckWarn)), nil, []Type{LivestreamChecked}},
		{"a later preflight", change(checked(t0, livestream.CheckWarn), checked(t1, livestream.CheckPass)), nil, []Type{LivestreamChecked}},
		{"a save that ran no preflight", change(checked(t0, livestream.CheckWarn), checked(t0, livestream.CheckWarn)), nil, nil},
		{"a meeting created", change(nil, meet(meeting.TargetReady)), nil, []Type{MeetingTargetCreated}},
		{"a meeting pending", change(nil, meet(meeting.TargetPending)), nil, nil},
		{"a meeting cancelled", change(meet(meeting.TargetReady), meet(meeting.TargetCancelled)), nil, []Type{MeetingTargetCancelled}},
		{"a deployment accepted", change(nil, dep(deploy.StatusQueued, "")), nil, []Type{DeploymentQueued}},
		{"a deployment's progress written", change(dep(deploy.StatusBuilding, ""), dep(deploy.StatusBuilding, "")), nil, nil},
		{"a deployment ready", change(dep(deploy.StatusBuilding, ""), dep(deploy.StatusReady, "")), nil, []Type{DeploymentReady}},
		{"a rollback ready", change(dep(deploy.StatusBuilding, "dpl0"), dep(deploy.StatusReady, "dpl0")), nil, []Type{DeploymentReady, DeploymentRolledBack}},
		{"a deployment timed out", change(dep(deploy.StatusBuilding, ""), dep(deploy.StatusTimedOut, "")), nil, []Type{DeploymentTimedOut}},
		{"an endpoint disabled", change(ep(EndpointActive), ep(EndpointDisabled)), nil, []Type{WebhookEndpointDisabled}},
		{"an endpoint created", change(nil, ep(EndpointActive)), nil, nil},
		{"a series made its occurrences", change(liveSeries(nil), liveSeries(nil)), nil, nil},
		{"a series' occurrence could not be made", change(liveSeries(nil), liveSeries(sunday)), nil, []Type{SeriesOccurrenceFailed}},
		{"the retry failing alike", change(liveSeries(sunday), liveSeries(sundayAgain)), nil, nil},
		{"a later occurrence failing", change(liveSeries(sunday), liveSeries(nextSunday)), nil, []Type{SeriesOccurrenceFailed}},
		{"the occurrence made after all", change(liveSeries(sunday), liveSeries(nil)), nil, nil},
		{"a meeting series' occurrence could not be made", change(meetSeries(nil), meetSeries(sunday)), nil, []Type{SeriesOccurrenceFailed}},
	}
	for _, c := range cases {
		got, err := Derive(context.Background(), c.c, c.lookup)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if g := types(got); strings.Join(typeStrings(g), ",") != strings.Join(typeStrings(c.want), ",") {
			t.Errorf("%s: %v, want %v", c.name, g, c.want)
		}
		for _, e := range got {
			if !Known(e.Type) {
				t.Errorf("%s: %s is not in Types()", c.name, e.Type)
			}
			raw, _ := json.Marshal(e)
			// The sealed bytes would be marshalled as base64: look for both forms.
			for _, secret := range []string{"sealed-envelope-bytes", base64.StdEncoding.EncodeToString([]byte("sealed-envelope-bytes")), "pwd=secret", "t1"} {
				if strings.Contains(string(raw), secret) {
					t.Errorf("%s: the event shows %q: %s", c.name, secret, raw)
				}
			}
		}
	}
}

// livestream.checked carries every target's checks and the worst outcome,
// so an app can warn from one field.
func TestAPreflightsEventCarriesEachTargetsChecksAndTheWorstOutcome(t *testing.T) {
	t.Parallel()
	before := &livestream.Livestream{Tenant: "t1", ID: "ls1", Title: "Sunday", ScheduledStart: at.Add(30 * time.Minute),
		Targets: []livestream.Target{{Platform: "youtube"}, {Platform: "facebook"}}}
	after := *before
	after.CheckedAt = at
	after.Targets = []livestream.Target{
		{Platform: "youtube", Checks: []livestream.Check{{Name: livestream.CheckEncoder, Status: livestream.CheckWarn, Message: "the encoder is not pushing", At: at}}},
		{Platform: "facebook", Checks: []livestream.Check{
			{Name: livestream.CheckConnection, Status: livestream.CheckFail, Message: "Facebook no longer accepts the token: reconnect", At: at},
			{Name: livestream.CheckEncoder, Status: livestream.CheckUnsupported, Message: "Facebook does not tell", At: at}}},
	}
	evs, err := Derive(context.Background(), change(before, &after), nil)
	if err != nil || len(evs) != 1 || evs[0].Type != LivestreamChecked {
		t.Fatalf("events %v, %v; want one livestream.checked", evs, err)
	}
	raw, err := json.Marshal(evs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"checkedAt":"2026-12-06T10:00:00Z","livestreamId":"ls1","scheduledStart":"2026-12-06T10:30:00Z",` +
		`"targets":[{"checks":[{"at":"2026-12-06T10:00:00Z","message":"the encoder is not pushing","name":"encoder","status":"warn"}],"platform":"youtube"},` +
		`{"checks":[{"at":"2026-12-06T10:00:00Z","message":"Facebook no longer accepts the token: reconnect","name":"connection","status":"fail"},` +
		`{"at":"2026-12-06T10:00:00Z","message":"Facebook does not tell","name":"encoder","status":"unsupported"}],"platform":"facebook"}],` +
		`"title":"Sunday","worst":"fail"}`
	if string(raw) != want {
		t.Fatalf("data\n%s\nwant\n%s", raw, want)
	}
}

func typeStrings(ts []Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func TestAnEventsIDIsTheSameForTheSameRecordAndDiffersPerEvent(t *testing.T) {
	t.Parallel()
	two := &livestream.Livestream{Tenant: "t1", ID: "ls1", Status: livestream.StatusScheduled, Targets: []livestream.Target{
		{Platform: "youtube", Status: livestream.TargetReady}, {Platform: platform.ID("facebook"), Status: livestream.TargetReady}}}
	c := change(nil, two)
	a, _ := Derive(context.Background(), c, nil)
	b, _ := Derive(context.Background(), c, nil)
	if len(a) != 2 || a[0].ID != b[0].ID || a[1].ID != b[1].ID {
		t.Fatalf("the same record gave %v and %v", a, b)
	}
	if a[0].ID == a[1].ID || a[0].Key >= a[1].Key {
		t.Fatalf("two events of one record share an id or are out of order: %+v", a)
	}
	c.ID = "rec-2"
	d, _ := Derive(context.Background(), c, nil)
	if d[0].ID == a[0].ID {
		t.Fatal("another record gave the same id")
	}
}
