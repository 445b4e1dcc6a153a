// Package facebook is Switchboard's client for Facebook Live through the
// Graph API (v21.0) live_videos edge, and for Meta's long-lived token
// exchange.
//
// A live video is created on the user's timeline (/me) or on a Page
// (BroadcastSpec.Destination). Every method takes the user's token; calls
// about a Page's live video need that Page's access token, which the
// client reads from GET /me/accounts with the user's token at each use
// and never keeps (so no Page token is ever stored, logged or returned).
// The client never logs, and never puts a token, a client secret or a
// stream key into an error.
package facebook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Facebook's window for a scheduled live video: planned_start_time must be
// at least 10 minutes and at most 7 days ahead. Evidence: PLATFORMS.md
// Facebook ("up to 7 days ahead"); Graph's "(#100) invalid planned start
// time" outside it (support.switcherstudio.com/en/articles/5345338).
const (
	MinScheduleLead = 10 * time.Minute
	MaxScheduleLead = 7 * 24 * time.Hour
	// scheduleSlack keeps a start just past MinScheduleLead from being
	// refused because of the time the request takes.
	scheduleSlack = time.Minute
)

// Extra keys of a Broadcast.
const (
	ExtraTarget = "target" // the user or Page the video was created on
	ExtraStatus = "status" // the status it was created with
)

// Client talks to the Graph API.
type Client struct {
	call platform.Caller
	now  func() time.Time
}

var (
	_ platform.Broadcaster = (*Client)(nil)
	_ platform.Updater     = (*Client)(nil)
)

// New builds a client. apiURL is the Graph base
// (registry.LoadEndpoints(ID, getenv).APIURL; empty: the
// default https://graph.facebook.com/v21.0).
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = platform.MetaGraphURL
	}
	c := &Client{
		call: platform.Caller{Platform: ID, HTTP: httpClient, BaseURL: strings.TrimRight(apiURL, "/"), Refine: Refine},
		now:  time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Option changes a client.
type Option func(*Client)

// WithClock sets the clock the 7-day scheduling bound is counted from
// (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

func (c *Client) do(ctx context.Context, r platform.Request, secrets ...string) (*platform.Response, error) {
	r.Secrets = append(r.Secrets, secrets...)
	return c.call.Do(ctx, r) // Do redacts the token and secrets from its errors
}

func fail(op string, reason platform.Reason, msg string) error {
	return &platform.Error{Platform: ID, Op: op, Reason: reason, Message: msg}
}

// Whoami names the user behind the token (GET /me?fields=id,name).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var out struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: "read user", Method: http.MethodGet, Path: "/me", Query: url.Values{"fields": {"id,name"}},
		Token: token, Out: &out, Idempotent: true,
	}); err != nil {
		return platform.Account{}, err
	}
	if out.ID == "" {
		return platform.Account{}, fail("read user", platform.ReasonTransient, "Facebook answered without a user id")
	}
	return platform.Account{ID: out.ID, Name: out.Name}, nil
}

// Profile is the destination id of the user's own timeline: a target
// without a destination, or with this one, publishes there.
const Profile = "me"

// page is one Page of GET /me/accounts. Token is a secret.
type page struct {
	ID, Name, Token string
}

