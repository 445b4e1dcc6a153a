package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/event"
)

// EventService is what the feed and webhook routes call.
type EventService interface {
	Feed(ctx context.Context, tenant string, types []string, after string, limit int) ([]event.Event, string, error)
	Create(ctx context.Context, tenant string, in event.CreateInput) (event.Created, error)
	List(ctx context.Context, tenant string) ([]*event.Endpoint, error)
	Get(ctx context.Context, tenant, id string) (*event.Endpoint, error)
	Delete(ctx context.Context, tenant, id string) error
	RotateSecret(ctx context.Context, tenant, id string, overlap time.Duration) (event.Rotated, error)
	Deliveries(ctx context.Context, tenant, id, cursor string, limit int) ([]*event.Delivery, string, error)
}

// eventRoutes are the events capability's routes: the feed and the
// webhook endpoints.
func (a *API) eventRoutes() []Route {
	ev := a.svc.Events != nil
	return []Route{
		{Method: "GET", Path: "/events", Operation: "listEvents", Function: FnWebhooks, handler: wired(ev, a.listEvents)},
		{Method: "POST", Path: "/webhooks", Operation: "createWebhook", Function: FnWebhooks, Creates: true, handler: wired(ev, a.idempotent(a.createWebhook))},
		{Method: "GET", Path: "/webhooks", Operation: "listWebhooks", Function: FnWebhooks, handler: wired(ev, a.listWebhooks)},
		{Method: "GET", Path: "/webhooks/{id}", Operation: "getWebhook", Function: FnWebhooks, handler: wired(ev, a.getWebhook)},
		{Method: "DELETE", Path: "/webhooks/{id}", Operation: "deleteWebhook", Function: FnWebhooks, handler: wired(ev, a.deleteWebhook)},
		{Method: "POST", Path: "/webhooks/{id}/rotate-secret", Operation: "rotateWebhookSecret", Function: FnWebhooks, handler: wired(ev, a.rotateWebhookSecret)},
		{Method: "GET", Path: "/webhooks/{id}/deliveries", Operation: "listWebhookDeliveries", Function: FnWebhooks, handler: wired(ev, a.listWebhookDeliveries)},
	}
}

type webhookView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Types          []string `json:"types"`
	Description    string   `json:"description"`
	Status         string   `json:"status"`
	DisabledReason *string  `json:"disabledReason"`
	FailingSince   *string  `json:"failingSince"`
	CreatedAt      string   `json:"createdAt"`
	UpdatedAt      string   `json:"updatedAt"`
}

func viewWebhook(e *event.Endpoint) webhookView {
	v := webhookView{ID: e.ID, URL: e.URL, Types: make([]string, len(e.Types)), Description: e.Description, Status: string(e.Status),
		FailingSince: timePtr(e.FailingSince), CreatedAt: stamp(e.CreatedAt), UpdatedAt: stamp(e.UpdatedAt)}
	for i, t := range e.Types {
		v.Types[i] = string(t)
	}
	if e.DisabledReason != "" {
		v.DisabledReason = &e.DisabledReason
	}
	return v
}

// listEvents answers GET /events: the tenant's events after the cursor,
// oldest first; nextCursor is always given (the same one when nothing is
// new), so an app keeps it and asks again later.
func (a *API) listEvents(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	var types []string
	if t := r.Query.Get("type"); t != "" {
		types = strings.Split(t, ",")
	}
	items, next, err := a.svc.Events.Feed(ctx, r.Identity.Tenant, types, r.Query.Get("after"), limit)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []event.Event{}
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "nextCursor": next}), nil
}

func (a *API) createWebhook(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		URL         string   `json:"url"`
		Types       []string `json:"types"`
		Description string   `json:"description"`
	}
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	if body.URL == "" {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidWebhookURL, "url is required")
	}
	c, err := a.svc.Events.Create(ctx, r.Identity.Tenant, event.CreateInput{URL: body.URL, Types: body.Types, Description: body.Description})
	if err != nil {
		return nil, err
	}
	return created(http.StatusCreated, "/webhooks/"+url.PathEscape(c.Endpoint.ID), struct {
		webhookView
		Secret string `json:"secret"`
	}{viewWebhook(c.Endpoint), c.Secret}), nil
}

func (a *API) listWebhooks(ctx context.Context, r *Request) (*Response, error) {
	list, err := a.svc.Events.List(ctx, r.Identity.Tenant)
	if err != nil {
		return nil, err
	}
	items := make([]webhookView, len(list))
	for i, e := range list {
		items[i] = viewWebhook(e)
	}
	return JSON(http.StatusOK, map[string]any{"items": items}), nil
}

func (a *API) getWebhook(ctx context.Context, r *Request) (*Response, error) {
	e, err := a.svc.Events.Get(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewWebhook(e)), nil
}

func (a *API) deleteWebhook(ctx context.Context, r *Request) (*Response, error) {
	if err := a.svc.Events.Delete(ctx, r.Identity.Tenant, r.Param("id")); err != nil {
		return nil, err
	}
	return &Response{Status: http.StatusNoContent}, nil
}

// rotateWebhookSecret answers the new secret, shown this once; the old
// one signs too until previousSecretExpiresAt.
func (a *API) rotateWebhookSecret(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		OverlapSeconds *int64 `json:"overlapSeconds"`
	}
	if len(strings.TrimSpace(string(r.Body))) > 0 {
		if err := r.Decode(&body); err != nil {
			return nil, err
		}
	}
	var overlap time.Duration
	if body.OverlapSeconds != nil {
		if *body.OverlapSeconds <= 0 || *body.OverlapSeconds > int64(event.MaxOverlap/time.Second) {
			return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "overlapSeconds must be between 1 and 604800 (7 days)")
		}
		overlap = time.Duration(*body.OverlapSeconds) * time.Second
	}
	rot, err := a.svc.Events.RotateSecret(ctx, r.Identity.Tenant, r.Param("id"), overlap)
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, map[string]any{"id": rot.Endpoint.ID, "secret": rot.Secret, "previousSecretExpiresAt": stamp(rot.PreviousUntil)}), nil
}

type deliveryView struct {
	EventID       string  `json:"eventId"`
	EventType     string  `json:"eventType"`
	Status        string  `json:"status"`
	Attempts      int     `json:"attempts"`
	LastStatus    *int    `json:"lastStatusCode"`
	LastError     *string `json:"lastError"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	NextAttemptAt *string `json:"nextAttemptAt"`
	CreatedAt     string  `json:"createdAt"`
}

func (a *API) listWebhookDeliveries(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	list, next, err := a.svc.Events.Deliveries(ctx, r.Identity.Tenant, r.Param("id"), r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	items := make([]deliveryView, len(list))
	for i, d := range list {
		v := deliveryView{EventID: d.EventID, EventType: string(d.EventType), Status: string(d.Status), Attempts: d.Attempts,
			LastAttemptAt: timePtr(d.LastAttemptAt), NextAttemptAt: timePtr(d.NextAttemptAt), CreatedAt: stamp(d.CreatedAt)}
		if d.LastStatus != 0 {
			v.LastStatus = &d.LastStatus
		}
		if d.LastError != "" {
			v.LastError = &d.LastError
		}
		items[i] = v
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["nextCursor"] = next
	}
	return JSON(http.StatusOK, body), nil
}
