// Package youtube is Switchboard's client for YouTube Live through the
// YouTube Data API v3: a broadcast (what viewers see), a stream (where the
// encoder pushes) and the binding between them.
//
// Switchboard starts the broadcast itself, on time, through the scheduler:
// broadcasts are created with enableAutoStart false and with the monitor
// stream disabled, so that GoLive can move a ready broadcast straight to
// live once the encoder pushes. enableAutoStop and selfDeclaredMadeForKids
// are the caller's choices (BroadcastSpec.AutoStop, .MadeForKids), never
// the client's.
//
// A used-up daily quota (quotaExceeded) is not worth retrying before it
// resets at midnight Pacific Time: the error says when, and carries the
// wait as RetryAfter. The client takes an
// access token per call, never logs, and never puts a token or a stream
// key into an error.
package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the quota's reset is midnight in America/Los_Angeles; Lambda's runtime has no zoneinfo

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Client talks to the YouTube Data API v3.
type Client struct {
	call    platform.Caller
	now     func() time.Time
	pacific func() *time.Location // loaded on first use

	// The quota ledger (WithLedger); nil counts nothing.
	ledger  platform.QuotaLedger
	project string
	daily   int64
}

var (
	_ platform.Broadcaster   = (*Client)(nil)
	_ platform.IngestKeeper  = (*Client)(nil)
	_ platform.IngestChecker = (*Client)(nil)
	_ platform.QuotaMeter    = (*Client)(nil)
	_ platform.Updater       = (*Client)(nil)
)

// Option changes a client.
type Option func(*Client)

// WithClock sets the clock the quota's reset is counted from (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New builds a client. apiURL is the API base
// (registry.LoadEndpoints(ID, getenv).APIURL; empty: the
// default https://www.googleapis.com/youtube/v3).
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	c := &Client{now: time.Now, pacific: sync.OnceValue(pacificTime)}
	for _, o := range opts {
		o(c)
	}
	c.call = platform.Caller{
		Platform: ID,
		HTTP:     httpClient,
		BaseURL:  strings.TrimRight(apiURL, "/"),
		Refine:   c.refine,
	}
	if c.ledger != nil {
		c.call.Attempted = c.spend
	}
	return c
}

// pacificTime is the zone YouTube's quota resets in: midnight Pacific Time
// (PLATFORMS.md YouTube "(corrected) Quota";
// developers.google.com/youtube/data/determine_quota_cost). time/tzdata is
// embedded, so the zone always loads.
func pacificTime() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic("youtube: the embedded time zone database has no America/Los_Angeles: " + err.Error())
	}
	return loc
}

// QuotaReset is when YouTube's daily quota next resets after now: the
// coming midnight in America/Los_Angeles.
func (c *Client) QuotaReset(now time.Time) time.Time {
	pt := c.pacific()
	t := now.In(pt)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, pt)
}

// WatchURL is where viewers watch a broadcast.
func WatchURL(broadcastID string) string {
	return "https://www.youtube.com/watch?v=" + url.QueryEscape(broadcastID)
}

// Extra keys of a Broadcast.
const (
	ExtraStreamID       = "streamId"       // the bound liveStream's id, the broadcast's own (deleted with it)
	ExtraKeptStreamID   = "keptStreamId"   // the bound liveStream's id, a kept reusable one (never deleted with it)
	ExtraRTMPSIngestURL = "rtmpsIngestUrl" // the RTMPS address for the same stream name
)

func (c *Client) do(ctx context.Context, r platform.Request, secrets ...string) (*platform.Response, error) {
	r.Secrets = append(r.Secrets, secrets...)
	return c.call.Do(ctx, r) // Do redacts the token and secrets from its errors
}

