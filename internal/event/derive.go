package event

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/series"
)

// Change is one committed write of one item, as the table's stream reports
// it: the item before and after (nil when it did not exist), both of one
// kind: *connection.Connection, *livestream.Livestream, *meeting.Meeting,
// *deploy.Deployment or *Endpoint. The store decodes it from a stream
// record; nothing else makes one.
type Change struct {
	// ID is the stream record's eventID, the same on every delivery of the
	// record: each event's id is derived from it.
	ID     string
	Tenant string
	// At is when the write committed (the record's approximate creation
	// time, to the second) and Order sorts the tenant's changes as they
	// were written (the time, then the record's sequence number).
	At    time.Time
	Order string
	Old   any
	New   any
}

// Lookup is what a deriver may read besides the change: the tenant's
// scheduled livestreams (for the warning that one of them is at risk).
type Lookup interface {
	ScheduledLivestreams(ctx context.Context, tenant string) ([]*livestream.Livestream, error)
}

// deriver yields the events of one kind of change; it answers nil for a
// change of another kind.
type deriver func(ctx context.Context, c Change, l Lookup) ([]Event, error)

// derivers is every deriver: adding an event type derived from a write is
// a line here (or in the deriver of its item's kind).
var derivers = []deriver{connectionEvents, atRiskEvents, livestreamEvents, meetingEvents, seriesEvents, deploymentEvents, endpointEvents}

