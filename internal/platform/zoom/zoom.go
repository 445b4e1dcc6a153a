// Package zoom is Switchboard's client of Zoom's Meeting API v2
// (https://api.zoom.us/v2, configured by ZOOM_API_URL): who the user is,
// and create, change, end and delete meetings on the user's own account.
//
// A meeting's HostURL is Zoom's start_url: it embeds a host token (ZAK) that
// starts the meeting as its host without signing in. It is a secret: show
// it only to the host and never log it.
//
// Zoom has no idempotency key: a create whose answer is lost may leave a
// meeting behind, so a create is tried once (never retried); reads, end and
// delete are retried on transient failures.
package zoom

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// DefaultAPIURL is Zoom's API base.
const DefaultAPIURL = "https://api.zoom.us/v2"

// Zoom's error codes the client acts on (from Zoom's API reference).
const (
	codeInvalidToken     = 124  // "Invalid access token."
	codeNoPermission     = 200  // "No permission."
	codeInvalidField     = 300  // validation failures
	codeRateLimit        = 429  // also the HTTP status
	codeUserNotFound     = 1001 // "User does not exist"
	codeMeetingNotFound  = 3001 // "Meeting does not exist"
	codeHostingForbidden = 3161 // "Meeting hosting and scheduling capabilities are not allowed for your user account."
	codeOAuthError       = 4700 // the OAuth error table's catch-all (developers.zoom.us/docs/integrations/oauth-error-messages/)
	// codeMissingScopes is HTTP 400 {"code":4711,"message":"Invalid access
	// token, does not contain scopes:[meeting:delete:meeting]."}.
	// Evidence: PLATFORMS.md Zoom "(corrected) Missing scope"; devforum.zoom.us/t/108207.
	codeMissingScopes = 4711
)

// missingScopes reads the scope list out of Zoom's 4711 message; compiled
// on first use, not in every function's cold start.
var missingScopes = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`does not contain scopes?\s*:\s*\[([^\]]*)\]`)
})

// Client talks to Zoom. It is safe for concurrent use.
type Client struct {
	call platform.Caller
	now  func() time.Time
}

var _ platform.Meeter = (*Client)(nil)

// Option changes a client.
type Option func(*Client)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// WithMaxTries bounds attempts of idempotent calls (3 by default).
func WithMaxTries(n uint) Option { return func(c *Client) { c.call.MaxTries = n } }