// Whoami names the YouTube channel behind the token
// (GET /channels?part=snippet&mine=true). A Google account without a
// channel cannot stream: ReasonNotEligible.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var out struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title     string `json:"title"`
				CustomURL string `json:"customUrl"`
			} `json:"snippet"`
		} `json:"items"`
	}
	_, err := c.do(ctx, platform.Request{
		Op: "read channel", Method: http.MethodGet, Path: "/channels",
		Query: url.Values{"part": {"snippet"}, "mine": {"true"}},
		Token: token, Out: &out, Idempotent: true,
	})
	if err != nil {
		return platform.Account{}, err
	}
	if len(out.Items) == 0 {
		return platform.Account{}, &platform.Error{Platform: ID, Op: "read channel", Reason: platform.ReasonNotEligible,
			Message: "this Google account has no YouTube channel: create one on YouTube, then connect again"}
	}
	ch := out.Items[0]
	acc := platform.Account{ID: ch.ID, Name: ch.Snippet.Title}
	if ch.Snippet.CustomURL != "" {
		acc.Extra = map[string]string{"customUrl": ch.Snippet.CustomURL}
	}
	return acc, nil
}

type broadcastInsert struct {
	Snippet        broadcastSnippet `json:"snippet"`
	Status         broadcastStatus  `json:"status"`
	ContentDetails broadcastContent `json:"contentDetails"`
}

type broadcastSnippet struct {
	Title              string `json:"title"`
	Description        string `json:"description,omitempty"`
	ScheduledStartTime string `json:"scheduledStartTime"`
	ScheduledEndTime   string `json:"scheduledEndTime,omitempty"`
}

type broadcastStatus struct {
	PrivacyStatus           string `json:"privacyStatus"`
	SelfDeclaredMadeForKids bool   `json:"selfDeclaredMadeForKids"` // the caller's declaration, always sent
}

type broadcastContent struct {
	EnableAutoStart bool          `json:"enableAutoStart"`
	EnableAutoStop  bool          `json:"enableAutoStop"`
	MonitorStream   monitorStream `json:"monitorStream"`
}

type monitorStream struct {
	EnableMonitorStream bool `json:"enableMonitorStream"`
}

type streamInsert struct {
	Snippet struct {
		Title string `json:"title"`
	} `json:"snippet"`
	CDN struct {
		IngestionType string `json:"ingestionType"`
		Resolution    string `json:"resolution"`
		FrameRate     string `json:"frameRate"`
	} `json:"cdn"`
	ContentDetails *struct {
		IsReusable bool `json:"isReusable"`
	} `json:"contentDetails,omitempty"`
}

type liveStream struct {
	ID  string `json:"id"`
	CDN struct {
		IngestionInfo struct {
			IngestionAddress      string `json:"ingestionAddress"`
			RTMPSIngestionAddress string `json:"rtmpsIngestionAddress"`
			StreamName            string `json:"streamName"`
		} `json:"ingestionInfo"`
	} `json:"cdn"`
}

// Privacy is the privacy status a spec's Privacy names; empty is public,
// like the other targets of the same livestream (a Facebook Page or a
// Restream channel is public too).
func Privacy(p string) (string, bool) {
	switch p {
	case "":
		return "public", true
	case "public", "unlisted", "private":
		return p, true
	}
	return "", false
}

