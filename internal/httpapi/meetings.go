package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/series"
)

// MeetingService is what the meeting routes call.
type MeetingService interface {
	Create(ctx context.Context, tenant, user string, in meeting.CreateInput) (*meeting.Meeting, error)
	Get(ctx context.Context, tenant, id string) (*meeting.Meeting, error)
	List(ctx context.Context, tenant string, status meeting.Status, cursor string, limit int) ([]*meeting.Meeting, string, error)
	Cancel(ctx context.Context, tenant, id string) error
	Update(ctx context.Context, tenant, id string, ch meeting.Change) (*meeting.Meeting, error)
	CreateSeries(ctx context.Context, tenant, user string, in meeting.CreateInput, rec series.Recurrence) (*meeting.Series, error)
	GetSeries(ctx context.Context, tenant, id string, n int) (*meeting.Series, []series.Occurrence, error)
	NextOccurrences(ctx context.Context, sr *meeting.Series, n int) ([]series.Occurrence, error)
	ChangeSeries(ctx context.Context, tenant, id string, ch meeting.SeriesChange) (*meeting.Series, error)
	EndSeries(ctx context.Context, tenant, id string) (*meeting.Series, error)
	SkipOccurrence(ctx context.Context, tenant, id string, start time.Time) error
}

// meetingRoutes are the meetings capability's routes.
func (a *API) meetingRoutes() []Route {
	ms := a.svc.Meetings != nil
	return []Route{
		{Method: "POST", Path: "/meetings", Operation: "createMeeting", Function: FnMeetings, Creates: true, handler: wired(ms, a.idempotent(a.createMeeting))},
		{Method: "GET", Path: "/meetings", Operation: "listMeetings", Function: FnMeetings, handler: wired(ms, a.listMeetings)},
		{Method: "GET", Path: "/meetings/{id}", Operation: "getMeeting", Function: FnMeetings, handler: wired(ms, a.getMeeting)},
		{Method: "PATCH", Path: "/meetings/{id}", Operation: "updateMeeting", Function: FnMeetings, handler: wired(ms, a.updateMeeting)},
		{Method: "DELETE", Path: "/meetings/{id}", Operation: "cancelMeeting", Function: FnMeetings, handler: wired(ms, a.cancelMeeting)},
		{Method: "POST", Path: "/meeting-series", Operation: "createMeetingSeries", Function: FnMeetings, Creates: true, handler: wired(ms, a.idempotent(a.createMeetingSeries))},
		{Method: "GET", Path: "/meeting-series/{id}", Operation: "getMeetingSeries", Function: FnMeetings, handler: wired(ms, a.getMeetingSeries)},
		{Method: "PATCH", Path: "/meeting-series/{id}", Operation: "changeMeetingSeries", Function: FnMeetings, handler: wired(ms, a.changeMeetingSeries)},
		{Method: "DELETE", Path: "/meeting-series/{id}", Operation: "endMeetingSeries", Function: FnMeetings, handler: wired(ms, a.endMeetingSeries)},
		{Method: "DELETE", Path: "/meeting-series/{id}/occurrences/{start}", Operation: "skipMeetingOccurrence", Function: FnMeetings, handler: wired(ms, a.skipMeetingOccurrence)},
	}
}

type meetingTargetView struct {
	Platform   string         `json:"platform"`
	Status     string         `json:"status"`
	Current    bool           `json:"current"` // the platform holds the title and times shown
	JoinURL    *string        `json:"joinUrl"`
	ExternalID *string        `json:"externalId"`
	LastError  *lastErrorView `json:"lastError"`
	Note       *string        `json:"note"`
}

type meetingView struct {
	ID              string              `json:"id"`
	SeriesID        *string             `json:"seriesId"`
	Title           string              `json:"title"`
	Status          string              `json:"status"`
	StartTime       string              `json:"startTime"`
	DurationMinutes int                 `json:"durationMinutes"`
	Timezone        string              `json:"timezone"`
	CreatedAt       string              `json:"createdAt"`
	CancelledAt     *string             `json:"cancelledAt"`
	Targets         []meetingTargetView `json:"targets"`
}