// New is a client of the API at apiURL ("" for DefaultAPIURL).
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	c := &Client{
		call: platform.Caller{Platform: ID, HTTP: httpClient, BaseURL: strings.TrimSuffix(apiURL, "/"), Refine: Refine},
		now:  time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Whoami is the token's user: GET /users/me.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var me struct {
		ID          string `json:"id"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
		DisplayName string `json:"display_name"`
		Email       string `json:"email"`
		AccountID   string `json:"account_id"`
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/users/me",
		Token: token, Out: &me, Idempotent: true})
	if err != nil {
		return platform.Account{}, err
	}
	name := me.DisplayName
	if name == "" {
		name = strings.TrimSpace(me.FirstName + " " + me.LastName)
	}
	if name == "" {
		name = me.Email
	}
	extra := map[string]string{}
	if me.Email != "" {
		extra["email"] = me.Email
	}
	if me.AccountID != "" {
		extra["accountId"] = me.AccountID
	}
	return platform.Account{ID: me.ID, Name: name, Extra: extra}, nil
}

type settings struct {
	JoinBeforeHost bool `json:"join_before_host"`
	WaitingRoom    bool `json:"waiting_room"`
}

type createBody struct {
	Topic     string   `json:"topic"`
	Type      int      `json:"type"`
	StartTime string   `json:"start_time,omitempty"`
	Duration  int      `json:"duration,omitempty"`
	Timezone  string   `json:"timezone,omitempty"`
	Password  string   `json:"password"`
	Settings  settings `json:"settings"`
}

// Zoom's meeting types.
const (
	typeInstant   = 1
	typeScheduled = 2
)

// CreateMeeting creates a meeting hosted by the token's user: POST
// /users/me/meetings with type 2 (scheduled) or 1 (instant), a random
// passcode, the waiting room on and joining before the host off. Zoom caps
// meeting creation at 100 per user per day: past it the error's Reason is
// ReasonQuota.
func (c *Client) CreateMeeting(ctx context.Context, token string, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.Normalize(ID, c.now())
	if err != nil {
		return platform.Meeting{}, err
	}
	pwd, err := Passcode()
	if err != nil {
		return platform.Meeting{}, err
	}
	body := createBody{Topic: trunc.Runes(spec.Title, 200), Type: typeScheduled, Duration: minutes(spec.Duration),
		Timezone: spec.TimeZone, Password: pwd, Settings: settings{JoinBeforeHost: false, WaitingRoom: true}}
	if body.Timezone == "" {
		body.Timezone = "UTC"
	}
	if spec.Instant {
		body.Type = typeInstant
	} else {
		body.StartTime = spec.Start.UTC().Format("2006-01-02T15:04:05Z")
	}
	var out struct {
		ID       json.Number `json:"id"`
		UUID     string      `json:"uuid"`
		JoinURL  string      `json:"join_url"`
		StartURL string      `json:"start_url"`
		Status   string      `json:"status"`
		HostID   string      `json:"host_id"`
	}
	_, err = c.call.Do(ctx, platform.Request{Op: "create meeting", Method: http.MethodPost, Path: "/users/me/meetings",
		Token: token, JSON: body, Out: &out})
	if err != nil {
		return platform.Meeting{}, err
	}
	if out.ID == "" || out.JoinURL == "" {
		return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create meeting", Status: http.StatusCreated,
			Reason: platform.ReasonTransient, Message: "the answer had no meeting id or join URL"}
	}
	extra := map[string]string{}
	if out.UUID != "" {
		extra["uuid"] = out.UUID
	}
	if out.Status != "" {
		extra["status"] = out.Status
	}
	return platform.Meeting{ExternalID: out.ID.String(), JoinURL: out.JoinURL, HostURL: out.StartURL, Extra: extra}, nil
}

// EndMeeting ends the meeting for everyone: PUT /meetings/{id}/status
// {"action":"end"}.
func (c *Client) EndMeeting(ctx context.Context, token string, m platform.Meeting) error {
	id, err := meetingID(m, "end meeting")
	if err != nil {
		return err
	}
	_, err = c.call.Do(ctx, platform.Request{Op: "end meeting", Method: http.MethodPut, Path: "/meetings/" + id + "/status",
		Token: token, JSON: map[string]string{"action": "end"}, Idempotent: true})
	return err
}

// updateBody is what a change sends: the meeting's details, nothing of
// its settings or passcode, which stay as they were.
type updateBody struct {
	Topic     string `json:"topic"`
	StartTime string `json:"start_time"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
}

// UpdateMeeting changes the meeting's topic, start, duration and zone:
// PATCH /meetings/{id}, answered 204 with no body, so the meeting's links
// stay as they were. Zoom refuses a meeting that has started (400, code
// 3000) and counts changes against the same 100 a day per user as
// creates (429 past it, ReasonQuota).
// Evidence: zoom-meeting-openapi.json PATCH /meetings/{meetingId} ("204 Meeting updated"; 400 "You cannot
// update or delete meetings that have started using this method"; 300 "A maximum of {rateLimitNumber} meetings
// can be created/updated for a single user in one day").
func (c *Client) UpdateMeeting(ctx context.Context, token string, m platform.Meeting, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.NormalizeChange(ID)
	if err != nil {
		return m, err
	}
	id, err := meetingID(m, "update meeting")
	if err != nil {
		return m, err
	}
	body := updateBody{Topic: trunc.Runes(spec.Title, 200), StartTime: spec.Start.UTC().Format("2006-01-02T15:04:05Z"),
		Duration: minutes(spec.Duration), Timezone: spec.TimeZone}
	if body.Timezone == "" {
		body.Timezone = "UTC"
	}
	// The same body twice leaves the same meeting, so a transient failure is retried.
	_, err = c.call.Do(ctx, platform.Request{Op: "update meeting", Method: http.MethodPatch, Path: "/meetings/" + id,
		Token: token, JSON: body, Idempotent: true})
	return m, err
}

// DeleteMeeting deletes the meeting: DELETE /meetings/{id}. A meeting Zoom
// no longer knows (404, code 3001) counts as deleted.
func (c *Client) DeleteMeeting(ctx context.Context, token string, m platform.Meeting) error {
	id, err := meetingID(m, "delete meeting")
	if err != nil {
		return err
	}
	_, err = c.call.Do(ctx, platform.Request{Op: "delete meeting", Method: http.MethodDelete, Path: "/meetings/" + id,
		Token: token, Idempotent: true})
	if pe, ok := platform.AsError(err); ok && pe.Reason == platform.ReasonNotFound &&
		(pe.Code == strconv.Itoa(codeMeetingNotFound) || pe.Code == "") {
		return nil
	}
	return err
}

