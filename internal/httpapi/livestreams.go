package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// LivestreamService is what the livestream routes call.
type LivestreamService interface {
	Create(ctx context.Context, tenant, user string, in livestream.CreateInput) (*livestream.Livestream, error)
	Get(ctx context.Context, tenant, id string) (*livestream.Livestream, error)
	List(ctx context.Context, tenant string, status livestream.Status, cursor string, limit int) ([]*livestream.Livestream, string, error)
	Ingest(ctx context.Context, tenant, id string) ([]livestream.Ingest, error)
	Update(ctx context.Context, tenant, id string, in livestream.UpdateInput) (*livestream.Livestream, error)
	Start(ctx context.Context, tenant, id string) (*livestream.Livestream, error)
	End(ctx context.Context, tenant, id string) (*livestream.Livestream, error)
	Cancel(ctx context.Context, tenant, id string) error
	Check(ctx context.Context, tenant, id string) (*livestream.Livestream, error)
	CreateSeries(ctx context.Context, tenant, user string, in livestream.CreateInput, rec livestream.Recurrence) (*livestream.Series, error)
	GetSeries(ctx context.Context, tenant, id string, n int) (*livestream.Series, []livestream.Occurrence, error)
	NextOccurrences(ctx context.Context, sr *livestream.Series, n int) ([]livestream.Occurrence, error)
	SkipOccurrence(ctx context.Context, tenant, id string, start time.Time) error
	EndSeries(ctx context.Context, tenant, id string) (*livestream.Series, error)
	ChangeSeries(ctx context.Context, tenant, id string, ch livestream.SeriesChange) (*livestream.Series, error)
	Destinations(ctx context.Context, tenant, platform string) ([]platform.Destination, error)
}

// livestreamRoutes are the livestreams capability's routes, and the
// destinations of a connection (the broadcasters ask the platform).
func (a *API) livestreamRoutes() []Route {
	ls := a.svc.Livestreams != nil
	return []Route{
		{Method: "POST", Path: "/livestreams", Operation: "createLivestream", Function: FnLivestreams, Creates: true, handler: wired(ls, a.idempotent(a.createLivestream))},
		{Method: "GET", Path: "/livestreams", Operation: "listLivestreams", Function: FnLivestreams, handler: wired(ls, a.listLivestreams)},
		{Method: "GET", Path: "/livestreams/{id}", Operation: "getLivestream", Function: FnLivestreams, handler: wired(ls, a.getLivestream)},
		{Method: "PATCH", Path: "/livestreams/{id}", Operation: "updateLivestream", Function: FnLivestreams, handler: wired(ls, a.updateLivestream)},
		{Method: "DELETE", Path: "/livestreams/{id}", Operation: "cancelLivestream", Function: FnLivestreams, handler: wired(ls, a.cancelLivestream)},
		{Method: "GET", Path: "/livestreams/{id}/ingest", Operation: "getLivestreamIngest", Function: FnLivestreams, handler: wired(ls, a.getLivestreamIngest)},
		{Method: "POST", Path: "/livestreams/{id}/start", Operation: "startLivestream", Function: FnLivestreams, handler: wired(ls, a.startLivestream)},
		{Method: "POST", Path: "/livestreams/{id}/end", Operation: "endLivestream", Function: FnLivestreams, handler: wired(ls, a.endLivestream)},
		{Method: "POST", Path: "/livestreams/{id}/check", Operation: "checkLivestream", Function: FnLivestreams, handler: wired(ls, a.checkLivestream)},
		{Method: "POST", Path: "/series", Operation: "createSeries", Function: FnLivestreams, Creates: true, handler: wired(ls, a.idempotent(a.createSeries))},
		{Method: "GET", Path: "/series/{id}", Operation: "getSeries", Function: FnLivestreams, handler: wired(ls, a.getSeries)},
		{Method: "PATCH", Path: "/series/{id}", Operation: "changeSeries", Function: FnLivestreams, handler: wired(ls, a.changeSeries)},
		{Method: "DELETE", Path: "/series/{id}", Operation: "endSeries", Function: FnLivestreams, handler: wired(ls, a.endSeries)},
		{Method: "DELETE", Path: "/series/{id}/occurrences/{start}", Operation: "skipOccurrence", Function: FnLivestreams, handler: wired(ls, a.skipOccurrence)},
		{Method: "GET", Path: "/connections/{platform}/destinations", Operation: "listConnectionDestinations", Function: FnLivestreams, handler: wired(ls, a.listConnectionDestinations)},
	}
}