func nullableMeetingField(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// viewMeeting shows a meeting. Its host links are never part of it.
func viewMeeting(m *meeting.Meeting) meetingView {
	v := meetingView{
		ID: m.ID, SeriesID: orNull(m.SeriesID), Title: m.Title, Status: string(m.Status), StartTime: *timePtr(m.Start), DurationMinutes: m.DurationMinutes(),
		Timezone: m.TimeZone, CreatedAt: stamp(m.CreatedAt), CancelledAt: timePtr(m.CancelledAt),
		Targets: make([]meetingTargetView, len(m.Targets)),
	}
	for i, t := range m.Targets {
		tv := meetingTargetView{Platform: string(t.Platform), Status: string(t.Status), Current: m.Current(t),
			JoinURL: nullableMeetingField(t.JoinURL), ExternalID: nullableMeetingField(t.ExternalID), Note: nullableMeetingField(t.Note)}
		if t.LastError != nil {
			tv.LastError = &lastErrorView{Code: t.LastError.Code, Message: t.LastError.Message, At: *timePtr(t.LastError.At)}
		}
		v.Targets[i] = tv
	}
	return v
}

// meetingBody is a new meeting (or a series' first occurrence) as the
// caller sends it.
type meetingBody struct {
	Title           string                `json:"title"`
	StartTime       string                `json:"startTime"`
	DurationMinutes int                   `json:"durationMinutes"`
	Timezone        *string               `json:"timezone"`
	Targets         []meetingPlatformBody `json:"targets"`
}

type meetingPlatformBody struct {
	Platform string `json:"platform"`
}

func platformsOf(targets []meetingPlatformBody) []string {
	var out []string
	for _, t := range targets {
		out = append(out, t.Platform)
	}
	return out
}

func (b meetingBody) input() meeting.CreateInput {
	return meeting.CreateInput{Title: b.Title, StartTime: b.StartTime, DurationMinutes: b.DurationMinutes, TimeZone: b.Timezone,
		Platforms: platformsOf(b.Targets)}
}

// createMeeting answers POST /meetings with the meeting as made, its join
// links included; the Idempotency-Key layer's store seals what it keeps.
func (a *API) createMeeting(ctx context.Context, r *Request) (*Response, error) {
	var body meetingBody
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	m, err := a.svc.Meetings.Create(ctx, r.Identity.Tenant, r.Identity.User, body.input())
	if err != nil {
		return nil, err
	}
	return created(http.StatusCreated, "/meetings/"+url.PathEscape(m.ID), viewMeeting(m)), nil
}

func (a *API) listMeetings(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	list, next, err := a.svc.Meetings.List(ctx, r.Identity.Tenant, meeting.Status(r.Query.Get("status")), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	items := make([]meetingView, len(list))
	for i, m := range list {
		items[i] = viewMeeting(m)
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["nextCursor"] = next
	}
	return JSON(http.StatusOK, body), nil
}

func (a *API) getMeeting(ctx context.Context, r *Request) (*Response, error) {
	m, err := a.svc.Meetings.Get(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewMeeting(m)), nil
}

// updateMeeting changes one meeting: any of {title, startTime,
// durationMinutes, timezone}.
func (a *API) updateMeeting(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		Title           *string `json:"title"`
		StartTime       *string `json:"startTime"`
		DurationMinutes *int    `json:"durationMinutes"`
		Timezone        *string `json:"timezone"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	m, err := a.svc.Meetings.Update(ctx, r.Identity.Tenant, r.Param("id"),
		meeting.Change{Title: body.Title, StartTime: body.StartTime, DurationMinutes: body.DurationMinutes, TimeZone: body.Timezone})
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewMeeting(m)), nil
}

func (a *API) cancelMeeting(ctx context.Context, r *Request) (*Response, error) {
	if err := a.svc.Meetings.Cancel(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}

// meetingSeriesView is a recurring meeting and its next occurrences.
type meetingSeriesView struct {
	ID              string                  `json:"id"`
	Rule            string                  `json:"rule"`
	TimeZone        string                  `json:"timeZone"`
	Title           string                  `json:"title"`
	FirstStart      string                  `json:"firstStart"`
	From            *string                 `json:"from"` // the shown definition's first start after a change; nil: never changed
	DurationMinutes int                     `json:"durationMinutes"`
	Timezone        string                  `json:"timezone"` // the zone the platforms show each meeting in
	Targets         []string                `json:"targets"`
	Status          string                  `json:"status"`
	Skipped         []string                `json:"skipped"`
	CreatedAt       string                  `json:"createdAt"`
	EndedAt         *string                 `json:"endedAt"`
	NextOccurrences []meetingOccurrenceView `json:"nextOccurrences"`
	Failure         *failureView            `json:"failure"`
}

type meetingOccurrenceView struct {
	Start     string `json:"start"`
	End       string `json:"end"`
	MeetingID string `json:"meetingId"`
	Status    string `json:"status"` // created, pending (made when its window opens), skipped
	// StartTime and DurationMinutes are the meeting's own, once created:
	// the rule's unless it was changed on its own.
	StartTime       *string `json:"startTime"`
	DurationMinutes *int    `json:"durationMinutes"`
}

func viewMeetingSeries(sr *meeting.Series, occ []series.Occurrence) meetingSeriesView {
	v := meetingSeriesView{
		ID: sr.ID, Rule: sr.Rule, TimeZone: sr.TimeZone, Title: sr.Template.Title, FirstStart: stamp(sr.FirstStart), From: timePtr(sr.From),
		DurationMinutes: int(sr.Duration / time.Minute), Targets: sr.Template.Platforms, Status: string(sr.Status),
		CreatedAt: stamp(sr.CreatedAt), EndedAt: timePtr(sr.EndedAt), Failure: viewFailure(sr.Failure),
		Skipped: make([]string, len(sr.Skipped)), NextOccurrences: make([]meetingOccurrenceView, len(occ)),
	}
	if sr.Template.TimeZone != nil {
		v.Timezone = *sr.Template.TimeZone
	}
	for i, t := range sr.Skipped {
		v.Skipped[i] = stamp(t)
	}
	for i, o := range occ {
		ov := meetingOccurrenceView{Start: stamp(o.Start), End: stamp(o.End), MeetingID: o.ID, Status: occurrenceStatus(o), StartTime: timePtr(o.Made.Start)}
		if o.Created {
			minutes := int(o.Made.End.Sub(o.Made.Start) / time.Minute)
			ov.DurationMinutes = &minutes
		}
		v.NextOccurrences[i] = ov
	}
	return v
}

// createMeetingSeries creates a recurring meeting: the body of POST
// /meetings (its startTime is the first occurrence's) and recurrence.
func (a *API) createMeetingSeries(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		meetingBody
		Recurrence *recurrenceBody `json:"recurrence"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	if body.Recurrence == nil {
		return nil, errNoRecurrence
	}
	sr, err := a.svc.Meetings.CreateSeries(ctx, r.Identity.Tenant, r.Identity.User, body.input(), body.Recurrence.value())
	if err != nil {
		return nil, err
	}
	return a.meetingSeriesAnswer(ctx, sr, http.StatusCreated)
}

// meetingSeriesAnswer shows a series in hand (just created or changed)
// and its next occurrences, without reading the series again.
func (a *API) meetingSeriesAnswer(ctx context.Context, sr *meeting.Series, status int) (*Response, error) {
	occ, err := a.svc.Meetings.NextOccurrences(ctx, sr, nextOccurrences)
	if err != nil {
		return nil, err
	}
	if status == http.StatusCreated {
		return created(status, "/meeting-series/"+url.PathEscape(sr.ID), viewMeetingSeries(sr, occ)), nil
	}
	return JSON(status, viewMeetingSeries(sr, occ)), nil
}

func (a *API) getMeetingSeries(ctx context.Context, r *Request) (*Response, error) {
	sr, occ, err := a.svc.Meetings.GetSeries(ctx, r.Identity.Tenant, r.Param("id"), nextOccurrences)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewMeetingSeries(sr, occ)), nil
}

// changeMeetingSeries changes a recurring meeting from a date on: {from,
// and any of title, startTime, durationMinutes, timezone, targets,
// recurrence}.
func (a *API) changeMeetingSeries(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		From            string                 `json:"from"`
		Title           *string                `json:"title"`
		StartTime       *string                `json:"startTime"`
		DurationMinutes *int                   `json:"durationMinutes"`
		Timezone        *string                `json:"timezone"`
		Targets         *[]meetingPlatformBody `json:"targets"`
		Recurrence      *recurrenceBody        `json:"recurrence"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	ch := meeting.SeriesChange{Title: body.Title, StartTime: body.StartTime, DurationMinutes: body.DurationMinutes, TimeZone: body.Timezone,
		Recurrence: body.Recurrence.ptr()}
	var err error
	if ch.From, err = changeFrom(body.From); err != nil {
		return nil, err
	}
	if body.Targets != nil {
		if ch.Platforms = platformsOf(*body.Targets); ch.Platforms == nil {
			return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "targets, when given, names at least one meeting platform")
		}
	}
	sr, err := a.svc.Meetings.ChangeSeries(ctx, r.Identity.Tenant, r.Param("id"), ch)
	if err != nil {
		return nil, err
	}
	return a.meetingSeriesAnswer(ctx, sr, http.StatusOK)
}

func (a *API) endMeetingSeries(ctx context.Context, r *Request) (*Response, error) {
	if _, err := a.svc.Meetings.EndSeries(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}

func (a *API) skipMeetingOccurrence(ctx context.Context, r *Request) (*Response, error) {
	start, err := occurrenceStart(r)
	if err != nil {
		return nil, err
	}
	if err := a.svc.Meetings.SkipOccurrence(ctx, r.Identity.Tenant, r.Param("id"), start); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}
