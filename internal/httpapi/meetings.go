package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/switchboard-dev/switchboard/internal/meeting"
)

// MeetingService is what the meeting routes call.
type MeetingService interface {
	Create(ctx context.Context, tenant, user string, in meeting.CreateInput) (*meeting.Meeting, error)
	Get(ctx context.Context, tenant, id string) (*meeting.Meeting, error)
	List(ctx context.Context, tenant string, status meeting.Status, cursor string, limit int) ([]*meeting.Meeting, string, error)
	Cancel(ctx context.Context, tenant, id string) error
}

// meetingRoutes are the meetings capability's routes.
func (a *API) meetingRoutes() []Route {
	ms := a.svc.Meetings != nil
	return []Route{
		{Method: "POST", Path: "/meetings", Operation: "createMeeting", Function: FnMeetings, Creates: true, handler: wired(ms, a.idempotent(a.createMeeting))},
		{Method: "GET", Path: "/meetings", Operation: "listMeetings", Function: FnMeetings, handler: wired(ms, a.listMeetings)},
		{Method: "GET", Path: "/meetings/{id}", Operation: "getMeeting", Function: FnMeetings, handler: wired(ms, a.getMeeting)},
		{Method: "DELETE", Path: "/meetings/{id}", Operation: "cancelMeeting", Function: FnMeetings, handler: wired(ms, a.cancelMeeting)},
	}
}

type meetingTargetView struct {
	Platform   string         `json:"platform"`
	Status     string         `json:"status"`
	JoinURL    *string        `json:"joinUrl"`
	ExternalID *string        `json:"externalId"`
	LastError  *lastErrorView `json:"lastError"`
	Note       *string        `json:"note"`
}

type meetingView struct {
	ID              string              `json:"id"`
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
		ID: m.ID, Title: m.Title, Status: string(m.Status), StartTime: *timePtr(m.Start), DurationMinutes: m.DurationMinutes(),
		Timezone: m.TimeZone, CreatedAt: stamp(m.CreatedAt), CancelledAt: timePtr(m.CancelledAt),
		Targets: make([]meetingTargetView, len(m.Targets)),
	}
	for i, t := range m.Targets {
		tv := meetingTargetView{Platform: string(t.Platform), Status: string(t.Status),
			JoinURL: nullableMeetingField(t.JoinURL), ExternalID: nullableMeetingField(t.ExternalID), Note: nullableMeetingField(t.Note)}
		if t.LastError != nil {
			tv.LastError = &lastErrorView{Code: t.LastError.Code, Message: t.LastError.Message, At: *timePtr(t.LastError.At)}
		}
		v.Targets[i] = tv
	}
	return v
}

// createMeeting answers POST /meetings with the meeting as made, its join
// links included; the Idempotency-Key layer's store seals what it keeps.
func (a *API) createMeeting(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		Title           string  `json:"title"`
		StartTime       string  `json:"startTime"`
		DurationMinutes int     `json:"durationMinutes"`
		Timezone        *string `json:"timezone"`
		Targets         []struct {
			Platform string `json:"platform"`
		} `json:"targets"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	in := meeting.CreateInput{Title: body.Title, StartTime: body.StartTime, DurationMinutes: body.DurationMinutes, TimeZone: body.Timezone}
	for _, t := range body.Targets {
		in.Platforms = append(in.Platforms, t.Platform)
	}
	m, err := a.svc.Meetings.Create(ctx, r.Identity.Tenant, r.Identity.User, in)
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

func (a *API) cancelMeeting(ctx context.Context, r *Request) (*Response, error) {
	if err := a.svc.Meetings.Cancel(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}
