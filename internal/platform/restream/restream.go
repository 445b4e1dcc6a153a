// Package restream is Switchboard's client for Restream's events API
// (https://api.restream.io/v2): one encoder event whose single ingest fans
// out to every channel the user connected at Restream.
//
// Restream has no start, end or delete call for an event: it goes live
// when the encoder pushes to its ingest and finishes when the encoder
// stops. GoLive, End and Cancel therefore make no call and return nil;
// each says so. The client takes an access token per call, never logs, and
// never puts a token or a stream key into an error.
package restream

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// DefaultIngestURL is Restream's global RTMP ingest, used when the server
// list gives none.
const DefaultIngestURL = "rtmp://live.restream.io/live"

// Client talks to Restream's API.
type Client struct {
	call platform.Caller
}

var _ platform.Broadcaster = (*Client)(nil)

// New builds a client. apiURL is the API base
// (platform.LoadEndpoints(platform.Restream, getenv).APIURL; empty: the
// default https://api.restream.io).
func New(httpClient *http.Client, apiURL string) *Client {
	if apiURL == "" {
		apiURL = platform.DefaultAPIURL(platform.Restream)
	}
	return &Client{call: platform.Caller{
		Platform: platform.Restream, HTTP: httpClient, BaseURL: strings.TrimRight(apiURL, "/"), Refine: refine,
	}}
}

func fail(op string, reason platform.Reason, msg string) error {
	return &platform.Error{Platform: platform.Restream, Op: op, Reason: reason, Message: msg}
}

func (c *Client) do(ctx context.Context, r platform.Request, secrets ...string) (*platform.Response, error) {
	resp, err := c.call.Do(ctx, r)
	if err != nil {
		return nil, platform.Redact(err, append(secrets, r.Token)...)
	}
	return resp, nil
}

// id reads an id Restream may give as a number or a string.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*i = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*i = id(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*i = id(n.String())
	return nil
}

// Whoami names the Restream user (GET /v2/user/profile).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var out struct {
		ID       id     `json:"id"`
		Username string `json:"username"`
		Email    string `json:"email"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "read profile", Method: http.MethodGet, Path: "/v2/user/profile", Token: token, Out: &out, Idempotent: true,
	}); err != nil {
		return platform.Account{}, err
	}
	if out.ID == "" {
		return platform.Account{}, fail("read profile", platform.ReasonTransient, "Restream answered without a user id")
	}
	acc := platform.Account{ID: string(out.ID), Name: out.Username}
	if out.Email != "" {
		acc.Extra = map[string]string{"email": out.Email}
	}
	return acc, nil
}

type newEvent struct {
	StreamType   string `json:"streamType"`
	Title        string `json:"title"`
	Description  string `json:"description,omitempty"`
	ScheduledFor *int64 `json:"scheduledFor,omitempty"`
}

// Provision creates an encoder event (POST /v2/user/events/new with
// streamType "encoder", title, description and scheduledFor in unix
// seconds), reads its stream key (GET /v2/user/events/{id}/streamKey) and
// picks the ingest: the first server's rtmpUrl from GET /v2/server/all (a
// public list, asked without the token), or DefaultIngestURL when the list
// gives none or cannot be read.
//
// WatchURL is empty: Restream fans the stream out to the user's channels,
// each with its own page. Restream takes no idempotency key and has no
// delete call: if the key cannot be read after the event was created, the
// error comes with a Broadcast holding the event's ExternalID, so the
// caller can record it instead of creating another.
func (c *Client) Provision(ctx context.Context, token string, spec platform.BroadcastSpec) (platform.Broadcast, error) {
	const op = "create event"
	title := strings.TrimSpace(spec.Title)
	if title == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonInvalid, "a Restream event needs a title")
	}
	in := newEvent{StreamType: "encoder", Title: title, Description: spec.Description}
	if !spec.ScheduledStart.IsZero() {
		ts := spec.ScheduledStart.Unix()
		in.ScheduledFor = &ts
	}
	var ev struct {
		ID id `json:"id"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodPost, Path: "/v2/user/events/new", Token: token, JSON: in, Out: &ev,
	}); err != nil {
		return platform.Broadcast{}, err
	}
	if ev.ID == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonTransient, "Restream answered without an event id")
	}
	b := platform.Broadcast{ExternalID: string(ev.ID)}

	var key struct {
		StreamKey string `json:"streamKey"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "read stream key", Method: http.MethodGet, Path: "/v2/user/events/" + url.PathEscape(b.ExternalID) + "/streamKey",
		Token: token, Out: &key, Idempotent: true,
	}); err != nil {
		return b, err
	}
	if key.StreamKey == "" {
		return b, fail("read stream key", platform.ReasonTransient, "Restream answered without a stream key")
	}
	b.StreamKey = key.StreamKey
	b.IngestURL = c.ingest(ctx)
	return b, nil
}

// ingest is the first server's rtmpUrl, or DefaultIngestURL.
func (c *Client) ingest(ctx context.Context) string {
	var servers []struct {
		RTMPURL string `json:"rtmpUrl"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "list servers", Method: http.MethodGet, Path: "/v2/server/all", Out: &servers, Idempotent: true,
	}); err != nil {
		return DefaultIngestURL
	}
	for _, s := range servers {
		if u, err := url.Parse(s.RTMPURL); err == nil && (u.Scheme == "rtmp" || u.Scheme == "rtmps") && u.Host != "" {
			return s.RTMPURL
		}
	}
	return DefaultIngestURL
}