// pages lists the Pages the user manages with their Page access tokens:
// GET /me/accounts?fields=id,name,access_token, following the cursor while
// Graph gives a next page. Evidence: PLATFORMS.md Facebook ("Get it from
// GET /me/accounts?fields=id,name,access_token (paged)"); Graph's cursor
// paging is data + paging.cursors.after + paging.next.
func (c *Client) pages(ctx context.Context, userToken string) ([]page, error) {
	const op = "read pages"
	var out []page
	after := ""
	for range 20 { // 2,000 Pages: far beyond what one person manages
		q := url.Values{"fields": {"id,name,access_token"}, "limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var resp struct {
			Data []struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				AccessToken string `json:"access_token"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if _, err := c.do(ctx, platform.Request{
			Op: op, Method: http.MethodGet, Path: "/me/accounts", Query: q, Token: userToken, Out: &resp, Idempotent: true,
		}); err != nil {
			return nil, err
		}
		for _, p := range resp.Data {
			if p.ID != "" {
				out = append(out, page{ID: p.ID, Name: p.Name, Token: p.AccessToken})
			}
		}
		if resp.Paging.Next == "" || resp.Paging.Cursors.After == "" {
			break
		}
		after = resp.Paging.Cursors.After
	}
	return out, nil
}

// PageToken is the access token of a Page the user manages, read from
// GET /me/accounts with the user's token. Page tokens obtained from a
// long-lived user token do not expire (PLATFORMS.md Facebook). A Page the
// user does not manage is ReasonPermission.
func (c *Client) PageToken(ctx context.Context, userToken, pageID string) (string, error) {
	ps, err := c.pages(ctx, userToken)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.ID == pageID && p.Token != "" {
			return p.Token, nil
		}
	}
	return "", fail("read pages", platform.ReasonPermission, "this Facebook account does not manage the Page "+pageID)
}

// Destinations lists where the user's token can publish: the profile
// (id "me") and each Page the user manages (its Page id). Page tokens are
// read on the way and dropped: none leaves the client.
func (c *Client) Destinations(ctx context.Context, userToken string) ([]platform.Destination, error) {
	me, err := c.Whoami(ctx, userToken)
	if err != nil {
		return nil, err
	}
	ps, err := c.pages(ctx, userToken)
	if err != nil {
		return nil, err
	}
	out := []platform.Destination{{ID: Profile, Name: me.Name, Kind: platform.DestinationProfile}}
	for _, p := range ps {
		out = append(out, platform.Destination{ID: p.ID, Name: p.Name, Kind: platform.DestinationPage})
	}
	return out, nil
}

// targetOf is the node a destination names: "me" for none or the profile,
// else the Page id.
func targetOf(destination string) (string, error) {
	d := strings.TrimSpace(destination)
	if d == "" || d == Profile {
		return Profile, nil
	}
	if strings.ContainsAny(d, "/?#") {
		return "", fail("create live video", platform.ReasonInvalid, "the Facebook destination must be a Page id or me")
	}
	return d, nil
}

// tokenFor is the token a call about target's live video needs: the user
// token for the profile, the Page's access token for a Page, read from
// /me/accounts at each use and never kept. Evidence: PLATFORMS.md Facebook
// (corrected), developers.facebook.com/docs/live-video-api getting started:
// "To broadcast on a Page, a Page access token".
func (c *Client) tokenFor(ctx context.Context, userToken, target string) (string, error) {
	if target == "" || target == Profile {
		return userToken, nil
	}
	return c.PageToken(ctx, userToken, target)
}

// Provision creates a live video with the title and description on the
// Page named by spec.Destination (with that Page's access token) or on the
// user's own timeline (me, with the user token). token is always the
// user's token.
//
// The video is created UNPUBLISHED (POST /{target}/live_videos): the
// encoder can push and preview, and nobody sees it until GoLive. LIVE_NOW
// is never used here: it would publish as soon as the encoder pushes,
// before the scheduled time. A start more than about 10 minutes and at
// most 7 days ahead is then announced with an update (POST /{id}
// status=SCHEDULED_UNPUBLISHED&planned_start_time=<unix>). Graph refuses
// planned_start_time on create (developers.facebook.com/docs/live-video-api
// /guides/scheduling; absent from the SDK's create_live_video since v15.0),
// and the update takes it (SDK livevideo.py api_update 'planned_start_time':
// 'datetime'; shared/specs/facebook-livevideo-params.json). Create-then-
// update is used rather than event_params on create because every
// parameter it sends is typed in the SDK, while event_params is an opaque
// 'Object' whose fields neither the SDK nor its description give. A failed
// announcement deletes the video again, so a retry starts clean. A start
// beyond 7 days is ReasonInvalid: Facebook does not schedule that far.
//
// The ingest is secure_stream_url (RTMPS) split after "/rtmp/": the URL up
// to and including it, and the rest as the stream key. Facebook takes no
// idempotency key; the answer has no watch URL (the video gets one when it
// is published), so WatchURL is empty. spec.Privacy is not sent: a Page's
// live video is public, a timeline's follows the user's default audience.
func (c *Client) Provision(ctx context.Context, token string, spec platform.BroadcastSpec) (platform.Broadcast, error) {
	const op = "create live video"
	target, err := targetOf(spec.Destination)
	if err != nil {
		return platform.Broadcast{}, err
	}
	schedule := false
	if !spec.ScheduledStart.IsZero() {
		lead := spec.ScheduledStart.Sub(c.now())
		switch {
		case lead > MaxScheduleLead:
			return platform.Broadcast{}, fail(op, platform.ReasonInvalid, fmt.Sprintf(
				"Facebook schedules live videos at most 7 days ahead; this one starts in %d days: create it closer to the start",
				int(lead.Hours()/24)))
		case lead > MinScheduleLead+scheduleSlack:
			schedule = true
		}
	}
	tok, err := c.tokenFor(ctx, token, target)
	if err != nil {
		return platform.Broadcast{}, err
	}
	form := url.Values{"status": {"UNPUBLISHED"}}
	if t := strings.TrimSpace(spec.Title); t != "" {
		form.Set("title", t)
	}
	if spec.Description != "" {
		form.Set("description", spec.Description)
	}
	var out struct {
		ID              string `json:"id"`
		StreamURL       string `json:"stream_url"`
		SecureStreamURL string `json:"secure_stream_url"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodPost, Path: "/" + url.PathEscape(target) + "/live_videos",
		Token: tok, Form: form, Out: &out,
	}); err != nil {
		return platform.Broadcast{}, err // no stream key exists yet
	}
	if out.ID == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonTransient, "Facebook answered without a live video id")
	}
	b := platform.Broadcast{ExternalID: out.ID, Extra: map[string]string{ExtraTarget: target, ExtraStatus: "UNPUBLISHED"}}
	// discard removes a video of no use, so nothing is left behind; when
	// even that fails, the id goes back with the error to be recorded.
	discard := func(err error) (platform.Broadcast, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if c.remove(cctx, tok, b) == nil {
			return platform.Broadcast{}, err
		}
		return platform.Broadcast{ExternalID: out.ID, Extra: b.Extra}, err
	}
	ingest, key, ok := SplitStreamURL(out.SecureStreamURL)
	if !ok {
		ingest, key, ok = SplitStreamURL(out.StreamURL)
	}
	if !ok {
		return discard(fail(op, platform.ReasonTransient, "Facebook answered without a usable stream URL"))
	}
	b.IngestURL, b.StreamKey = ingest, key
	if schedule {
		if err := c.updateWith(ctx, tok, "schedule live video", b, url.Values{
			"status":             {"SCHEDULED_UNPUBLISHED"},
			"planned_start_time": {strconv.FormatInt(spec.ScheduledStart.Unix(), 10)},
		}); err != nil {
			return discard(err)
		}
		b.Extra[ExtraStatus] = "SCHEDULED_UNPUBLISHED"
	}
	c.persistentKey(ctx, tok, &b)
	return b, nil
}

