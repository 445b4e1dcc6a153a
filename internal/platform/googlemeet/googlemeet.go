// Package googlemeet is Switchboard's Google Meet client. It calls three
// Google services, each with its own configurable base URL:
//
//   - Meet REST API v2 (GOOGLE_MEET_API_URL, default
//     https://meet.googleapis.com/v2): instant meetings are Meet spaces;
//   - Calendar API v3 (GOOGLE_MEET_CALENDAR_API_URL, default
//     https://www.googleapis.com/calendar/v3): a meeting with a start time
//     is an event on the user's primary calendar with a Meet conference
//     (conferenceData), because a Meet space has no start time;
//   - OpenID Connect userinfo (GOOGLE_MEET_USERINFO_URL, default
//     https://openidconnect.googleapis.com/v1/userinfo): who the user is.
//
// Which kind a Meeting is, is told by its ExternalID: "spaces/..." is a
// Meet space, anything else a Calendar event id (Extra["kind"] says it too).
//
// A Calendar-scheduled meeting's title and times are changed by patching
// its event (UpdateMeeting).
//
// What the public APIs cannot do, and how the client says so:
//   - End a Calendar-scheduled Meet: there is no call (the Meet API's
//     endActiveConference only acts on spaces the app created). EndMeeting
//     returns ReasonUnsupported; such a meeting ends when its participants
//     leave.
//   - Delete a Meet space: there is no call; a space with nobody in it
//     simply expires. DeleteMeeting of a space returns nil and does nothing.
package googlemeet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Default base URLs.
const (
	DefaultMeetURL     = "https://meet.googleapis.com/v2"
	DefaultCalendarURL = "https://www.googleapis.com/calendar/v3"
	DefaultUserinfoURL = "https://openidconnect.googleapis.com/v1/userinfo"
)

// Environment variables that configure the base URLs (read by the wiring,
// not by this package; see URLsFromEnv).
const (
	EnvMeetURL     = "GOOGLE_MEET_API_URL"
	EnvCalendarURL = "GOOGLE_MEET_CALENDAR_API_URL"
	EnvUserinfoURL = "GOOGLE_MEET_USERINFO_URL"
)

// URLsFromEnv reads the three base URLs with getenv (os.Getenv), with the
// defaults for unset ones.
func URLsFromEnv(getenv func(string) string) (meetURL, calendarURL, userinfoURL string) {
	or := func(k, d string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return d
	}
	return or(EnvMeetURL, DefaultMeetURL), or(EnvCalendarURL, DefaultCalendarURL), or(EnvUserinfoURL, DefaultUserinfoURL)
}

// Kinds of meeting, in Meeting.Extra["kind"].
const (
	KindSpace         = "space"
	KindCalendarEvent = "calendar-event"
)

// Client talks to Google. It is safe for concurrent use.
type Client struct {
	call                platform.Caller
	meet, cal, userinfo string
	now                 func() time.Time
	pollEvery           time.Duration
	pollTries           int
	calendarID          string
}

var _ platform.Meeter = (*Client)(nil)

// Option changes a client.
type Option func(*Client)

// WithUserinfoURL sets the userinfo endpoint (GOOGLE_MEET_USERINFO_URL).
func WithUserinfoURL(u string) Option {
	return func(c *Client) {
		if u != "" {
			c.userinfo = u
		}
	}
}