type livestreamTargetView struct {
	Platform      string         `json:"platform"`
	Destination   *string        `json:"destination"`
	Status        string         `json:"status"`
	ExternalID    *string        `json:"externalId"`
	WatchURL      *string        `json:"watchUrl"`
	LastError     *lastErrorView `json:"lastError"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *string        `json:"nextAttemptAt"`
	Note          *string        `json:"note"`
	// PlatformUpdate: what became of the livestream's latest change at
	// the platform; null while it was never changed.
	PlatformUpdate *platformUpdateView `json:"platformUpdate"`
	MadeForKids    *bool               `json:"madeForKids,omitempty"`
	AutoStop       *bool               `json:"autoStop,omitempty"`
	Checks         []checkView         `json:"checks"`
}

// platformUpdateView is what became of a change at one target's platform.
type platformUpdateView struct {
	Status  string  `json:"status"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	At      string  `json:"at"`
}

// seriesView is a recurring livestream and its next occurrences.
type seriesView struct {
	ID              string           `json:"id"`
	Rule            string           `json:"rule"`
	TimeZone        string           `json:"timeZone"`
	Title           string           `json:"title"`
	Description     *string          `json:"description"`
	FirstStart      string           `json:"firstStart"`
	From            *string          `json:"from"` // the shown definition's first start after a change; nil: never changed
	DurationMinutes *int             `json:"durationMinutes"`
	Targets         []string         `json:"targets"`
	Status          string           `json:"status"`
	Skipped         []string         `json:"skipped"`
	CreatedAt       string           `json:"createdAt"`
	EndedAt         *string          `json:"endedAt"`
	NextOccurrences []occurrenceView `json:"nextOccurrences"`
	Failure         *failureView     `json:"failure"`
}

type occurrenceView struct {
	Start        string  `json:"start"`
	End          *string `json:"end"`
	LivestreamID string  `json:"livestreamId"`
	Status       string  `json:"status"` // created, pending (made when its window opens), skipped
	// ScheduledStart and ScheduledEnd are the livestream's own, once
	// created: the rule's unless it was moved on its own.
	ScheduledStart *string `json:"scheduledStart"`
	ScheduledEnd   *string `json:"scheduledEnd"`
}

// checkView is one preflight check of a target.
type checkView struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
	At      string `json:"at"`
}

type livestreamView struct {
	ID             string                 `json:"id"`
	SeriesID       *string                `json:"seriesId"`
	Title          string                 `json:"title"`
	Description    *string                `json:"description"`
	Status         string                 `json:"status"`
	ScheduledStart string                 `json:"scheduledStart"`
	ScheduledEnd   *string                `json:"scheduledEnd"`
	StartedAt      *string                `json:"startedAt"`
	EndedAt        *string                `json:"endedAt"`
	Targets        []livestreamTargetView `json:"targets"`
}

// orNull is s, or null when it is empty.
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func viewLivestream(ls *livestream.Livestream) livestreamView {
	v := livestreamView{
		ID: ls.ID, SeriesID: orNull(ls.SeriesID), Title: ls.Title, Description: orNull(ls.Description), Status: string(ls.PublicStatus()),
		ScheduledStart: *timePtr(ls.ScheduledStart), ScheduledEnd: timePtr(ls.ScheduledEnd),
		StartedAt: timePtr(ls.StartedAt), EndedAt: timePtr(ls.EndedAt),
		Targets: make([]livestreamTargetView, len(ls.Targets)),
	}
	for i, t := range ls.Targets {
		tv := livestreamTargetView{
			Platform: string(t.Platform), Destination: orNull(t.Destination), Status: string(t.Status), ExternalID: orNull(t.ExternalID),
			WatchURL: orNull(t.WatchURL), Attempts: t.Attempts, NextAttemptAt: timePtr(t.NextAttemptAt),
			Note: orNull(livestream.Note(t.Platform)), Checks: make([]checkView, len(t.Checks)),
		}
		for j, c := range t.Checks {
			tv.Checks[j] = checkView{Name: c.Name, Status: string(c.Status), Message: c.Message, At: *timePtr(c.At)}
		}
		if t.MadeForKids != nil { // YouTube's settings, shown on YouTube targets only
			kids, autoStop := *t.MadeForKids, t.AutoStop
			tv.MadeForKids, tv.AutoStop = &kids, &autoStop
		}
		if t.LastError != nil {
			tv.LastError = &lastErrorView{Code: t.LastError.Code, Message: t.LastError.Message, At: *timePtr(t.LastError.At)}
		}
		if u := t.PlatformUpdate; u != nil {
			tv.PlatformUpdate = &platformUpdateView{Status: string(u.Status), Code: orNull(u.Code), Message: orNull(u.Message), At: *timePtr(u.At)}
		}
		v.Targets[i] = tv
	}
	return v
}