// Derive yields the events of one committed change, in order, each with
// its id, tenant, time and order key set.
func Derive(ctx context.Context, c Change, l Lookup) ([]Event, error) {
	var out []Event
	for _, d := range derivers {
		evs, err := d(ctx, c, l)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	for i := range out {
		e := &out[i]
		e.Tenant, e.OccurredAt = c.Tenant, c.At
		e.ID = idFor(c.ID, e.Type, e.Resource.ID, partOf(e))
		e.Key = fmt.Sprintf("%s#%02d", c.Order, i)
		if e.Data == nil {
			e.Data = map[string]any{}
		}
	}
	return out, nil
}

// partOf tells apart two events of one type from one change (two targets
// of one livestream going live at once).
func partOf(e *Event) string {
	if p, ok := e.Data["platform"].(string); ok {
		return p
	}
	if id, ok := e.Data["livestreamId"].(string); ok {
		return id
	}
	return ""
}

// pair reads a change's two images as kind T; ok is false for a change of
// another kind.
func pair[T any](c Change) (old, cur *T, ok bool) {
	old, okOld := c.Old.(*T)
	cur, okNew := c.New.(*T)
	if (c.Old != nil && !okOld) || (c.New != nil && !okNew) || (old == nil && cur == nil) {
		return nil, nil, false
	}
	return old, cur, true
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func lastError(code, message string, at time.Time) map[string]any {
	return map[string]any{"code": code, "message": message, "at": stamp(at)}
}

// --- connections -----------------------------------------------------

func connectionEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	old, cur, ok := pair[connection.Connection](c)
	if !ok || cur == nil {
		return nil, nil // a deleted connection item: Disconnect keeps the item, so nothing a caller saw changed
	}
	var was connection.Status
	if old != nil {
		was = old.Status
	}
	var t Type
	switch {
	case cur.Status == connection.StatusConnected && (old == nil || was == connection.StatusDisconnected || !cur.ConnectedAt.Equal(old.ConnectedAt)):
		t = ConnectionConnected
	case cur.Status == connection.StatusConnected && (was == connection.StatusExpired || was == connection.StatusError):
		t = ConnectionRecovered
	case cur.Status == was:
	case cur.Status == connection.StatusExpired:
		t = ConnectionExpired
	case cur.Status == connection.StatusError:
		t = ConnectionError
	case cur.Status == connection.StatusDisconnected:
		t = ConnectionDisconnected
	}
	var out []Event
	if t != "" {
		out = append(out, connEvent(t, cur, was))
	}
	if cur.Status == connection.StatusConnected && cur.ExpiryNotice != "" && (old == nil || old.ExpiryNotice != cur.ExpiryNotice) {
		e := connEvent(ConnectionExpiring, cur, was)
		e.Data["within"] = cur.ExpiryNotice
		out = append(out, e)
	}
	return out, nil
}

func connEvent(t Type, c *connection.Connection, was connection.Status) Event {
	data := map[string]any{
		"platform": string(c.Platform), "status": string(c.Status), "previousStatus": nil,
		"accountId": c.AccountID, "accountName": c.AccountName, "expiresAt": stamp(c.ExpiresAt), "lastError": nil,
	}
	if was != "" {
		data["previousStatus"] = string(was)
	}
	if c.LastError != nil && c.Status != connection.StatusConnected {
		data["lastError"] = lastError(c.LastError.Code, c.LastError.Message, c.LastError.At)
	}
	return Event{Type: t, Resource: Resource{Type: "connection", ID: string(c.Platform)}, Data: data}
}

// atRiskEvents warns, when a connection is disconnected or expires, about
// each of the tenant's scheduled livestreams with a target on its
// platform: they would fail when they start.
func atRiskEvents(ctx context.Context, c Change, l Lookup) ([]Event, error) {
	old, cur, ok := pair[connection.Connection](c)
	if !ok || cur == nil || l == nil {
		return nil, nil
	}
	lost := cur.Status == connection.StatusDisconnected || cur.Status == connection.StatusExpired
	if !lost || (old != nil && old.Status == cur.Status) {
		return nil, nil
	}
	scheduled, err := l.ScheduledLivestreams(ctx, c.Tenant)
	if err != nil {
		return nil, fmt.Errorf("event: reading scheduled livestreams: %w", err)
	}
	var out []Event
	for _, ls := range scheduled {
		if ls.PublicStatus() != livestream.StatusScheduled || !hasTarget(ls, cur.Platform) {
			continue
		}
		out = append(out, Event{Type: LivestreamAtRisk, Resource: Resource{Type: "livestream", ID: ls.ID}, Data: map[string]any{
			"livestreamId": ls.ID, "title": ls.Title, "scheduledStart": stamp(ls.ScheduledStart),
			"platform": string(cur.Platform), "connectionStatus": string(cur.Status),
		}})
	}
	return out, nil
}

func hasTarget(ls *livestream.Livestream, p platform.ID) bool {
	for _, t := range ls.Targets {
		if t.Platform == p && t.Status != livestream.TargetCancelled && t.Status != livestream.TargetEnded {
			return true
		}
	}
	return false
}

// --- livestreams -----------------------------------------------------

var livestreamTypes = map[livestream.Status]Type{
	livestream.StatusLive: LivestreamLive, livestream.StatusEnded: LivestreamEnded,
	livestream.StatusFailed: LivestreamFailed, livestream.StatusCancelled: LivestreamCancelled,
}

var liveTargetTypes = map[livestream.TargetStatus]Type{
	livestream.TargetReady: LivestreamTargetReady, livestream.TargetLive: LivestreamTargetLive,
	livestream.TargetFailed: LivestreamTargetFailed, livestream.TargetEnded: LivestreamTargetEnded,
}

func livestreamEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	old, cur, ok := pair[livestream.Livestream](c)
	if !ok || cur == nil {
		return nil, nil
	}
	var out []Event
	oldTargets := map[platform.ID]livestream.Target{}
	if old != nil {
		for _, t := range old.Targets {
			oldTargets[t.Platform] = t
		}
	}
	for _, t := range cur.Targets {
		before, had := oldTargets[t.Platform]
		typ, ok := liveTargetTypes[t.Status]
		// A failed target retried and failed again is the same state;
		// a new reason for it is a new failure.
		same := had && before.Status == t.Status && (t.Status != livestream.TargetFailed || sameLiveError(before.LastError, t.LastError))
		if !ok || same {
			continue
		}
		data := map[string]any{
			"livestreamId": cur.ID, "platform": string(t.Platform), "status": string(t.Status),
			"externalId": t.ExternalID, "watchUrl": t.WatchURL, "lastError": nil,
		}
		if t.LastError != nil {
			data["lastError"] = lastError(t.LastError.Code, t.LastError.Message, t.LastError.At)
		}
		out = append(out, Event{Type: typ, Resource: Resource{Type: "livestream", ID: cur.ID}, Data: data})
	}
	if checked := checksOf(old, cur); checked != nil {
		out = append(out, *checked)
	}
	was := livestream.Status("")
	if old != nil {
		was = old.PublicStatus()
	}
	if typ, ok := livestreamTypes[cur.PublicStatus()]; ok && cur.PublicStatus() != was {
		out = append(out, Event{Type: typ, Resource: Resource{Type: "livestream", ID: cur.ID}, Data: map[string]any{
			"livestreamId": cur.ID, "title": cur.Title, "status": string(cur.PublicStatus()),
			"scheduledStart": stamp(cur.ScheduledStart), "startedAt": stamp(cur.StartedAt), "endedAt": stamp(cur.EndedAt),
		}})
	}
	return out, nil
}