// WithPolling sets how often and how many times CreateMeeting reads a new
// event while its Meet conference is still being created (every 500 ms, 6
// times by default).
func WithPolling(every time.Duration, tries int) Option {
	return func(c *Client) { c.pollEvery, c.pollTries = every, tries }
}

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New is a client of the Meet API at meetURL and the Calendar API at
// calendarURL ("" for the defaults). The userinfo endpoint is set with
// WithUserinfoURL.
func New(httpClient *http.Client, meetURL, calendarURL string, opts ...Option) *Client {
	if meetURL == "" {
		meetURL = DefaultMeetURL
	}
	if calendarURL == "" {
		calendarURL = DefaultCalendarURL
	}
	c := &Client{
		call:       platform.Caller{Platform: ID, HTTP: httpClient, Refine: Refine},
		meet:       strings.TrimSuffix(meetURL, "/"),
		cal:        strings.TrimSuffix(calendarURL, "/"),
		userinfo:   DefaultUserinfoURL,
		now:        time.Now,
		pollEvery:  500 * time.Millisecond,
		pollTries:  6,
		calendarID: "primary",
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Whoami is the signed-in Google user: GET userinfo (sub, email, name).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var me struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: c.userinfo,
		Token: token, Out: &me, Idempotent: true})
	if err != nil {
		return platform.Account{}, err
	}
	name := me.Name
	if name == "" {
		name = me.Email
	}
	extra := map[string]string{}
	if me.Email != "" {
		extra["email"] = me.Email
	}
	return platform.Account{ID: me.Sub, Name: name, Extra: extra}, nil
}

// CreateMeeting makes an instant meeting a Meet space (POST /spaces) and a
// scheduled one a Calendar event with a Meet conference (POST
// /calendars/primary/events?conferenceDataVersion=1).
func (c *Client) CreateMeeting(ctx context.Context, token string, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.Normalize(ID, c.now())
	if err != nil {
		return platform.Meeting{}, err
	}
	var m platform.Meeting
	if spec.Instant {
		m, err = c.createSpace(ctx, token)
	} else {
		m, err = c.createEvent(ctx, token, spec)
	}
	return m, platform.Redact(err, token)
}

type space struct {
	Name        string `json:"name"`
	MeetingURI  string `json:"meetingUri"`
	MeetingCode string `json:"meetingCode"`
}

// createSpace is tried once: spaces.create takes no request id, so a
// retry could make a second space.
func (c *Client) createSpace(ctx context.Context, token string) (platform.Meeting, error) {
	var sp space
	_, err := c.call.Do(ctx, platform.Request{Op: "create meeting space", Method: http.MethodPost, Path: c.meet + "/spaces",
		Token: token, JSON: struct{}{}, Out: &sp})
	if err != nil {
		return platform.Meeting{}, err
	}
	if !strings.HasPrefix(sp.Name, "spaces/") || sp.MeetingURI == "" {
		return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create meeting space",
			Status: http.StatusOK, Reason: platform.ReasonTransient, Message: "the answer had no space name or meeting URI"}
	}
	return platform.Meeting{ExternalID: sp.Name, JoinURL: sp.MeetingURI,
		Extra: map[string]string{"kind": KindSpace, "meetingCode": sp.MeetingCode}}, nil
}

type eventTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type conferenceSolutionKey struct {
	Type string `json:"type"`
}

type createRequest struct {
	RequestID             string                `json:"requestId"`
	ConferenceSolutionKey conferenceSolutionKey `json:"conferenceSolutionKey"`
}

type eventBody struct {
	ID             string    `json:"id,omitempty"`
	Summary        string    `json:"summary"`
	Start          eventTime `json:"start"`
	End            eventTime `json:"end"`
	ConferenceData struct {
		CreateRequest createRequest `json:"createRequest"`
	} `json:"conferenceData"`
}

type event struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	HTMLLink       string `json:"htmlLink"`
	HangoutLink    string `json:"hangoutLink"`
	ConferenceData *struct {
		ConferenceID  string `json:"conferenceId"`
		CreateRequest struct {
			Status struct {
				StatusCode string `json:"statusCode"`
			} `json:"status"`
		} `json:"createRequest"`
		EntryPoints []struct {
			EntryPointType string `json:"entryPointType"`
			URI            string `json:"uri"`
		} `json:"entryPoints"`
	} `json:"conferenceData"`
}

func (e event) conferenceStatus() string {
	if e.ConferenceData == nil {
		return ""
	}
	return e.ConferenceData.CreateRequest.Status.StatusCode
}