// parseDateTime reads an RFC 3339 date-time field.
func parseDateTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidBody, "%s must be an RFC 3339 date-time such as 2026-05-03T10:00:00Z", field)
	}
	if t.IsZero() { // the services read the zero time as "not given"; as a value it is a bad time
		return time.Time{}, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidBody, "%s %s is not a usable date-time", field, s)
	}
	return t, nil
}

// livestreamBody is a new livestream (or a series' first occurrence) as
// a caller sends it.
type livestreamBody struct {
	Title          string                 `json:"title"`
	Description    string                 `json:"description"`
	ScheduledStart string                 `json:"scheduledStart"`
	ScheduledEnd   string                 `json:"scheduledEnd"`
	Targets        []livestreamTargetBody `json:"targets"`
}

// livestreamTargetBody is one target as a caller sends it.
type livestreamTargetBody struct {
	Platform  string `json:"platform"`
	Privacy   string `json:"privacy"`
	RTMPURL   string `json:"rtmpUrl"`
	StreamKey string `json:"streamKey"`
	// Destination: a Page id from the platform's destinations; absent or "me": the profile.
	Destination string `json:"destination"`
	MadeForKids *bool  `json:"madeForKids"`
	AutoStop    *bool  `json:"autoStop"`
}

func targetInputs(body []livestreamTargetBody) []livestream.TargetInput {
	var out []livestream.TargetInput
	for _, t := range body {
		out = append(out, livestream.TargetInput{Platform: t.Platform, Privacy: t.Privacy, RTMPURL: t.RTMPURL, StreamKey: t.StreamKey,
			Destination: t.Destination, MadeForKids: t.MadeForKids, AutoStop: t.AutoStop})
	}
	return out
}

func (a *API) createLivestream(ctx context.Context, r *Request) (*Response, error) {
	var body livestreamBody
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	in, err := body.input()
	if err != nil {
		return nil, err
	}
	ls, err := a.svc.Livestreams.Create(ctx, r.Identity.Tenant, r.Identity.User, in)
	if err != nil {
		return nil, err
	}
	return created(http.StatusCreated, "/livestreams/"+url.PathEscape(ls.ID), viewLivestream(ls)), nil
}

// input checks the body's times and builds the service's input.
func (body livestreamBody) input() (livestream.CreateInput, error) {
	if body.ScheduledStart == "" {
		return livestream.CreateInput{}, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "scheduledStart is required")
	}
	in := livestream.CreateInput{Title: body.Title, Description: body.Description}
	var err error
	if in.ScheduledStart, err = parseDateTime("scheduledStart", body.ScheduledStart); err != nil {
		return in, err
	}
	if body.ScheduledEnd != "" {
		if in.ScheduledEnd, err = parseDateTime("scheduledEnd", body.ScheduledEnd); err != nil {
			return in, err
		}
	}
	in.Targets = targetInputs(body.Targets)
	return in, nil
}

