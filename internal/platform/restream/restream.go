// Package restream is Switchboard's client for Restream's API
// (https://api.restream.io/v2): a Restream target streams to the user's
// default stream key, the one ingest that fans out to every channel the
// user has enabled in Restream's dashboard (see Provision for why no event
// is created).
//
// Restream has no start, end or delete call: the stream goes live when the
// encoder pushes to the ingest and finishes when the encoder stops, and
// Provision creates nothing at Restream to cancel (PLATFORMS.md Restream).
// The client therefore implements none of platform.GoLiver, Ender and
// Canceller: the livestream service makes no call for them and records the
// step done, as the platform does it by itself. The client takes an access token per call, never logs, and
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
// (registry.LoadEndpoints(ID, getenv).APIURL; empty: the
// default https://api.restream.io).
func New(httpClient *http.Client, apiURL string) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	return &Client{call: platform.Caller{
		Platform: ID, HTTP: httpClient, BaseURL: strings.TrimRight(apiURL, "/"), Refine: refine,
	}}
}

func fail(op string, reason platform.Reason, msg string) error {
	return &platform.Error{Platform: ID, Op: op, Reason: reason, Message: msg}
}

func (c *Client) do(ctx context.Context, r platform.Request, secrets ...string) (*platform.Response, error) {
	r.Secrets = append(r.Secrets, secrets...)
	return c.call.Do(ctx, r) // Do redacts the token and secrets from its errors
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
// Evidence: developers.restream.io/private-api (Profile).
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

// Provision gives the ingest that reaches the user's channels: the user's
// default stream key (GET /v2/user/streamKey) and the first ingest server
// from GET /v2/server/all (a public list, asked without the token), or
// DefaultIngestURL when the list gives none or cannot be read.
//
// It creates no Restream event, on purpose. Restream's default key is the
// one ingest that goes out to every channel the user has enabled in
// Restream's dashboard; an event created through the API has no
// destinations, and Add Event Destination takes only custom RTMP/SRT
// channels, so an event's own key would reach no YouTube or Facebook
// channel at all. Restream has no call that deletes an event either, so an
// event nobody streams to would stay "upcoming" in the user's dashboard for
// good. Which channels are reached is the user's choice in Restream; the
// API cannot make it (Note and the platform's notes say so).
// Evidence: PLATFORMS.md Restream "(corrected) Fan-out";
// developers.restream.io/private-api/stream-key;
// developers.restream.io/events/event-create ("The created event has no
// destinations attached"); developers.restream.io/events/event-destination-add.
//
// ExternalID is empty (nothing is created at Restream) and so is WatchURL:
// each channel has its own page, at its platform.
func (c *Client) Provision(ctx context.Context, token string, _ platform.BroadcastSpec) (platform.Broadcast, error) {
	const op = "read stream key"
	var key struct {
		StreamKey string `json:"streamKey"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodGet, Path: "/v2/user/streamKey", Token: token, Out: &key, Idempotent: true,
	}); err != nil {
		return platform.Broadcast{}, err
	}
	if key.StreamKey == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonTransient, "Restream answered without a stream key")
	}
	// The user's default key is the account's one ingest, the same for
	// every broadcast (PLATFORMS.md Restream "(corrected) Fan-out"): stable.
	return platform.Broadcast{StreamKey: key.StreamKey, IngestURL: c.ingest(ctx), StableKey: true}, nil
}

// ingest is the first server's rtmpUrl, or DefaultIngestURL. The list is
// public and its first entry is Autodetect, rtmp://live.restream.io/live,
// which routes to the nearest server. (The user's own selected ingest,
// GET /v2/user/ingest, needs the channels.read scope, which a Restream
// target otherwise does not; developers.restream.io/private-api/selected-ingest.)
// Evidence: PLATFORMS.md Restream; developers.restream.io/public-api/servers.
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

// State reads whether the user is streaming to Restream now
// (GET /v2/user/events/in-progress, scope stream.read): an event in
// progress is live, none is ready. Restream reports streams per user, not
// per target: the default key has one stream at a time.
// Evidence: developers.restream.io/events/in-progress-events.
func (c *Client) State(ctx context.Context, token string, b platform.Broadcast) (platform.BroadcastState, error) {
	var out []struct {
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "list events in progress", Method: http.MethodGet, Path: "/v2/user/events/in-progress",
		Token: token, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return "", err
	}
	for _, e := range out {
		if StateOf(e.Status) == platform.BroadcastLive {
			return platform.BroadcastLive, nil
		}
	}
	return platform.BroadcastReady, nil
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