// Provision creates the broadcast (POST /liveBroadcasts), an RTMP stream
// with variable resolution and frame rate (POST /liveStreams) and binds
// them (POST /liveBroadcasts/bind). The ingest is the stream's
// ingestionAddress and its streamName is the key; Extra holds the stream's
// id (needed by Cancel) and its RTMPS address. With spec.Ingest (a stream
// kept by KeepIngest) no stream is created: the broadcast is bound to the
// kept one, whose key stays the same (StableKey).
//
// YouTube takes no idempotency key, so spec.RequestID is not sent: when a
// later step fails, what was already created is deleted (best effort, even
// if ctx is done) so that a retry leaves no orphan broadcast or stream.
func (c *Client) Provision(ctx context.Context, token string, spec platform.BroadcastSpec) (platform.Broadcast, error) {
	invalid := func(msg string) error {
		return &platform.Error{Platform: ID, Op: "create broadcast", Reason: platform.ReasonInvalid, Message: msg}
	}
	title := strings.TrimSpace(spec.Title)
	if title == "" {
		return platform.Broadcast{}, invalid("a YouTube broadcast needs a title")
	}
	if spec.ScheduledStart.IsZero() {
		return platform.Broadcast{}, invalid("a YouTube broadcast needs a scheduled start time")
	}
	privacy, ok := Privacy(spec.Privacy)
	if !ok {
		return platform.Broadcast{}, invalid("privacy must be public, unlisted or private")
	}
	if spec.MadeForKids == nil {
		// selfDeclaredMadeForKids is the channel owner's declaration (COPPA): never assumed here.
		return platform.Broadcast{}, invalid("a YouTube broadcast needs the caller's made-for-kids declaration (COPPA)")
	}
	in := broadcastInsert{
		Snippet: broadcastSnippet{
			Title:              title,
			Description:        spec.Description,
			ScheduledStartTime: spec.ScheduledStart.UTC().Format(time.RFC3339),
		},
		Status: broadcastStatus{PrivacyStatus: privacy, SelfDeclaredMadeForKids: *spec.MadeForKids},
		ContentDetails: broadcastContent{
			EnableAutoStart: false, // Switchboard starts it on time through the scheduler
			// The caller's choice; YouTube's own default is false. True: an encoder drop completes
			// the broadcast for good (a complete broadcast cannot go live again). Evidence:
			// youtube-v3-discovery.json LiveBroadcastContentDetails.enableAutoStop; PLATFORMS.md YouTube.
			EnableAutoStop: spec.AutoStop,
			MonitorStream:  monitorStream{EnableMonitorStream: false}, // ready -> live without a testing step
		},
	}
	if !spec.ScheduledEnd.IsZero() {
		in.Snippet.ScheduledEndTime = spec.ScheduledEnd.UTC().Format(time.RFC3339)
	}
	var bc struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "create broadcast", Method: http.MethodPost, Path: "/liveBroadcasts",
		Query: url.Values{"part": {"snippet,status,contentDetails"}},
		Token: token, JSON: in, Out: &bc,
	}); err != nil {
		return platform.Broadcast{}, err
	}
	if bc.ID == "" {
		return platform.Broadcast{}, &platform.Error{Platform: ID, Op: "create broadcast", Reason: platform.ReasonTransient,
			Message: "YouTube answered without a broadcast id"}
	}

	if spec.Ingest != nil {
		return c.bindKept(ctx, token, bc.ID, spec.Ingest)
	}
	st, err := c.createStream(ctx, token, title, false)
	if err != nil {
		c.cleanup(ctx, token, bc.ID, st.ID)
		return platform.Broadcast{}, err
	}
	info := st.CDN.IngestionInfo

	if _, err := c.do(ctx, platform.Request{
		Op: "bind stream", Method: http.MethodPost, Path: "/liveBroadcasts/bind",
		Query: url.Values{"id": {bc.ID}, "streamId": {st.ID}, "part": {"id,contentDetails"}},
		Token: token,
	}); err != nil {
		c.cleanup(ctx, token, bc.ID, st.ID)
		return platform.Broadcast{}, platform.Redact(err, info.StreamName)
	}

	extra := map[string]string{ExtraStreamID: st.ID}
	if info.RTMPSIngestionAddress != "" {
		extra[ExtraRTMPSIngestURL] = info.RTMPSIngestionAddress
	}
	return platform.Broadcast{
		ExternalID: bc.ID,
		WatchURL:   WatchURL(bc.ID),
		IngestURL:  info.IngestionAddress,
		StreamKey:  info.StreamName,
		Extra:      extra,
	}, nil
}

