// Package teams is Switchboard's client of Microsoft Graph v1.0
// (https://graph.microsoft.com/v1.0, configured by MICROSOFT_TEAMS_API_URL)
// for Teams online meetings on the signed-in user's account: who the user
// is, create (idempotently, by externalId), change and delete meetings.
//
// What Graph cannot do, and how the client says so:
//   - End a meeting: Microsoft Graph has no call that ends a Teams meeting;
//     it ends when its participants leave. The client does not implement
//     platform.MeetingEnder.
//   - Personal Microsoft accounts: online meetings need a work or school
//     account. Graph answers a personal account's token with
//     {"error":{"code":"AuthenticationError","message":"Error authenticating
//     with resource"}}; the client reports that code as ReasonNotEligible
//     (reconnecting with the same account cannot help).
package teams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// DefaultAPIURL is Graph v1.0's base.
const DefaultAPIURL = "https://graph.microsoft.com/v1.0"

// Graph error codes the client acts on.
const (
	CodeInvalidToken       = "InvalidAuthenticationToken"
	CodeAuthenticationErr  = "AuthenticationError" // a personal (MSA) account's token on onlineMeetings
	CodeForbidden          = "Forbidden"
	CodeAccessDenied       = "Authorization_RequestDenied"
	CodeErrorAccessDenied  = "ErrorAccessDenied"
	CodeTooManyRequests    = "TooManyRequests"
	CodeNotFound           = "NotFound"
	CodeItemNotFound       = "ItemNotFound"
	CodeRequestResourceNF  = "Request_ResourceNotFound"
	CodeBadRequest         = "BadRequest"
	CodeServiceUnavailable = "ServiceNotAvailable"
)

// Client talks to Graph. It is safe for concurrent use.
type Client struct {
	call platform.Caller
	now  func() time.Time
}

var _ platform.Meeter = (*Client)(nil)

// Option changes a client.
type Option func(*Client)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New is a client of Graph at apiURL ("" for DefaultAPIURL).
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

// Whoami is the signed-in user: GET /me.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var me struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		UserPrincipalName string `json:"userPrincipalName"`
		Mail              string `json:"mail"`
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/me",
		Token: token, Out: &me, Idempotent: true})
	if err != nil {
		return platform.Account{}, err
	}
	name := me.DisplayName
	if name == "" {
		name = me.UserPrincipalName
	}
	extra := map[string]string{}
	if me.UserPrincipalName != "" {
		extra["userPrincipalName"] = me.UserPrincipalName
	}
	if me.Mail != "" {
		extra["email"] = me.Mail
	}
	return platform.Account{ID: me.ID, Name: name, Extra: extra}, nil
}

type createOrGetBody struct {
	ExternalID    string `json:"externalId"`
	StartDateTime string `json:"startDateTime"`
	EndDateTime   string `json:"endDateTime"`
	Subject       string `json:"subject"`
}

// CreateMeeting creates the meeting, or gets the one created before with
// the same spec.RequestID: POST /me/onlineMeetings/createOrGet with
// externalId = RequestID. Because that call is idempotent it is retried on
// transient failures. Without a RequestID a random externalId is used and
// the call is tried once. Graph keeps times in UTC; TimeZone is not sent.
func (c *Client) CreateMeeting(ctx context.Context, token string, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.Normalize(ID, c.now())
	if err != nil {
		return platform.Meeting{}, err
	}
	externalID, idempotent := spec.RequestID, true
	if externalID == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return platform.Meeting{}, err
		}
		externalID, idempotent = "switchboard-"+hex.EncodeToString(b), false
	}
	body := createOrGetBody{ExternalID: externalID, Subject: spec.Title,
		StartDateTime: spec.Start.UTC().Format(time.RFC3339), EndDateTime: spec.End().UTC().Format(time.RFC3339)}
	var out struct {
		ID                    string `json:"id"`
		JoinWebURL            string `json:"joinWebUrl"`
		VideoTeleconferenceID string `json:"videoTeleconferenceId"`
		JoinMeetingIDSettings struct {
			JoinMeetingID string `json:"joinMeetingId"`
		} `json:"joinMeetingIdSettings"`
	}
	resp, err := c.call.Do(ctx, platform.Request{Op: "create meeting", Method: http.MethodPost, Path: "/me/onlineMeetings/createOrGet",
		Token: token, JSON: body, Out: &out, Idempotent: idempotent})
	if err != nil {
		return platform.Meeting{}, err
	}
	if out.ID == "" || out.JoinWebURL == "" {
		return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create meeting", Status: resp.Status,
			Reason: platform.ReasonTransient, Message: "the answer had no meeting id or join URL"}
	}
	extra := map[string]string{"externalId": externalID}
	if out.JoinMeetingIDSettings.JoinMeetingID != "" {
		extra["joinMeetingId"] = out.JoinMeetingIDSettings.JoinMeetingID
	}
	if out.VideoTeleconferenceID != "" {
		extra["videoTeleconferenceId"] = out.VideoTeleconferenceID
	}
	if resp.Status == http.StatusOK {
		extra["existing"] = "true" // createOrGet found the meeting of an earlier try
	}
	return platform.Meeting{ExternalID: out.ID, JoinURL: out.JoinWebURL, Extra: extra}, nil
}