// checksOf is livestream.checked when a preflight ran in this change (its
// CheckedAt moved): every target's checks as they now are, and the worst
// outcome among them, so an app can warn its user from one field.
func checksOf(old, cur *livestream.Livestream) *Event {
	if cur.CheckedAt.IsZero() || (old != nil && old.CheckedAt.Equal(cur.CheckedAt)) {
		return nil
	}
	worst := livestream.CheckPass
	rank := map[livestream.CheckStatus]int{livestream.CheckPass: 1, livestream.CheckWarn: 2, livestream.CheckFail: 3}
	targets := make([]map[string]any, 0, len(cur.Targets))
	for _, t := range cur.Targets {
		checks := make([]map[string]any, 0, len(t.Checks))
		for _, c := range t.Checks {
			checks = append(checks, map[string]any{"name": c.Name, "status": string(c.Status), "message": c.Message, "at": stamp(c.At)})
			if rank[c.Status] > rank[worst] {
				worst = c.Status
			}
		}
		targets = append(targets, map[string]any{"platform": string(t.Platform), "checks": checks})
	}
	return &Event{Type: LivestreamChecked, Resource: Resource{Type: "livestream", ID: cur.ID}, Data: map[string]any{
		"livestreamId": cur.ID, "title": cur.Title, "scheduledStart": stamp(cur.ScheduledStart),
		"checkedAt": stamp(cur.CheckedAt), "worst": string(worst), "targets": targets,
	}}
}

func sameLiveError(a, b *livestream.LastError) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Code == b.Code && a.At.Equal(b.At)
}

// --- meetings --------------------------------------------------------

var meetingTargetTypes = map[meeting.TargetStatus]Type{
	meeting.TargetReady: MeetingTargetCreated, meeting.TargetFailed: MeetingTargetFailed, meeting.TargetCancelled: MeetingTargetCancelled,
}

func meetingEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	old, cur, ok := pair[meeting.Meeting](c)
	if !ok || cur == nil {
		return nil, nil
	}
	before := map[platform.ID]meeting.TargetStatus{}
	if old != nil {
		for _, t := range old.Targets {
			before[t.Platform] = t.Status
		}
	}
	var out []Event
	for _, t := range cur.Targets {
		typ, ok := meetingTargetTypes[t.Status]
		if !ok || before[t.Platform] == t.Status {
			continue
		}
		// The join link is left out: on some platforms it is a credential
		// (8x8 JaaS); GET /meetings/{id} shows it to whoever may see it.
		data := map[string]any{
			"meetingId": cur.ID, "title": cur.Title, "platform": string(t.Platform), "status": string(t.Status),
			"externalId": t.ExternalID, "startTime": stamp(cur.Start), "lastError": nil,
		}
		if t.LastError != nil {
			data["lastError"] = lastError(t.LastError.Code, t.LastError.Message, t.LastError.At)
		}
		out = append(out, Event{Type: typ, Resource: Resource{Type: "meeting", ID: cur.ID}, Data: data})
	}
	return out, nil
}