// GoLive makes no call and returns nil: Restream has no start call. The
// event goes live when the encoder pushes to its ingest.
func (c *Client) GoLive(context.Context, string, platform.Broadcast) error { return nil }

// End makes no call and returns nil: Restream has no end call. The event
// finishes when the encoder stops pushing.
func (c *Client) End(context.Context, string, platform.Broadcast) error { return nil }

// Cancel makes no call and returns nil: Restream's API (PLATFORMS.md) has
// no call that deletes or cancels an event. An upcoming event that never
// receives a stream simply never goes live; Switchboard marks the target
// cancelled on its side (and the user can remove the event in Restream's
// dashboard).
func (c *Client) Cancel(context.Context, string, platform.Broadcast) error { return nil }

// State reads the event's status (GET /v2/user/events/{id}): upcoming is
// ready, in-progress is live, finished is ended; another status is
// pending.
func (c *Client) State(ctx context.Context, token string, b platform.Broadcast) (platform.BroadcastState, error) {
	const op = "read event"
	if b.ExternalID == "" {
		return "", fail(op, platform.ReasonInvalid, "no Restream event id")
	}
	var out struct {
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodGet, Path: "/v2/user/events/" + url.PathEscape(b.ExternalID),
		Token: token, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return "", err
	}
	return StateOf(out.Status), nil
}

// StateOf maps an event status to a broadcast state.
func StateOf(status string) platform.BroadcastState {
	switch status {
	case "upcoming":
		return platform.BroadcastReady
	case "in-progress":
		return platform.BroadcastLive
	case "finished":
		return platform.BroadcastEnded
	}
	return platform.BroadcastPending
}

// refine reads {"error":{"statusCode","code","message","name"}}: name
// invalid_token (or any 401) is ReasonExpiredToken; other failures keep
// their status's reason (429 rate limited, 5xx transient, 404 not found,
// 403 permission). Code is the error's name.
func refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var re struct {
		Error *struct {
			StatusCode int    `json:"statusCode"`
			Code       int    `json:"code"`
			Message    string `json:"message"`
			Name       string `json:"name"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &re) != nil || re.Error == nil {
		return
	}
	e.Message, e.Code = re.Error.Message, re.Error.Name
	if re.Error.Name == "invalid_token" || e.Status == http.StatusUnauthorized {
		e.Reason = platform.ReasonExpiredToken
	}
}
