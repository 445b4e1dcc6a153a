package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// DeploymentService is what the deployment routes call.
type DeploymentService interface {
	Limits(ctx context.Context, who deploy.Identity) (ratelimit.Decision, error)
	Create(ctx context.Context, who deploy.Identity, req deploy.Request) (*deploy.Deployment, ratelimit.Decision, error)
	Get(ctx context.Context, tenant, id string) (*deploy.Deployment, error)
	List(ctx context.Context, tenant string, f deploy.ListFilter, cursor string, limit int) ([]*deploy.Deployment, string, error)
	Logs(ctx context.Context, tenant, id, cursor string) (deploy.LogPage, error)
	Cancel(ctx context.Context, tenant, id string) (*deploy.Deployment, error)
	Rollback(ctx context.Context, who deploy.Identity, id string) (*deploy.Deployment, ratelimit.Decision, error)
	CheckName(ctx context.Context, tenant, platform, name, workspace string) (deploy.Availability, error)
}

// MaxDeploymentBody is POST /deployments' body limit: files up to it are
// what the deployment service may be given.
const MaxDeploymentBody = 5 << 20

// deploymentRoutes are the deployments capability's routes. Every answer
// of these routes carries the caller's RateLimit-* headers.
func (a *API) deploymentRoutes() []Route {
	ds := a.svc.Deployments != nil
	return []Route{
		{Method: "GET", Path: "/projects/{platform}/availability", Operation: "checkProjectName", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.checkProjectName, false))},
		{Method: "GET", Path: "/deployments/limits", Operation: "getDeploymentLimits", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.getDeploymentLimits, true))},
		{Method: "POST", Path: "/deployments", Operation: "createDeployment", Function: FnDeployments, MaxBody: MaxDeploymentBody, Creates: true, handler: wired(ds, a.withRateLimit(a.idempotent(a.createDeployment), true))},
		{Method: "GET", Path: "/deployments", Operation: "listDeployments", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.listDeployments, false))},
		{Method: "GET", Path: "/deployments/{id}", Operation: "getDeployment", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.getDeployment, false))},
		{Method: "GET", Path: "/deployments/{id}/logs", Operation: "getDeploymentLogs", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.getDeploymentLogs, false))},
		{Method: "POST", Path: "/deployments/{id}/cancel", Operation: "cancelDeployment", Function: FnDeployments, handler: wired(ds, a.withRateLimit(a.cancelDeployment, false))},
		{Method: "POST", Path: "/deployments/{id}/rollback", Operation: "rollbackDeployment", Function: FnDeployments, Creates: true, handler: wired(ds, a.withRateLimit(a.idempotent(a.rollbackDeployment), true))},
	}
}

func whoOf(r *Request) deploy.Identity {
	return deploy.Identity{Tenant: r.Identity.Tenant, User: r.Identity.User}
}

// The IETF httpapi-ratelimit-headers draft's names.
const (
	headerRateLimit     = "RateLimit-Limit"
	headerRateRemaining = "RateLimit-Remaining"
	headerRateReset     = "RateLimit-Reset"
)

// ceilSeconds is a duration in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func (a *API) setRateLimit(resp *Response, d ratelimit.Decision) {
	if resp.Header == nil {
		resp.Header = map[string]string{}
	}
	resp.Header[headerRateLimit] = strconv.Itoa(d.Limit)
	resp.Header[headerRateRemaining] = strconv.Itoa(d.Remaining)
	resp.Header[headerRateReset] = strconv.FormatInt(ceilSeconds(d.ResetIn(a.cfg.Now())), 10)
}