// persistentKey asks for the target's persistent stream key on the new
// live video (POST /{id} persistent_stream_key_status=ENABLE) and, when
// Facebook grants it, makes it the ingest: the answer's
// persistent_stream_url, split like the stream URL. Evidence: Graph API
// reference, LiveVideo, Updating: "persistent_stream_key_status enum
// {ENABLE, DISABLE, REGENERATE}: Set the status of the persistent stream
// key for this live video", Return Type {id, persistent_stream_url,
// backup_persistent_stream_url}, errors 200 (permissions) and 100 (invalid
// parameter); it is an update parameter only (SDK livevideo.py api_update;
// shared/specs/facebook-livevideo-params.json), not a create one. Meta's
// reference says no more of how long the key lasts than its name, so the
// note says so. A refusal (a Page that may not use one) or any other
// failure keeps the video's own key: the broadcast is sound without it.
func (c *Client) persistentKey(ctx context.Context, tok string, b *platform.Broadcast) {
	var out struct {
		PersistentStreamURL string `json:"persistent_stream_url"`
	}
	_, err := c.do(ctx, platform.Request{
		Op: "enable persistent stream key", Method: http.MethodPost, Path: "/" + url.PathEscape(b.ExternalID), Token: tok,
		Form: url.Values{"persistent_stream_key_status": {"ENABLE"}}, Out: &out,
	}, b.StreamKey)
	if err != nil {
		msg := err.Error()
		if pe, ok := platform.AsError(err); ok {
			msg = pe.Message
		}
		b.KeyNote = "Facebook did not give this Page a persistent stream key (" + msg + "): the key is this live video's own " +
			"and changes with the next livestream"
		return
	}
	ingest, key, ok := SplitStreamURL(out.PersistentStreamURL)
	if !ok {
		b.KeyNote = "Facebook answered without a persistent stream URL: the key is this live video's own and changes with the next livestream"
		return
	}
	b.IngestURL, b.StreamKey, b.StableKey = ingest, key, true
	b.KeyNote = "Facebook's persistent stream key for this Page: it stays the same for the next livestreams until it is " +
		"regenerated in Facebook (Meta's reference calls it persistent but does not say for how long: compare the key before each stream)"
}