// createStream creates an RTMP stream with variable resolution and frame
// rate (POST /liveStreams); reusable asks for one that may be bound to
// many broadcasts (contentDetails.isReusable true), and without it the
// part is not sent (YouTube's default). A stream YouTube answers without
// its ingestion address is an error, with its id for clean-up.
func (c *Client) createStream(ctx context.Context, token, title string, reusable bool) (liveStream, error) {
	var si streamInsert
	si.Snippet.Title = title
	si.CDN.IngestionType, si.CDN.Resolution, si.CDN.FrameRate = "rtmp", "variable", "variable"
	part := "snippet,cdn,status"
	if reusable {
		// Evidence: youtube-v3-discovery.json LiveStreamContentDetails.isReusable: "it can be bound to
		// multiple broadcasts"; "A non-reusable stream might be deleted by an automated process after the
		// broadcast ends".
		si.ContentDetails = &struct {
			IsReusable bool `json:"isReusable"`
		}{IsReusable: true}
		part += ",contentDetails"
	}
	var st liveStream
	if _, err := c.do(ctx, platform.Request{
		Op: "create stream", Method: http.MethodPost, Path: "/liveStreams",
		Query: url.Values{"part": {part}},
		Token: token, JSON: si, Out: &st,
	}); err != nil {
		return liveStream{}, err
	}
	info := st.CDN.IngestionInfo
	if st.ID == "" || info.IngestionAddress == "" || info.StreamName == "" {
		return liveStream{ID: st.ID}, &platform.Error{Platform: ID, Op: "create stream", Reason: platform.ReasonTransient,
			Message: "YouTube answered without the stream's ingestion address"}
	}
	return st, nil
}

// KeepIngest creates a reusable stream (contentDetails.isReusable true)
// for many broadcasts: its ingestion address and stream name stay the same
// for every broadcast bound to it, so the encoder is set up once.
func (c *Client) KeepIngest(ctx context.Context, token, title string) (platform.KeptIngest, error) {
	if strings.TrimSpace(title) == "" {
		title = "Switchboard"
	}
	st, err := c.createStream(ctx, token, title, true)
	if err != nil {
		if st.ID != "" {
			c.cleanup(ctx, token, "", st.ID)
		}
		return platform.KeptIngest{}, err
	}
	info := st.CDN.IngestionInfo
	in := platform.KeptIngest{ID: st.ID, IngestURL: info.IngestionAddress, StreamKey: info.StreamName}
	if info.RTMPSIngestionAddress != "" {
		in.Extra = map[string]string{ExtraRTMPSIngestURL: info.RTMPSIngestionAddress}
	}
	return in, nil
}

// DropIngest deletes a kept stream (DELETE /liveStreams?id=); one already
// gone is success.
func (c *Client) DropIngest(ctx context.Context, token, id string) error {
	return c.delete(ctx, token, "/liveStreams", "delete stream", id)
}

// bindKept binds a new broadcast to a kept stream. A stream YouTube no
// longer has (liveStreamNotFound, ReasonNotFound) fails it, and the
// broadcast is deleted, so the caller can keep a new stream and try again.
func (c *Client) bindKept(ctx context.Context, token, broadcastID string, in *platform.KeptIngest) (platform.Broadcast, error) {
	if _, err := c.do(ctx, platform.Request{
		Op: "bind stream", Method: http.MethodPost, Path: "/liveBroadcasts/bind",
		Query: url.Values{"id": {broadcastID}, "streamId": {in.ID}, "part": {"id,contentDetails"}},
		Token: token,
	}, in.StreamKey); err != nil {
		c.cleanup(ctx, token, broadcastID, "")
		return platform.Broadcast{}, err
	}
	extra := map[string]string{ExtraKeptStreamID: in.ID}
	if u := in.Extra[ExtraRTMPSIngestURL]; u != "" {
		extra[ExtraRTMPSIngestURL] = u
	}
	return platform.Broadcast{
		ExternalID: broadcastID, WatchURL: WatchURL(broadcastID),
		IngestURL: in.IngestURL, StreamKey: in.StreamKey, Extra: extra, StableKey: true,
	}, nil
}