// --- recurring series ------------------------------------------------

func seriesEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	if old, cur, ok := pair[livestream.Series](c); ok {
		return occurrenceFailed("livestream_series", old, cur), nil
	}
	if old, cur, ok := pair[meeting.Series](c); ok {
		return occurrenceFailed("meeting_series", old, cur), nil
	}
	return nil, nil
}

// occurrenceFailed is series.occurrence_failed when the series holds a
// failure it did not hold before, or holds it for another occurrence or
// reason: a retry that fails alike tells nothing new.
func occurrenceFailed[T any](kind string, old, cur *series.Series[T]) []Event {
	if cur == nil || cur.Failure == nil {
		return nil
	}
	f := cur.Failure
	if old != nil && old.Failure != nil && old.Failure.Start.Equal(f.Start) && old.Failure.Code == f.Code {
		return nil
	}
	return []Event{{Type: SeriesOccurrenceFailed, Resource: Resource{Type: kind, ID: cur.ID}, Data: map[string]any{
		"seriesId": cur.ID, "title": titleOf(cur.Template), "start": stamp(f.Start), "lastError": lastError(f.Code, f.Message, f.At),
	}}}
}

// titleOf is a series template's title.
func titleOf(t any) string {
	switch t := t.(type) {
	case livestream.CreateInput:
		return t.Title
	case meeting.CreateInput:
		return t.Title
	}
	return ""
}

// --- deployments -----------------------------------------------------

var deploymentTypes = map[deploy.Status]Type{
	deploy.StatusQueued: DeploymentQueued, deploy.StatusBuilding: DeploymentBuilding, deploy.StatusReady: DeploymentReady,
	deploy.StatusError: DeploymentError, deploy.StatusCanceled: DeploymentCanceled, deploy.StatusTimedOut: DeploymentTimedOut,
}

func deploymentEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	old, cur, ok := pair[deploy.Deployment](c)
	if !ok || cur == nil || (old != nil && old.Status == cur.Status) {
		return nil, nil
	}
	typ, ok := deploymentTypes[cur.Status]
	if !ok {
		return nil, nil
	}
	data := map[string]any{
		"deploymentId": cur.ID, "platform": string(cur.Platform), "projectName": cur.ProjectName, "status": string(cur.Status),
		"url": cur.URL, "platformDeploymentId": cur.PlatformDeploymentID, "rollbackOf": cur.RollbackOf, "error": nil,
	}
	if cur.Error != nil {
		data["error"] = lastError(cur.Error.Code, cur.Error.Message, cur.Error.At)
	}
	res := Resource{Type: "deployment", ID: cur.ID}
	out := []Event{{Type: typ, Resource: res, Data: data}}
	if cur.Status == deploy.StatusReady && cur.RollbackOf != "" {
		out = append(out, Event{Type: DeploymentRolledBack, Resource: res, Data: data})
	}
	return out, nil
}

// --- webhook endpoints -----------------------------------------------

func endpointEvents(_ context.Context, c Change, _ Lookup) ([]Event, error) {
	old, cur, ok := pair[Endpoint](c)
	if !ok || old == nil || cur == nil || old.Status == cur.Status || cur.Status != EndpointDisabled {
		return nil, nil
	}
	return []Event{{Type: WebhookEndpointDisabled, Resource: Resource{Type: "webhook", ID: cur.ID}, Data: map[string]any{
		"webhookId": cur.ID, "url": urlOrigin(cur.URL), "reason": cur.DisabledReason, "failingSince": stamp(cur.FailingSince),
	}}}, nil
}

// urlOrigin is a webhook URL's scheme and host only: the event goes to the
// tenant's other endpoints and the feed, and a URL's path or query often
// carries the receiver's own token (a chat service's incoming-webhook path,
// ?token=).
func urlOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