// changeBody is what a change patches: the subject and both times, as
// Graph requires both whenever either changes.
type changeBody struct {
	StartDateTime string `json:"startDateTime"`
	EndDateTime   string `json:"endDateTime"`
	Subject       string `json:"subject"`
}

// UpdateMeeting changes the meeting's subject and times: PATCH
// /me/onlineMeetings/{id}, answered 200 with the meeting; its join link
// stays. Graph keeps times in UTC; TimeZone is not sent.
// Evidence: learn.microsoft.com/graph/api/onlinemeeting-update (v1.0): subject, startDateTime and endDateTime
// "can be updated"; "Adjusting the start or end date/time ... always requires both startDateTime and endDateTime".
func (c *Client) UpdateMeeting(ctx context.Context, token string, m platform.Meeting, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.NormalizeChange(ID)
	if err != nil {
		return m, err
	}
	if m.ExternalID == "" {
		return m, &platform.Error{Platform: ID, Op: "update meeting", Reason: platform.ReasonInvalid, Message: "no meeting id"}
	}
	body := changeBody{Subject: spec.Title, StartDateTime: spec.Start.UTC().Format(time.RFC3339), EndDateTime: spec.End().UTC().Format(time.RFC3339)}
	_, err = c.call.Do(ctx, platform.Request{Op: "update meeting", Method: http.MethodPatch,
		Path: "/me/onlineMeetings/" + url.PathEscape(m.ExternalID), Token: token, JSON: body, Idempotent: true})
	return m, err
}

// DeleteMeeting deletes the meeting: DELETE /me/onlineMeetings/{id}. One
// Graph no longer has (404) counts as deleted.
func (c *Client) DeleteMeeting(ctx context.Context, token string, m platform.Meeting) error {
	if m.ExternalID == "" {
		return &platform.Error{Platform: ID, Op: "delete meeting", Reason: platform.ReasonInvalid, Message: "no meeting id"}
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "delete meeting", Method: http.MethodDelete,
		Path: "/me/onlineMeetings/" + url.PathEscape(m.ExternalID), Token: token, Idempotent: true})
	if platform.ReasonOf(err) == platform.ReasonNotFound {
		return nil
	}
	return err
}

// Refine reads Graph's error body, {"error":{"code","message"}}:
// InvalidAuthenticationToken (or any 401 but the one below) is an expired
// token; AuthenticationError is a personal Microsoft account, which cannot
// have online meetings (ReasonNotEligible); Forbidden,
// Authorization_RequestDenied and ErrorAccessDenied are a missing
// permission; TooManyRequests or 429 a rate limit (the caller keeps
// Retry-After); NotFound and its kin not found.
func Refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil && b.Error.Code != "" {
		e.Code = b.Error.Code
		if b.Error.Message != "" {
			e.Message = b.Error.Message
		}
	}
	switch e.Code {
	case CodeAuthenticationErr:
		e.Reason = platform.ReasonNotEligible
		e.Message = "Microsoft Graph refused the account (" + e.Message + "): Teams meetings need a work or school account, not a personal Microsoft account"
		return
	case CodeInvalidToken:
		e.Reason = platform.ReasonExpiredToken
		return
	case CodeForbidden, CodeAccessDenied, CodeErrorAccessDenied:
		e.Reason = platform.ReasonPermission
		return
	case CodeTooManyRequests:
		e.Reason = platform.ReasonRateLimited
		return
	case CodeNotFound, CodeItemNotFound, CodeRequestResourceNF:
		e.Reason = platform.ReasonNotFound
		return
	}
	// Otherwise the status decides (platform.ReasonForStatus).
}