func (e event) joinURL() string {
	if e.HangoutLink != "" {
		return e.HangoutLink
	}
	if e.ConferenceData != nil {
		for _, ep := range e.ConferenceData.EntryPoints {
			if ep.EntryPointType == "video" {
				return ep.URI
			}
		}
	}
	return ""
}

// EventID is the Calendar event id Switchboard gives the event of a
// meeting target: derived from its RequestID, in Calendar's alphabet
// (base32hex, lower case), so that a retried insert finds the first one
// (409 duplicate) instead of making a second event.
func EventID(requestID string) string {
	sum := sha256.Sum256([]byte("switchboard-meeting:" + requestID))
	return strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

// createEvent inserts the event with its Meet conference. With a
// RequestID the event id is EventID(RequestID), which makes the insert
// idempotent: it is retried on transient failures, and a duplicate means an
// earlier try succeeded, so the event is read instead. While Calendar
// reports the conference "pending" the event is read again a few times;
// if it is still pending after that, the error is transient and carries
// the event in the returned Meeting (a later CreateMeeting with the same
// RequestID picks it up).
func (c *Client) createEvent(ctx context.Context, token string, spec platform.MeetingSpec) (platform.Meeting, error) {
	start, end := eventTimes(spec)
	body := eventBody{Summary: spec.Title, Start: start, End: end}
	idempotent := spec.RequestID != ""
	reqID := spec.RequestID
	if idempotent {
		body.ID = EventID(spec.RequestID)
	} else {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return platform.Meeting{}, err
		}
		reqID = hex.EncodeToString(b)
	}
	body.ConferenceData.CreateRequest = createRequest{RequestID: reqID, ConferenceSolutionKey: conferenceSolutionKey{Type: "hangoutsMeet"}}

	var ev event
	_, err := c.call.Do(ctx, platform.Request{Op: "create calendar event", Method: http.MethodPost, Path: c.eventsURL(),
		Query: url.Values{"conferenceDataVersion": {"1"}}, Token: token, JSON: body, Out: &ev, Idempotent: idempotent})
	if pe, ok := platform.AsError(err); ok && idempotent && pe.Status == http.StatusConflict {
		// An earlier try made it.
		if ev, err = c.getEvent(ctx, token, body.ID); err == nil && ev.Status == "cancelled" {
			return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create calendar event",
				Status: http.StatusConflict, Reason: platform.ReasonConflict, Code: "duplicate",
				Message: "the Calendar event of this meeting was deleted; a new meeting needs a new request id"}
		}
	}
	if err != nil {
		return platform.Meeting{}, err
	}
	for i := 0; ev.conferenceStatus() == "pending" && i < c.pollTries; i++ {
		select {
		case <-ctx.Done():
			return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create calendar event",
				Reason: platform.ReasonTransient, Message: "no answer in time", Err: ctx.Err()}
		case <-time.After(c.pollEvery):
		}
		if ev, err = c.getEvent(ctx, token, ev.ID); err != nil {
			return platform.Meeting{}, err
		}
	}
	m := platform.Meeting{ExternalID: ev.ID, JoinURL: ev.joinURL(),
		Extra: map[string]string{"kind": KindCalendarEvent, "conferenceStatus": ev.conferenceStatus()}}
	if ev.HTMLLink != "" {
		m.Extra["htmlLink"] = ev.HTMLLink
	}
	if ev.ConferenceData != nil && ev.ConferenceData.ConferenceID != "" {
		m.Extra["conferenceId"] = ev.ConferenceData.ConferenceID
	}
	switch st := ev.conferenceStatus(); {
	case st == "pending":
		return m, &platform.Error{Platform: ID, Op: "create calendar event", Reason: platform.ReasonTransient,
			Message: "Google Calendar is still creating the Meet conference; try again to pick up its link"}
	case st == "failure" || st == "":
		// The event is of no use without a conference: take it away again.
		_, _ = c.call.Do(ctx, platform.Request{Op: "delete calendar event", Method: http.MethodDelete, Path: c.eventURL(ev.ID),
			Query: url.Values{"sendUpdates": {"none"}}, Token: token, Idempotent: true})
		return platform.Meeting{}, &platform.Error{Platform: ID, Op: "create calendar event",
			Reason: platform.ReasonNotEligible, Code: st,
			Message: "Google Calendar could not add a Meet conference to the event (is Google Meet enabled for this account?)"}
	case m.JoinURL == "":
		return m, &platform.Error{Platform: ID, Op: "create calendar event", Reason: platform.ReasonTransient,
			Message: "the event's Meet conference has no link"}
	}
	return m, nil
}