// IngestHealth reads the bound stream's status
// (GET /liveStreams?part=status&id=): streamStatus active is an encoder
// pushing; healthStatus.status good or ok is healthy enough to go live
// (bad and noData are not). Evidence: youtube-v3-discovery.json
// LiveStreamStatus.streamStatus (created, ready, active, inactive, error)
// and LiveStreamHealthStatus.status (good, ok, bad, noData, revoked).
func (c *Client) IngestHealth(ctx context.Context, token string, b platform.Broadcast) (platform.IngestHealth, error) {
	id := b.Extra[ExtraKeptStreamID]
	if id == "" {
		id = b.Extra[ExtraStreamID]
	}
	if id == "" {
		return platform.IngestHealth{}, &platform.Error{Platform: ID, Op: "read stream", Reason: platform.ReasonInvalid,
			Message: "no YouTube stream is bound to this broadcast"}
	}
	var out struct {
		Items []struct {
			Status struct {
				StreamStatus string `json:"streamStatus"`
				HealthStatus struct {
					Status string `json:"status"`
				} `json:"healthStatus"`
			} `json:"status"`
		} `json:"items"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "read stream", Method: http.MethodGet, Path: "/liveStreams",
		Query: url.Values{"part": {"status"}, "id": {id}},
		Token: token, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return platform.IngestHealth{}, err
	}
	if len(out.Items) == 0 {
		return platform.IngestHealth{}, &platform.Error{Platform: ID, Op: "read stream", Reason: platform.ReasonNotFound,
			Message: "YouTube has no such stream (deleted?)"}
	}
	st := out.Items[0].Status
	h := platform.IngestHealth{Pushing: st.StreamStatus == "active", Status: "streamStatus " + st.StreamStatus}
	if st.HealthStatus.Status != "" {
		h.Status += ", healthStatus " + st.HealthStatus.Status
	}
	h.Healthy = h.Pushing && (st.HealthStatus.Status == "good" || st.HealthStatus.Status == "ok")
	return h, nil
}

// cleanup deletes what a failed Provision created, best effort: it runs
// even when ctx is done, and its own failures are not reported (the
// original failure is what the caller needs).
func (c *Client) cleanup(ctx context.Context, token, broadcastID, streamID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if broadcastID != "" {
		_ = c.delete(ctx, token, "/liveBroadcasts", "delete broadcast", broadcastID)
	}
	if streamID != "" {
		_ = c.delete(ctx, token, "/liveStreams", "delete stream", streamID)
	}
}

// delete deletes a broadcast or a stream; one already gone is success.
func (c *Client) delete(ctx context.Context, token, path, op, id string, secrets ...string) error {
	_, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodDelete, Path: path, Query: url.Values{"id": {id}},
		Token: token, Idempotent: true,
	}, secrets...)
	if platform.ReasonOf(err) == platform.ReasonNotFound {
		return nil
	}
	return err
}

func needID(op string, b platform.Broadcast) error {
	if b.ExternalID == "" {
		return &platform.Error{Platform: ID, Op: op, Reason: platform.ReasonInvalid, Message: "no YouTube broadcast id"}
	}
	return nil
}

// transition asks for a broadcast status change; being there already
// (redundantTransition) is success. It is a POST and is tried once:
// because a repeat is harmless, the scheduler's own retry is safe.
func (c *Client) transition(ctx context.Context, token, op, to string, b platform.Broadcast) error {
	if err := needID(op, b); err != nil {
		return err
	}
	_, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodPost, Path: "/liveBroadcasts/transition",
		Query: url.Values{"broadcastStatus": {to}, "id": {b.ExternalID}, "part": {"status"}},
		Token: token,
	}, b.StreamKey)
	if pe, ok := platform.AsError(err); ok && pe.Code == "redundantTransition" {
		return nil
	}
	return err
}

// GoLive moves the broadcast to live
// (POST /liveBroadcasts/transition?broadcastStatus=live). YouTube needs this
// call: broadcasts are created without auto-start. Already live is
// success. The encoder must be pushing first: if it is not, the answer is
// ReasonConflict saying so.
func (c *Client) GoLive(ctx context.Context, token string, b platform.Broadcast) error {
	err := c.transition(ctx, token, "go live", "live", b)
	if pe, ok := platform.AsError(err); ok && pe.Code == "invalidTransition" {
		pe.Message = "YouTube cannot go live from the broadcast's current state: the encoder may not be pushing yet, or the broadcast is over (" + pe.Message + ")"
	}
	return err
}

// End completes a live broadcast
// (POST /liveBroadcasts/transition?broadcastStatus=complete); already
// complete is success. A broadcast that never went live cannot be
// completed (ReasonConflict): cancel it instead.
func (c *Client) End(ctx context.Context, token string, b platform.Broadcast) error {
	err := c.transition(ctx, token, "end broadcast", "complete", b)
	if pe, ok := platform.AsError(err); ok && pe.Code == "invalidTransition" {
		pe.Message = "YouTube cannot end a broadcast that is not live; cancel it instead (" + pe.Message + ")"
	}
	return err
}

// State reads the broadcast's lifeCycleStatus
// (GET /liveBroadcasts?part=status&id=): created is pending; ready,
// testStarting and testing are ready (not public yet); liveStarting and
// live are live; complete is ended; revoked (removed by YouTube) is failed.
// A broadcast YouTube does not list is ReasonNotFound.
func (c *Client) State(ctx context.Context, token string, b platform.Broadcast) (platform.BroadcastState, error) {
	if err := needID("read broadcast", b); err != nil {
		return "", err
	}
	var out struct {
		Items []struct {
			Status struct {
				LifeCycleStatus string `json:"lifeCycleStatus"`
			} `json:"status"`
		} `json:"items"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "read broadcast", Method: http.MethodGet, Path: "/liveBroadcasts",
		Query: url.Values{"part": {"status"}, "id": {b.ExternalID}},
		Token: token, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return "", err
	}
	if len(out.Items) == 0 {
		return "", &platform.Error{Platform: ID, Op: "read broadcast", Reason: platform.ReasonNotFound,
			Message: "YouTube has no such broadcast (deleted?)"}
	}
	return stateOf(out.Items[0].Status.LifeCycleStatus), nil
}