// withRateLimit answers errors as problems here, so that they too carry
// the RateLimit-* headers. A handler that decides (create, rollback, the
// limits route) sets them from its decision; for the others the window is
// read (one read) while the handler runs, so the headers cost no latency.
func (a *API) withRateLimit(h HandlerFunc, decides bool) HandlerFunc {
	type limits struct {
		d   ratelimit.Decision
		err error
	}
	return func(ctx context.Context, r *Request) (*Response, error) {
		var window chan limits
		if !decides {
			window = make(chan limits, 1)
			go func() {
				d, err := a.svc.Deployments.Limits(ctx, whoOf(r))
				window <- limits{d, err}
			}()
		}
		resp, err := h(ctx, r)
		if err != nil {
			resp = problemFor(err, r.RequestID)
			logFailure(ctx, a.cfg.Logger.With(slog.String("request_id", r.RequestID)), r.Route.Key(), resp.Status, err)
		}
		if _, set := resp.Header[headerRateLimit]; !set {
			var l limits
			if window != nil {
				l = <-window
			} else {
				l.d, l.err = a.svc.Deployments.Limits(ctx, whoOf(r))
			}
			if l.err == nil {
				a.setRateLimit(resp, l.d)
			} else {
				a.cfg.Logger.Warn("reading the rate limit for its headers failed", slog.String("request_id", r.RequestID),
					slog.String("error", l.err.Error()))
			}
		} else if window != nil {
			<-window // the read ran for nothing; let it finish with this request
		}
		return resp, nil
	}
}

type deploymentView struct {
	ID                   string         `json:"id"`
	Platform             string         `json:"platform"`
	ProjectName          string         `json:"projectName"`
	Status               string         `json:"status"`
	URL                  *string        `json:"url"`
	PlatformDeploymentID *string        `json:"platformDeploymentId"`
	RollbackOf           *string        `json:"rollbackOf"`
	CreatedAt            string         `json:"createdAt"`
	UpdatedAt            string         `json:"updatedAt"`
	Error                *lastErrorView `json:"error"`
}

func nullableString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func viewDeployment(d *deploy.Deployment) deploymentView {
	v := deploymentView{
		ID: d.ID, Platform: string(d.Platform), ProjectName: d.ProjectName, Status: string(d.Status),
		URL: nullableString(d.URL), PlatformDeploymentID: nullableString(d.PlatformDeploymentID), RollbackOf: nullableString(d.RollbackOf),
		CreatedAt: stamp(d.CreatedAt), UpdatedAt: stamp(d.UpdatedAt),
	}
	if d.UpdatedAt.IsZero() {
		v.UpdatedAt = v.CreatedAt
	}
	if d.Error != nil {
		v.Error = &lastErrorView{Code: d.Error.Code, Message: d.Error.Message, At: stamp(d.Error.At)}
	}
	return v
}

func (a *API) getDeploymentLimits(ctx context.Context, r *Request) (*Response, error) {
	d, err := a.svc.Deployments.Limits(ctx, whoOf(r))
	if err != nil {
		return nil, err
	}
	resp := JSON(http.StatusOK, map[string]any{
		"limit": d.Limit, "remaining": d.Remaining, "resetAt": stamp(d.ResetAt),
	})
	a.setRateLimit(resp, d)
	return resp, nil
}

type createDeploymentBody struct {
	Platform    string `json:"platform"`
	ProjectName string `json:"projectName"`
	Files       []struct {
		Path     string `json:"path"`
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	} `json:"files"`
	Source *struct {
		Repo   string `json:"repo"`
		Branch string `json:"branch"`
	} `json:"source"`
	Image    string            `json:"image"`
	Env      map[string]string `json:"env"`
	Database *struct {
		Engine string `json:"engine"`
	} `json:"database"`
	Build       *deploy.Build `json:"build"`
	WorkspaceID string        `json:"workspaceId"`
}

// limitedAnswer is the answer to a decision: 429 when it refused (with
// Retry-After), otherwise the deployment with status.
func (a *API) limitedAnswer(r *Request, status int, d *deploy.Deployment, dec ratelimit.Decision, err error) (*Response, error) {
	if err != nil {
		if !apperr.Is(err, apperr.RateLimited) {
			return nil, err
		}
		resp := problemFor(err, r.RequestID)
		a.setRateLimit(resp, dec)
		// Refused, the next slot is the reset: both say the same instant.
		retry := strconv.FormatInt(ceilSeconds(dec.RetryAfter), 10)
		resp.Header["Retry-After"], resp.Header[headerRateReset] = retry, retry
		return resp, nil
	}
	resp := created(status, "/deployments/"+url.PathEscape(d.ID), viewDeployment(d))
	a.setRateLimit(resp, dec)
	return resp, nil
}