// SplitStreamURL splits a Facebook stream URL into the ingest URL (up to
// and including "/rtmp/") and the stream key (the rest).
func SplitStreamURL(u string) (ingest, key string, ok bool) {
	i := strings.Index(u, "/rtmp/")
	if i < 0 || i+len("/rtmp/") >= len(u) {
		return "", "", false
	}
	return u[:i+len("/rtmp/")], u[i+len("/rtmp/"):], true
}

func needID(op string, b platform.Broadcast) error {
	if b.ExternalID == "" || strings.ContainsAny(b.ExternalID, "/?#") {
		return fail(op, platform.ReasonInvalid, "no Facebook live video id")
	}
	return nil
}

// update sends form to the live video (POST /{id}) with the token its
// target needs.
func (c *Client) update(ctx context.Context, token, op string, b platform.Broadcast, form url.Values) error {
	if err := needID(op, b); err != nil {
		return err
	}
	tok, err := c.tokenFor(ctx, token, b.Extra[ExtraTarget])
	if err != nil {
		return err
	}
	return c.updateWith(ctx, tok, op, b, form)
}

// updateWith is update with the target's token already at hand.
func (c *Client) updateWith(ctx context.Context, tok, op string, b platform.Broadcast, form url.Values) error {
	_, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodPost, Path: "/" + url.PathEscape(b.ExternalID), Token: tok, Form: form,
	}, b.StreamKey)
	return err
}

// remove deletes the live video (DELETE /{id}) with the target's token.
func (c *Client) remove(ctx context.Context, tok string, b platform.Broadcast) error {
	_, err := c.do(ctx, platform.Request{
		Op: "delete live video", Method: http.MethodDelete, Path: "/" + url.PathEscape(b.ExternalID),
		Token: tok, Idempotent: true,
	}, b.StreamKey)
	return err
}

// UpdateBroadcast changes the live video's title and description, and,
// when the start moved, its planned start (POST /{id} title, description,
// status=SCHEDULED_UNPUBLISHED, planned_start_time=<unix>), in one update
// with the token its target needs. Evidence: facebook-python-business-sdk
// @94914f9d livevideo.py api_update takes title, description, status and
// planned_start_time (shared/specs/facebook-livevideo-params.json).
//
// Facebook takes a planned start 10 minutes to 7 days ahead (MinScheduleLead,
// MaxScheduleLead, as at Provision): a start moved outside that window is
// not sent, and kept says that Facebook keeps the planned start it had; the
// title and description are changed regardless. An empty description is
// not sent either (Graph's reference does not say that an empty one
// removes it), and kept says so when the change removed it. Switchboard
// goes live at the new time whatever the planned start says.
func (c *Client) UpdateBroadcast(ctx context.Context, token string, b platform.Broadcast, ch platform.BroadcastChange) (string, error) {
	const op = "update live video"
	form := url.Values{}
	if t := strings.TrimSpace(ch.Title); t != "" {
		form.Set("title", t)
	}
	if ch.Description != "" {
		form.Set("description", ch.Description)
	}
	var kept []string
	if ch.DescriptionRemoved && ch.Description == "" {
		kept = append(kept, "Facebook keeps the description it had: Switchboard sends no empty description, since Graph "+
			"does not document that one removes it; remove it in Facebook")
	}
	if ch.StartMoved && !ch.ScheduledStart.IsZero() {
		lead := ch.ScheduledStart.Sub(c.now())
		if lead > MinScheduleLead+scheduleSlack && lead <= MaxScheduleLead {
			form.Set("status", "SCHEDULED_UNPUBLISHED")
			form.Set("planned_start_time", strconv.FormatInt(ch.ScheduledStart.Unix(), 10))
		} else {
			kept = append(kept, fmt.Sprintf("Facebook keeps the planned start it was told: it takes a planned start 10 minutes "+
				"to 7 days ahead, and %s is %s away (Switchboard still goes live at %s)",
				ch.ScheduledStart.UTC().Format(time.RFC3339), lead.Round(time.Minute), ch.ScheduledStart.UTC().Format(time.RFC3339)))
		}
	}
	if len(form) == 0 {
		return strings.Join(kept, "; "), nil
	}
	if err := c.update(ctx, token, op, b, form); err != nil {
		return "", err
	}
	return strings.Join(kept, "; "), nil
}

