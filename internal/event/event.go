package event

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"time"
)

// Type is an event's stable type, "<resource>.<what happened>".
type Type string

// The event types. Types lists them with what each means; openapi.json's
// EventType enum and its webhooks section name the same set (a test holds
// them equal). A new derived type is a constant here, its line in Types
// and the deriver that emits it (derive.go).
const (
	ConnectionConnected    Type = "connection.connected"
	ConnectionRecovered    Type = "connection.recovered"
	ConnectionExpired      Type = "connection.expired"
	ConnectionError        Type = "connection.error"
	ConnectionDisconnected Type = "connection.disconnected"
	ConnectionExpiring     Type = "connection.expiring"

	LivestreamLive      Type = "livestream.live"
	LivestreamEnded     Type = "livestream.ended"
	LivestreamFailed    Type = "livestream.failed"
	LivestreamCancelled Type = "livestream.cancelled"
	LivestreamAtRisk    Type = "livestream.target_at_risk"
	LivestreamChecked   Type = "livestream.checked"

	LivestreamTargetReady  Type = "livestream.target.ready"
	LivestreamTargetLive   Type = "livestream.target.live"
	LivestreamTargetFailed Type = "livestream.target.failed"
	LivestreamTargetEnded  Type = "livestream.target.ended"

	MeetingTargetCreated   Type = "meeting.target.created"
	MeetingTargetFailed    Type = "meeting.target.failed"
	MeetingTargetCancelled Type = "meeting.target.cancelled"

	SeriesOccurrenceFailed Type = "series.occurrence_failed"

	DeploymentQueued     Type = "deployment.queued"
	DeploymentBuilding   Type = "deployment.building"
	DeploymentReady      Type = "deployment.ready"
	DeploymentError      Type = "deployment.error"
	DeploymentCanceled   Type = "deployment.canceled"
	DeploymentTimedOut   Type = "deployment.timed_out"
	DeploymentRolledBack Type = "deployment.rolled_back"

	WebhookEndpointDisabled Type = "webhook.endpoint_disabled"
)

// TypeInfo is one event type and what it means.
type TypeInfo struct {
	Type    Type
	Meaning string
}

// Types is every event type, in the order the documentation lists them.
func Types() []TypeInfo {
	return []TypeInfo{
		{ConnectionConnected, "a connection was made (or made again after a disconnect or expiry)"},
		{ConnectionRecovered, "a connection in error or expired works again (a refresh or verification succeeded)"},
		{ConnectionExpired, "the platform no longer accepts the connection's credentials; reconnect"},
		{ConnectionError, "the connection failed in a way that is not an expiry (see data.lastError)"},
		{ConnectionDisconnected, "the connection was disconnected"},
		{ConnectionExpiring, "a token that cannot be refreshed expires within data.within (7d, then 1d); reconnect before data.expiresAt"},
		{LivestreamLive, "the livestream is live"},
		{LivestreamEnded, "the livestream ended"},
		{LivestreamFailed, "the livestream failed (see each target's lastError)"},
		{LivestreamCancelled, "the livestream was cancelled"},
		{LivestreamAtRisk, "a scheduled livestream has a target whose connection was disconnected or expired: it will fail unless reconnected"},
		{LivestreamChecked, "a preflight ran (30 and 10 minutes before the start, or on demand): each target's checks, and data.worst (pass, warn or fail) to act on"},
		{LivestreamTargetReady, "a target is set up at its platform"},
		{LivestreamTargetLive, "a target is live"},
		{LivestreamTargetFailed, "a target failed (data.lastError says why)"},
		{LivestreamTargetEnded, "a target ended"},
		{MeetingTargetCreated, "a meeting was created at a platform"},
		{MeetingTargetFailed, "a meeting could not be created at a platform (data.lastError says why)"},
		{MeetingTargetCancelled, "a meeting was cancelled at a platform"},
		{SeriesOccurrenceFailed, "a recurring livestream's or meeting's next occurrence could not be made (data.lastError says why; the scheduler tries again every 15 minutes, and says so again only when the reason or the occurrence changes)"},
		{DeploymentQueued, "a deployment was accepted"},
		{DeploymentBuilding, "a deployment is building at its platform"},
		{DeploymentReady, "a deployment is ready (data.url)"},
		{DeploymentError, "a deployment failed (data.error)"},
		{DeploymentCanceled, "a deployment was canceled"},
		{DeploymentTimedOut, "a deployment did not finish in time"},
		{DeploymentRolledBack, "a rollback made an earlier deployment current again (data.rollbackOf)"},
		{WebhookEndpointDisabled, "a webhook endpoint failed for 3 days and was disabled"},
	}
}

// Known reports whether t is an event type.
func Known(t Type) bool {
	return slices.ContainsFunc(Types(), func(i TypeInfo) bool { return i.Type == t })
}

// Resource is what an event is about.
type Resource struct {
	Type string `json:"type"` // connection, livestream, meeting, deployment, webhook, livestream_series, meeting_series
	ID   string `json:"id"`   // the platform id for a connection
}

// Event is one state change a caller cares about. Data never holds a
// secret: derivers copy only named, non-secret fields (no token, key,
// stream key or credential link).
type Event struct {
	ID         string         `json:"id"`
	Type       Type           `json:"type"`
	OccurredAt time.Time      `json:"occurredAt"`
	Resource   Resource       `json:"resource"`
	Data       map[string]any `json:"data"`

	// Tenant owns the event; it is the feed's partition, never shown.
	Tenant string `json:"-"`
	// Key orders a tenant's events: the feed's sort key (see Change.Order).
	Key string `json:"-"`
}

// idFor is an event's id: the same for the same change, however often the
// stream delivers the record, and different for each event of it.
func idFor(changeID string, t Type, resource, part string) string {
	h := sha256.Sum256([]byte(changeID + "\x00" + string(t) + "\x00" + resource + "\x00" + part))
	return "evt_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16]))
}