// MeetingState reads where the meeting is: GET /meetings/{id}; Zoom's
// "waiting" is MeetingScheduled, "started" MeetingStarted, and a meeting
// Zoom no longer has is MeetingCancelled.
func (c *Client) MeetingState(ctx context.Context, token string, m platform.Meeting) (platform.MeetingState, error) {
	id, err := meetingID(m, "read meeting")
	if err != nil {
		return "", err
	}
	var out struct {
		Status string `json:"status"`
	}
	_, err = c.call.Do(ctx, platform.Request{Op: "read meeting", Method: http.MethodGet, Path: "/meetings/" + id,
		Token: token, Out: &out, Idempotent: true})
	if pe, ok := platform.AsError(err); ok && pe.Reason == platform.ReasonNotFound {
		return platform.MeetingCancelled, nil
	}
	if err != nil {
		return "", err
	}
	switch out.Status {
	case "started":
		return platform.MeetingStarted, nil
	case "finished", "ended":
		return platform.MeetingEnded, nil
	default:
		return platform.MeetingScheduled, nil
	}
}

func meetingID(m platform.Meeting, op string) (string, error) {
	if _, err := strconv.ParseInt(m.ExternalID, 10, 64); err != nil {
		return "", &platform.Error{Platform: ID, Op: op, Reason: platform.ReasonInvalid,
			Message: fmt.Sprintf("%q is not a Zoom meeting id", m.ExternalID)}
	}
	return url.PathEscape(m.ExternalID), nil
}

// Refine reads Zoom's error body, {"code":124,"message":"Invalid access
// token."}, into the error: 124 is an expired or revoked token, 4711 a
// missing scope (the message names it and tells the user to reconnect),
// 4700 and 200 a missing permission, 300 an invalid request, 1001 and 3001
// something that does not exist, 3161 an account that may not host
// meetings, and a 429 whose message speaks of the daily limit is Zoom's
// 100-meetings-a-day quota (any other 429 is a rate limit; Zoom does not
// always send Retry-After).
func Refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return // Zoom reports failures with an HTTP status only
	}
	var b struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil {
		if b.Message != "" {
			e.Message = b.Message
		}
		if b.Code != "" {
			e.Code = b.Code.String()
		}
	}
	code, _ := strconv.Atoi(e.Code)
	switch {
	case code == codeInvalidToken || e.Status == http.StatusUnauthorized:
		e.Reason = platform.ReasonExpiredToken
	case e.Status == http.StatusTooManyRequests || code == codeRateLimit:
		e.Reason = platform.ReasonRateLimited
		if strings.Contains(strings.ToLower(e.Message), "daily") {
			e.Reason = platform.ReasonQuota
		}
	case code == codeMissingScopes || missingScopes().MatchString(e.Message):
		// A permission problem the user fixes by reconnecting with the scope
		// (and, for the app's owner, by adding it to the app's settings).
		e.Reason = platform.ReasonPermission
		scopes := "a scope this call needs"
		if m := missingScopes().FindStringSubmatch(e.Message); m != nil && strings.TrimSpace(m[1]) != "" {
			scopes = strings.TrimSpace(m[1])
		}
		e.Message = fmt.Sprintf("the Zoom connection lacks the scope %s for %s: reconnect Zoom to grant it "+
			"(the Zoom app's settings must include it). Zoom answered: %s", scopes, e.Op, trunc.Runes(e.Message, 200))
	case code == codeOAuthError || code == codeNoPermission:
		e.Reason = platform.ReasonPermission
	case code == codeHostingForbidden:
		e.Reason = platform.ReasonNotEligible
	case code == codeMeetingNotFound || code == codeUserNotFound:
		e.Reason = platform.ReasonNotFound
	case code == codeInvalidField:
		e.Reason = platform.ReasonInvalid
	}
}

// passcodeChars are the characters Zoom allows in a passcode: letters,
// digits and @ - _ *.
const passcodeChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789@-_*"

// Passcode is a random 10-character meeting passcode in Zoom's alphabet,
// with at least one letter of each case, a digit and a symbol, so that it
// meets an account's "complex passcode" rules too.
func Passcode() (string, error) {
	const n = 10
	classes := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "@-_*"}
	out := make([]byte, 0, n)
	pick := func(set string) error {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return err
		}
		out = append(out, set[i.Int64()])
		return nil
	}
	for _, set := range classes {
		if err := pick(set); err != nil {
			return "", err
		}
	}
	for len(out) < n {
		if err := pick(passcodeChars); err != nil {
			return "", err
		}
	}
	// Shuffle so the classes are not in fixed places.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func minutes(d time.Duration) int {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	return m
}