func stateOf(lifeCycle string) platform.BroadcastState {
	switch lifeCycle {
	case "ready", "testStarting", "testing":
		return platform.BroadcastReady
	case "liveStarting", "live":
		return platform.BroadcastLive
	case "complete":
		return platform.BroadcastEnded
	case "revoked":
		return platform.BroadcastFailed
	default: // created, or a status YouTube adds later
		return platform.BroadcastPending
	}
}

// Cancel deletes the broadcast (DELETE /liveBroadcasts?id=) and its own
// stream (DELETE /liveStreams?id=, from Extra["streamId"]); a kept stream
// (Extra["keptStreamId"]) stays for the next broadcasts. Either one already
// gone is success; both deletions are tried even if one fails.
func (c *Client) Cancel(ctx context.Context, token string, b platform.Broadcast) error {
	if err := needID("delete broadcast", b); err != nil {
		return err
	}
	errB := c.delete(ctx, token, "/liveBroadcasts", "delete broadcast", b.ExternalID, b.StreamKey)
	var errS error
	if sid := b.Extra[ExtraStreamID]; sid != "" {
		errS = c.delete(ctx, token, "/liveStreams", "delete stream", sid, b.StreamKey)
	}
	return errors.Join(errB, errS)
}

// broadcastUpdate is liveBroadcasts.update's body with part=snippet: the
// broadcast's id and its whole snippet.
type broadcastUpdate struct {
	ID      string           `json:"id"`
	Snippet broadcastSnippet `json:"snippet"`
}

// UpdateBroadcast changes the broadcast's title, description and
// scheduled times (PUT /liveBroadcasts?part=snippet). The update replaces
// every mutable property of the parts it names, and snippet.title and
// snippet.scheduledStartTime are required on it, so the whole snippet is
// sent: an empty description or a zero end removes them at YouTube too.
// Evidence: youtube-v3-discovery.json liveBroadcasts.update ("this method
// will override the existing values for all of the mutable properties that
// are contained in any parts that the parameter value specifies";
// LiveBroadcast.id and LiveBroadcastSnippet.title, .scheduledStartTime
// annotated required for youtube.liveBroadcasts.update). It costs 50 quota
// units (developers.google.com/youtube/v3/determine_quota_cost:
// liveBroadcasts update 50). YouTube refuses a start in the past
// (invalidScheduledStartTime: "must be in the future", YouTube Live
// Streaming API errors, liveBroadcasts.update): the refusal is the error.
// YouTube takes the whole change or none of it: kept is always "".
func (c *Client) UpdateBroadcast(ctx context.Context, token string, b platform.Broadcast, ch platform.BroadcastChange) (string, error) {
	const op = "update broadcast"
	if err := needID(op, b); err != nil {
		return "", err
	}
	title := strings.TrimSpace(ch.Title)
	if title == "" || ch.ScheduledStart.IsZero() {
		return "", &platform.Error{Platform: ID, Op: op, Reason: platform.ReasonInvalid,
			Message: "a YouTube broadcast needs a title and a scheduled start time"}
	}
	in := broadcastUpdate{ID: b.ExternalID, Snippet: broadcastSnippet{
		Title: title, Description: ch.Description, ScheduledStartTime: ch.ScheduledStart.UTC().Format(time.RFC3339),
	}}
	if !ch.ScheduledEnd.IsZero() {
		in.Snippet.ScheduledEndTime = ch.ScheduledEnd.UTC().Format(time.RFC3339)
	}
	_, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodPut, Path: "/liveBroadcasts", Query: url.Values{"part": {"snippet"}},
		Token: token, JSON: in,
	}, b.StreamKey)
	return "", err
}