func (a *API) listLivestreams(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	list, next, err := a.svc.Livestreams.List(ctx, r.Identity.Tenant, livestream.Status(r.Query.Get("status")), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	items := make([]livestreamView, len(list))
	for i, ls := range list {
		items[i] = viewLivestream(ls)
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["nextCursor"] = next
	}
	return JSON(http.StatusOK, body), nil
}

func (a *API) getLivestream(ctx context.Context, r *Request) (*Response, error) {
	ls, err := a.svc.Livestreams.Get(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewLivestream(ls)), nil
}

type ingestTargetView struct {
	Platform  string  `json:"platform"`
	IngestURL *string `json:"ingestUrl"`
	StreamKey *string `json:"streamKey"`
	Stable    bool    `json:"stable"`
	// StableNote says why, where the platform decided it for this broadcast.
	StableNote string `json:"stableNote,omitempty"`
}

// getLivestreamIngest is the one answer that carries stream keys.
func (a *API) getLivestreamIngest(ctx context.Context, r *Request) (*Response, error) {
	list, err := a.svc.Livestreams.Ingest(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	targets := make([]ingestTargetView, len(list))
	for i, in := range list {
		targets[i] = ingestTargetView{Platform: string(in.Platform), IngestURL: orNull(in.IngestURL), StreamKey: orNull(in.StreamKey), Stable: in.Stable,
			StableNote: in.StableNote}
	}
	return JSON(http.StatusOK, map[string]any{"targets": targets}), nil
}

func (a *API) updateLivestream(ctx context.Context, r *Request) (*Response, error) {
	// Raw members tell an absent field (unchanged) from null (removed).
	var body struct {
		Title          *string         `json:"title"`
		Description    json.RawMessage `json:"description"`
		ScheduledStart *string         `json:"scheduledStart"`
		ScheduledEnd   json.RawMessage `json:"scheduledEnd"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	in := livestream.UpdateInput{Title: body.Title}
	null := []byte("null")
	if body.Description != nil {
		d := ""
		if !bytes.Equal(body.Description, null) {
			if err := json.Unmarshal(body.Description, &d); err != nil {
				return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "description must be a string or null")
			}
		}
		in.Description = &d
	}
	if body.ScheduledStart != nil {
		t, err := parseDateTime("scheduledStart", *body.ScheduledStart)
		if err != nil {
			return nil, err
		}
		in.ScheduledStart = &t
	}
	if body.ScheduledEnd != nil {
		var end time.Time
		if !bytes.Equal(body.ScheduledEnd, null) {
			var s string
			if err := json.Unmarshal(body.ScheduledEnd, &s); err != nil {
				return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "scheduledEnd must be a date-time string or null")
			}
			var err error
			if end, err = parseDateTime("scheduledEnd", s); err != nil {
				return nil, err
			}
		}
		in.ScheduledEnd = &end
	}
	ls, err := a.svc.Livestreams.Update(ctx, r.Identity.Tenant, r.Param("id"), in)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewLivestream(ls)), nil
}

func (a *API) startLivestream(ctx context.Context, r *Request) (*Response, error) {
	ls, err := a.svc.Livestreams.Start(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewLivestream(ls)), nil
}

func (a *API) endLivestream(ctx context.Context, r *Request) (*Response, error) {
	ls, err := a.svc.Livestreams.End(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewLivestream(ls)), nil
}

// checkLivestream runs the preflight checks now (see livestream.Check).
func (a *API) checkLivestream(ctx context.Context, r *Request) (*Response, error) {
	ls, err := a.svc.Livestreams.Check(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewLivestream(ls)), nil
}

func (a *API) cancelLivestream(ctx context.Context, r *Request) (*Response, error) {
	if err := a.svc.Livestreams.Cancel(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}

type destinationView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// listConnectionDestinations lists where the tenant's connected account
// at a platform can publish a livestream target (a target's destination):
// ids and names only, never a token.
func (a *API) listConnectionDestinations(ctx context.Context, r *Request) (*Response, error) {
	ds, err := a.svc.Livestreams.Destinations(ctx, r.Identity.Tenant, r.Param("platform"))
	if err != nil {
		return nil, err
	}
	items := make([]destinationView, len(ds))
	for i, d := range ds {
		items[i] = destinationView{ID: d.ID, Name: d.Name, Kind: d.Kind}
	}
	return JSON(http.StatusOK, map[string]any{"items": items}), nil
}

// nextOccurrences is how many coming occurrences a series answer shows.
const nextOccurrences = 5

func viewSeries(sr *livestream.Series, occ []livestream.Occurrence) seriesView {
	v := seriesView{
		ID: sr.ID, Rule: sr.Rule, TimeZone: sr.TimeZone, Title: sr.Template.Title, Description: orNull(sr.Template.Description),
		FirstStart: *timePtr(sr.FirstStart), From: timePtr(sr.From), Status: string(sr.Status), CreatedAt: *timePtr(sr.CreatedAt), EndedAt: timePtr(sr.EndedAt), Failure: viewFailure(sr.Failure),
		Skipped: make([]string, len(sr.Skipped)), NextOccurrences: make([]occurrenceView, len(occ)),
	}
	if sr.Duration > 0 {
		m := int(sr.Duration / time.Minute)
		v.DurationMinutes = &m
	}
	for _, t := range sr.Template.Targets {
		v.Targets = append(v.Targets, t.Platform)
	}
	for i, t := range sr.Skipped {
		v.Skipped[i] = *timePtr(t)
	}
	for i, o := range occ {
		v.NextOccurrences[i] = occurrenceView{Start: *timePtr(o.Start), End: timePtr(o.End), LivestreamID: o.ID, Status: occurrenceStatus(o),
			ScheduledStart: timePtr(o.Made.Start), ScheduledEnd: timePtr(o.Made.End)}
	}
	return v
}

// createSeries creates a recurring livestream: the body of POST
// /livestreams (its times are the first occurrence's) and recurrence.
func (a *API) createSeries(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		livestreamBody
		Recurrence *recurrenceBody `json:"recurrence"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	if body.Recurrence == nil {
		return nil, errNoRecurrence
	}
	in, err := body.input()
	if err != nil {
		return nil, err
	}
	sr, err := a.svc.Livestreams.CreateSeries(ctx, r.Identity.Tenant, r.Identity.User, in, body.Recurrence.value())
	if err != nil {
		return nil, err
	}
	return a.seriesAnswer(ctx, sr, http.StatusCreated)
}

// seriesAnswer shows a series in hand (just created or changed) and its
// next occurrences, without reading the series again.
func (a *API) seriesAnswer(ctx context.Context, sr *livestream.Series, status int) (*Response, error) {
	occ, err := a.svc.Livestreams.NextOccurrences(ctx, sr, nextOccurrences)
	if err != nil {
		return nil, err
	}
	if status == http.StatusCreated {
		return created(status, "/series/"+url.PathEscape(sr.ID), viewSeries(sr, occ)), nil
	}
	return JSON(status, viewSeries(sr, occ)), nil
}

func (a *API) getSeries(ctx context.Context, r *Request) (*Response, error) {
	sr, occ, err := a.svc.Livestreams.GetSeries(ctx, r.Identity.Tenant, r.Param("id"), nextOccurrences)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewSeries(sr, occ)), nil
}

// changeSeries changes a series from a date on: {from, and any of title,
// description, targets, recurrence, scheduledStart (with scheduledEnd)}.
func (a *API) changeSeries(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		From           string                  `json:"from"`
		Title          *string                 `json:"title"`
		Description    *string                 `json:"description"`
		Targets        *[]livestreamTargetBody `json:"targets"`
		Recurrence     *recurrenceBody         `json:"recurrence"`
		ScheduledStart *string                 `json:"scheduledStart"`
		ScheduledEnd   *string                 `json:"scheduledEnd"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	ch := livestream.SeriesChange{Title: body.Title, Description: body.Description, Recurrence: body.Recurrence.ptr()}
	var err error
	if ch.From, err = changeFrom(body.From); err != nil {
		return nil, err
	}
	if ch.ScheduledStart, err = optionalDateTime("scheduledStart", body.ScheduledStart); err != nil {
		return nil, err
	}
	if ch.ScheduledEnd, err = optionalDateTime("scheduledEnd", body.ScheduledEnd); err != nil {
		return nil, err
	}
	if body.Targets != nil {
		ch.Targets = targetInputs(*body.Targets)
		if ch.Targets == nil {
			return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "targets, when given, names at least one target")
		}
	}
	sr, err := a.svc.Livestreams.ChangeSeries(ctx, r.Identity.Tenant, r.Param("id"), ch)
	if err != nil {
		return nil, err
	}
	return a.seriesAnswer(ctx, sr, http.StatusOK)
}

func (a *API) endSeries(ctx context.Context, r *Request) (*Response, error) {
	if _, err := a.svc.Livestreams.EndSeries(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}

func (a *API) skipOccurrence(ctx context.Context, r *Request) (*Response, error) {
	start, err := occurrenceStart(r)
	if err != nil {
		return nil, err
	}
	if err := a.svc.Livestreams.SkipOccurrence(ctx, r.Identity.Tenant, r.Param("id"), start); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}