func (c *Client) getEvent(ctx context.Context, token, id string) (event, error) {
	var ev event
	_, err := c.call.Do(ctx, platform.Request{Op: "read calendar event", Method: http.MethodGet, Path: c.eventURL(id),
		Token: token, Out: &ev, Idempotent: true})
	return ev, err
}

func (c *Client) eventsURL() string {
	return c.cal + "/calendars/" + url.PathEscape(c.calendarID) + "/events"
}

func (c *Client) eventURL(id string) string { return c.eventsURL() + "/" + url.PathEscape(id) }

func isSpace(m platform.Meeting) bool { return strings.HasPrefix(m.ExternalID, "spaces/") }

// EndMeeting ends a space's conference for everyone (POST
// /spaces/{id}:endActiveConference); a space with no conference running
// has nothing to end, which is a success. A Calendar-scheduled Meet cannot
// be ended through the API: ReasonUnsupported.
func (c *Client) EndMeeting(ctx context.Context, token string, m platform.Meeting) error {
	if !isSpace(m) {
		return platform.Unsupported(ID, "end meeting",
			"Google's API cannot end a Calendar-scheduled Meet: it ends when its participants leave")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "end meeting", Method: http.MethodPost,
		Path:  c.meet + "/spaces/" + url.PathEscape(strings.TrimPrefix(m.ExternalID, "spaces/")) + ":endActiveConference",
		Token: token, JSON: struct{}{}, Idempotent: true})
	if pe, ok := platform.AsError(err); ok && pe.Code == "FAILED_PRECONDITION" {
		return nil // no active conference
	}
	return err
}

// eventChange is what a change patches on the event: its title and
// times; the conference, and everything else, stay as they are.
type eventChange struct {
	Summary string    `json:"summary"`
	Start   eventTime `json:"start"`
	End     eventTime `json:"end"`
}

// UpdateMeeting changes a Calendar-scheduled meeting's title and times:
// PATCH /calendars/primary/events/{id}?sendUpdates=all, with patch
// semantics, so its Meet conference and link stay. A Meet space has no
// title or time to change: ReasonUnsupported.
// Evidence: calendar-v3-discovery.json events.patch ("Updates an event. This method supports patch semantics";
// sendUpdates "Guests who should receive notifications about the event update").
func (c *Client) UpdateMeeting(ctx context.Context, token string, m platform.Meeting, spec platform.MeetingSpec) (platform.Meeting, error) {
	if isSpace(m) {
		return m, platform.Unsupported(ID, "update meeting", "a Google Meet space has no title or time that Google's API can change")
	}
	spec, err := spec.NormalizeChange(ID)
	if err != nil {
		return m, err
	}
	if m.ExternalID == "" {
		return m, &platform.Error{Platform: ID, Op: "update calendar event", Reason: platform.ReasonInvalid, Message: "no event id"}
	}
	start, end := eventTimes(spec)
	_, err = c.call.Do(ctx, platform.Request{Op: "update calendar event", Method: http.MethodPatch, Path: c.eventURL(m.ExternalID),
		Query: url.Values{"sendUpdates": {"all"}}, Token: token, JSON: eventChange{Summary: spec.Title, Start: start, End: end},
		Idempotent: true})
	return m, err // Caller.Do has taken the token out of any error
}