// GoLive publishes the video (POST /{id} status=LIVE_NOW). Facebook goes
// live when the encoder pushes to a LIVE_NOW video: if it is pushing
// already, the video is live at once; if not, it goes live as soon as the
// encoder starts. Publishing a video that is live already is harmless.
func (c *Client) GoLive(ctx context.Context, token string, b platform.Broadcast) error {
	return c.update(ctx, token, "go live", b, url.Values{"status": {"LIVE_NOW"}})
}

// End ends the live video (POST /{id} end_live_video=true).
func (c *Client) End(ctx context.Context, token string, b platform.Broadcast) error {
	return c.update(ctx, token, "end live video", b, url.Values{"end_live_video": {"true"}})
}

// State reads the video's status (GET /{id}?fields=status):
// UNPUBLISHED, SCHEDULED_UNPUBLISHED and SCHEDULED_LIVE (announced, not
// started) are ready; LIVE is live; LIVE_STOPPED, PROCESSING and VOD are
// ended; SCHEDULED_CANCELED is cancelled; SCHEDULED_EXPIRED (the planned
// start passed and nobody went live) is failed. Another status is pending.
func (c *Client) State(ctx context.Context, token string, b platform.Broadcast) (platform.BroadcastState, error) {
	const op = "read live video"
	if err := needID(op, b); err != nil {
		return "", err
	}
	tok, err := c.tokenFor(ctx, token, b.Extra[ExtraTarget])
	if err != nil {
		return "", err
	}
	var out struct {
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodGet, Path: "/" + url.PathEscape(b.ExternalID),
		Query: url.Values{"fields": {"status"}}, Token: tok, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return "", err
	}
	return StateOf(out.Status), nil
}

// StateOf maps a live video status to a broadcast state.
func StateOf(status string) platform.BroadcastState {
	switch status {
	case "UNPUBLISHED", "SCHEDULED_UNPUBLISHED", "SCHEDULED_LIVE":
		return platform.BroadcastReady
	case "LIVE":
		return platform.BroadcastLive
	case "LIVE_STOPPED", "PROCESSING", "VOD":
		return platform.BroadcastEnded
	case "SCHEDULED_CANCELED":
		return platform.BroadcastCancelled
	case "SCHEDULED_EXPIRED":
		return platform.BroadcastFailed
	}
	return platform.BroadcastPending
}

// Cancel marks a scheduled video cancelled (POST /{id}
// status=SCHEDULED_CANCELED), then deletes it (DELETE /{id}). Facebook's
// delete of a live video is marked "verify" in PLATFORMS.md, so once the
// cancellation succeeded a failed delete is not an error. A video that is
// not scheduled (cannot be cancelled) is cancelled by the delete alone;
// a video already gone is success.
func (c *Client) Cancel(ctx context.Context, token string, b platform.Broadcast) error {
	if err := needID("cancel live video", b); err != nil {
		return err
	}
	tok, err := c.tokenFor(ctx, token, b.Extra[ExtraTarget])
	if err != nil {
		return err
	}
	errCancel := c.updateWith(ctx, tok, "cancel live video", b, url.Values{"status": {"SCHEDULED_CANCELED"}})
	if platform.ReasonOf(errCancel) == platform.ReasonNotFound {
		return nil
	}
	errDelete := c.remove(ctx, tok, b)
	if errCancel == nil || errDelete == nil || platform.ReasonOf(errDelete) == platform.ReasonNotFound {
		return nil
	}
	return errCancel
}