func (a *API) createDeployment(ctx context.Context, r *Request) (*Response, error) {
	var body createDeploymentBody
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	req := deploy.Request{Platform: body.Platform, ProjectName: body.ProjectName, Image: body.Image, Env: body.Env,
		Build: body.Build, WorkspaceID: body.WorkspaceID}
	for _, f := range body.Files {
		req.Files = append(req.Files, deploy.File{Path: f.Path, Content: f.Content, Encoding: f.Encoding})
	}
	if body.Source != nil {
		req.Source = &deploy.GitSource{Repo: body.Source.Repo, Branch: body.Source.Branch}
	}
	if body.Database != nil {
		req.Database = &body.Database.Engine
	}
	d, dec, err := a.svc.Deployments.Create(ctx, whoOf(r), req)
	return a.limitedAnswer(r, http.StatusAccepted, d, dec, err)
}

func (a *API) listDeployments(ctx context.Context, r *Request) (*Response, error) {
	limit, err := r.QueryInt("limit", 20, 1, 100)
	if err != nil {
		return nil, err
	}
	f := deploy.ListFilter{Status: deploy.Status(r.Query.Get("status")), Platform: platform.ID(r.Query.Get("platform")), ProjectName: r.Query.Get("projectName")}
	list, next, err := a.svc.Deployments.List(ctx, r.Identity.Tenant, f, r.Query.Get("cursor"), limit)
	if err != nil {
		return nil, err
	}
	items := make([]deploymentView, len(list))
	for i, d := range list {
		items[i] = viewDeployment(d)
	}
	body := map[string]any{"items": items}
	if next != "" {
		body["nextCursor"] = next
	}
	return JSON(http.StatusOK, body), nil
}

func (a *API) getDeployment(ctx context.Context, r *Request) (*Response, error) {
	d, err := a.svc.Deployments.Get(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewDeployment(d)), nil
}

type logLineView struct {
	At   string `json:"at"`
	Type string `json:"type"`
	Text string `json:"text"`
}

func (a *API) getDeploymentLogs(ctx context.Context, r *Request) (*Response, error) {
	page, err := a.svc.Deployments.Logs(ctx, r.Identity.Tenant, r.Param("id"), r.Query.Get("cursor"))
	if err != nil {
		return nil, err
	}
	items := make([]logLineView, len(page.Lines))
	for i, l := range page.Lines {
		items[i] = logLineView{At: stamp(l.At), Type: l.Type, Text: l.Text}
	}
	return JSON(http.StatusOK, map[string]any{"items": items, "nextCursor": page.Cursor}), nil
}

func (a *API) cancelDeployment(ctx context.Context, r *Request) (*Response, error) {
	d, err := a.svc.Deployments.Cancel(ctx, r.Identity.Tenant, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return JSON(http.StatusOK, viewDeployment(d)), nil
}

func (a *API) rollbackDeployment(ctx context.Context, r *Request) (*Response, error) {
	d, dec, err := a.svc.Deployments.Rollback(ctx, whoOf(r), r.Param("id"))
	return a.limitedAnswer(r, http.StatusAccepted, d, dec, err)
}

func (a *API) checkProjectName(ctx context.Context, r *Request) (*Response, error) {
	av, err := a.svc.Deployments.CheckName(ctx, r.Identity.Tenant, r.Param("platform"), r.Query.Get("name"), r.Query.Get("workspaceId"))
	if err != nil {
		return nil, err
	}
	body := map[string]any{"name": av.Name, "available": av.Available}
	if av.Suggestion != "" {
		body["suggestion"] = av.Suggestion
	}
	return JSON(http.StatusOK, body), nil
}