// googleError is the Data API's error answer.
type googleError struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// refine reads {"error":{"code","message","errors":[{"domain","reason"}],
// "status"}} and maps the first reason:
//
//	quotaExceeded, dailyLimitExceeded              -> ReasonQuota, RetryAfter until midnight Pacific
//	userRequestsExceedRateLimit, rateLimitExceeded -> ReasonRateLimited
//	liveStreamingNotEnabled                        -> ReasonNotEligible
//	insufficientLivePermissions, forbidden         -> ReasonPermission
//	authError, or any 401                          -> ReasonExpiredToken
//	liveBroadcastNotFound, liveStreamNotFound, notFound -> ReasonNotFound
//	errorStreamInactive, invalidTransition, redundantTransition -> ReasonConflict
//	backendError, internalError                    -> ReasonTransient
//
// Other reasons keep the status's reason. Code is the YouTube reason.
func (c *Client) refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var ge googleError
	if json.Unmarshal(body, &ge) != nil || ge.Error == nil {
		if e.Status == http.StatusUnauthorized {
			e.Reason = platform.ReasonExpiredToken
		}
		return
	}
	e.Message = ge.Error.Message
	reason := ""
	if len(ge.Error.Errors) > 0 {
		reason = ge.Error.Errors[0].Reason
		if e.Message == "" {
			e.Message = ge.Error.Errors[0].Message
		}
	}
	e.Code = reason
	switch reason {
	case "quotaExceeded", "dailyLimitExceeded":
		// Not worth retrying before the reset: RetryAfter is the wait, with
		// a minute's margin so that a caller counting from a clock read a
		// moment earlier still lands after the reset.
		now := c.now()
		reset := c.QuotaReset(now)
		e.Reason, e.RetryAfter = platform.ReasonQuota, reset.Sub(now)+time.Minute
		e.Message = fmt.Sprintf("YouTube's daily API quota (shared by every user of this app) is used up; it resets at "+
			"midnight Pacific Time, %s, and nothing is tried at YouTube before then (%s)", reset.UTC().Format(time.RFC3339), e.Message)
	case "userRequestsExceedRateLimit", "rateLimitExceeded":
		e.Reason = platform.ReasonRateLimited
	case "liveStreamingNotEnabled":
		e.Reason = platform.ReasonNotEligible
		e.Message = "live streaming is not enabled for this YouTube channel: enable it in YouTube Studio (it takes up to 24 hours) (" + e.Message + ")"
	case "insufficientLivePermissions", "forbidden":
		e.Reason = platform.ReasonPermission
	case "authError":
		e.Reason = platform.ReasonExpiredToken
	case "liveBroadcastNotFound", "liveStreamNotFound", "notFound":
		e.Reason = platform.ReasonNotFound
	case "errorStreamInactive":
		e.Reason = platform.ReasonConflict
		e.Message = "the encoder is not pushing to YouTube yet: start streaming to the ingest URL, then go live (" + e.Message + ")"
	case "invalidTransition", "redundantTransition":
		e.Reason = platform.ReasonConflict
	case "backendError", "internalError":
		e.Reason = platform.ReasonTransient
	}
	if e.Status == http.StatusUnauthorized {
		e.Reason = platform.ReasonExpiredToken
	}
}