// ExchangeLongLived trades a short-lived user token (about an hour) for a
// long-lived one (about 60 days): GET tokenURL?grant_type=fb_exchange_token
// &client_id&client_secret&fb_exchange_token. The client secret travels
// only in that request; no error carries it, the token or the URL.
// expiresIn is zero when Facebook gives no expiry.
func (c *Client) ExchangeLongLived(ctx context.Context, tokenURL, clientID, clientSecret, shortToken string) (accessToken string, expiresIn time.Duration, err error) {
	const op = "exchange token"
	u, perr := url.Parse(tokenURL)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", 0, fail(op, platform.ReasonInvalid, "the token URL is not an absolute http(s) URL")
	}
	if clientID == "" || clientSecret == "" || shortToken == "" {
		return "", 0, fail(op, platform.ReasonInvalid, "the exchange needs a client id, a client secret and a token")
	}
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodGet, Path: tokenURL,
		Query: url.Values{
			"grant_type": {"fb_exchange_token"}, "client_id": {clientID},
			"client_secret": {clientSecret}, "fb_exchange_token": {shortToken},
		},
		Out: &out, Idempotent: true,
	}, clientSecret, shortToken); err != nil {
		return "", 0, err
	}
	if out.AccessToken == "" {
		return "", 0, fail(op, platform.ReasonTransient, "Facebook answered without an access token")
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}

// graphError is the Graph API's error answer.
type graphError struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		IsTransient  bool   `json:"is_transient"`
		ErrorUserMsg string `json:"error_user_msg"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// Refine reads the Graph API's {"error":{"message","type","code",
// "error_subcode","fbtrace_id"}} and maps by code, not by HTTP status
// (Graph answers most errors with 400):
//
//	190 (invalid or expired token), 102 (session), 104 (no token) -> ReasonExpiredToken
//	4, 17, 32, 613, 80001-80014 (throttling)                    -> ReasonRateLimited
//	a message about eligibility (Facebook documents no code for
//	  the 60-day / 100-follower rule; it comes as a permission error) -> ReasonNotEligible
//	10, 200-299 (permission)                                    -> ReasonPermission
//	100 with subcode 33 (object does not exist)                 -> ReasonNotFound
//	100 (invalid parameter)                                     -> ReasonInvalid
//	1, 2, or is_transient                                       -> ReasonTransient
//
// Code is "code" or "code/subcode". Instagram, on the same Graph API,
// uses it too.
func Refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var ge graphError
	if json.Unmarshal(body, &ge) != nil || ge.Error == nil {
		return
	}
	g := ge.Error
	e.Message = g.Message
	if g.ErrorUserMsg != "" && g.ErrorUserMsg != g.Message {
		e.Message += " (" + g.ErrorUserMsg + ")"
	}
	e.Code = strconv.Itoa(g.Code)
	if g.ErrorSubcode != 0 {
		e.Code += "/" + strconv.Itoa(g.ErrorSubcode)
	}
	switch {
	case g.Code == 190 || g.Code == 102 || g.Code == 104:
		e.Reason = platform.ReasonExpiredToken
	case g.Code == 4 || g.Code == 17 || g.Code == 32 || g.Code == 613 || (g.Code >= 80001 && g.Code <= 80014):
		e.Reason = platform.ReasonRateLimited
	case strings.Contains(strings.ToLower(g.Message+" "+g.ErrorUserMsg), "eligib"):
		e.Reason = platform.ReasonNotEligible
	case g.Code == 10 || (g.Code >= 200 && g.Code <= 299):
		e.Reason = platform.ReasonPermission
	case g.Code == 100 && g.ErrorSubcode == 33:
		e.Reason = platform.ReasonNotFound
	case g.Code == 100:
		e.Reason = platform.ReasonInvalid
	case g.Code == 1 || g.Code == 2 || g.IsTransient:
		e.Reason = platform.ReasonTransient
	}
}

// Choices lists the profile and the Pages the user manages (Destinations),
// for the connect page: the one chosen is where a livestream target that
// names no destination goes.
func (c *Client) Choices(ctx context.Context, userToken string) ([]platform.Workspace, error) {
	ds, err := c.Destinations(ctx, userToken)
	if err != nil {
		return nil, err
	}
	out := make([]platform.Workspace, len(ds))
	for i, d := range ds {
		name := d.Name
		if d.Kind == platform.DestinationProfile {
			name += " (your profile)"
		}
		out[i] = platform.Workspace{ID: d.ID, Name: name}
	}
	return out, nil
}