// eventTimes are a meeting's start and end as Calendar takes them: the
// wall-clock time in the meeting's zone, and the zone's name.
func eventTimes(spec platform.MeetingSpec) (start, end eventTime) {
	loc, _ := spec.Location()
	tz := spec.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return eventTime{DateTime: spec.Start.In(loc).Format(time.RFC3339), TimeZone: tz},
		eventTime{DateTime: spec.End().In(loc).Format(time.RFC3339), TimeZone: tz}
}

// DeleteMeeting cancels a Calendar-scheduled meeting (DELETE
// /calendars/primary/events/{id}?sendUpdates=all, so invitees hear of it);
// an event already gone (404, 410) counts as deleted. A Meet space cannot
// be deleted and needs not be: it expires unused, so for a space this does
// nothing and returns nil.
func (c *Client) DeleteMeeting(ctx context.Context, token string, m platform.Meeting) error {
	if isSpace(m) {
		return nil
	}
	if m.ExternalID == "" {
		return &platform.Error{Platform: ID, Op: "delete calendar event", Reason: platform.ReasonInvalid, Message: "no event id"}
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "delete calendar event", Method: http.MethodDelete, Path: c.eventURL(m.ExternalID),
		Query: url.Values{"sendUpdates": {"all"}}, Token: token, Idempotent: true})
	if platform.ReasonOf(err) == platform.ReasonNotFound {
		return nil
	}
	return err
}

// Refine reads Google's error bodies into the error. Calendar's shape is
// {"error":{"code","message","status","errors":[{"reason"}]}}, Meet's
// {"error":{"code","message","status","details":[{"reason"}]}}, userinfo's
// OAuth's {"error":"invalid_token","error_description"}. Reasons:
// rateLimitExceeded, userRateLimitExceeded, RATE_LIMIT_EXCEEDED and status
// RESOURCE_EXHAUSTED are rate limits; quotaExceeded and dailyLimitExceeded
// a quota; any 401 an expired token; forbidden, insufficientPermissions,
// ACCESS_TOKEN_SCOPE_INSUFFICIENT and PERMISSION_DENIED a permission;
// notFound and deleted not found; duplicate and FAILED_PRECONDITION a
// conflict.
func Refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var b struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(body, &b) != nil || len(b.Error) == 0 {
		return
	}
	var oauthCode string
	if json.Unmarshal(b.Error, &oauthCode) == nil {
		e.Code = oauthCode
		if b.ErrorDescription != "" {
			e.Message = b.ErrorDescription
		}
		if e.Status == http.StatusUnauthorized || oauthCode == "invalid_token" {
			e.Reason = platform.ReasonExpiredToken
		}
		return
	}
	var ge struct {
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	}
	if json.Unmarshal(b.Error, &ge) != nil {
		return
	}
	if ge.Message != "" {
		e.Message = ge.Message
	}
	reason := ""
	for _, r := range ge.Errors {
		if r.Reason != "" {
			reason = r.Reason
			break
		}
	}
	if reason == "" {
		for _, d := range ge.Details {
			if d.Reason != "" {
				reason = d.Reason
				break
			}
		}
	}
	e.Code = reason
	if e.Code == "" {
		e.Code = ge.Status
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		e.Reason = platform.ReasonExpiredToken
	case reason == "quotaExceeded" || reason == "dailyLimitExceeded":
		e.Reason = platform.ReasonQuota
	case reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" || reason == "RATE_LIMIT_EXCEEDED" ||
		ge.Status == "RESOURCE_EXHAUSTED":
		e.Reason = platform.ReasonRateLimited
	case reason == "forbidden" || reason == "insufficientPermissions" || reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT" ||
		ge.Status == "PERMISSION_DENIED":
		e.Reason = platform.ReasonPermission
	case reason == "notFound" || reason == "deleted" || ge.Status == "NOT_FOUND":
		e.Reason = platform.ReasonNotFound
	case reason == "duplicate" || ge.Status == "ALREADY_EXISTS":
		e.Reason = platform.ReasonConflict
	case ge.Status == "FAILED_PRECONDITION":
		e.Reason = platform.ReasonConflict
		e.Code = "FAILED_PRECONDITION"
	}
}
