// Package httpapi turns API Gateway HTTP API (payload 2.0) events into calls
// of Switchboard's services and their results into JSON answers. It holds the
// route table, reads identity from the JWT authorizer's claims, decodes
// bodies strictly, and maps every error to an RFC 9457 problem document in
// one place. Handlers hold no rules: services do.
package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// HandlerFunc serves one route.
type HandlerFunc func(ctx context.Context, r *Request) (*Response, error)

// Response is a handler's answer. Body is encoded as JSON unless it is
// []byte, which is sent as it is.
type Response struct {
	Status int
	Header map[string]string
	Body   any
}

// JSON is a JSON answer with a status.
func JSON(status int, body any) *Response { return &Response{Status: status, Body: body} }

// created is the answer to a request that made something (201, or 202
// when it is still being made): its Location is where to read it.
func created(status int, location string, body any) *Response {
	return &Response{Status: status, Header: map[string]string{"Location": location}, Body: body}
}

// Config is what an API needs besides its services.
type Config struct {
	Function    string // which function this is; only its routes are served
	TenantClaim string // the claim that names the tenant; "tenant_id" when empty
	Connect     ConnectConfig
	Logger      *slog.Logger
	Now         func() time.Time
}

// API is one function's HTTP handler.
type API struct {
	cfg     Config
	svc     Services
	routes  []Route // the routes this API serves, with their handlers
	matcher *Matcher
	cold    atomic.Bool // true until the first request of this process is served
}

// New builds the API for cfg.Function, or for every route when Function is
// empty (the local gateway uses one API per function, like Lambda).
func New(cfg Config, svc Services) *API {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "tenant_id"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, svc: svc}
	for _, r := range a.table() {
		if cfg.Function == "" || r.Function == cfg.Function {
			a.routes = append(a.routes, r)
		}
	}
	a.matcher = NewMatcher(a.routes)
	a.cold.Store(true)
	return a
}

// Build is New for a function's cold start: it refuses to build an API
// with a route that has no handler (its service is not wired) or a
// creating route without an idempotency store, naming each, so that
// missing wiring stops the start instead of answering 501, or ignoring an
// Idempotency-Key, at run time.
func Build(cfg Config, svc Services) (*API, error) {
	a := New(cfg, svc)
	var missing []string
	for _, r := range a.routes {
		if r.handler == nil {
			missing = append(missing, r.Key()+" has no handler: its service is not wired")
		}
		if r.Creates && svc.Idempotency == nil {
			missing = append(missing, r.Key()+" creates, so it needs an idempotency store")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("httpapi: function %q: %s", cfg.Function, strings.Join(missing, "; "))
	}
	return a, nil
}

// Handle is the Lambda entry point. It never returns an error: every
// failure is an answer, so API Gateway never turns one into a bare 500.
func (a *API) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := a.cfg.Now()
	cold := a.cold.Swap(false)
	reqID := ev.RequestContext.RequestID
	if lc, ok := lambdacontext.FromContext(ctx); ok && reqID == "" {
		reqID = lc.AwsRequestID
	}
	log := a.cfg.Logger.With(slog.String("request_id", reqID), slog.Bool("cold_start", cold))

	resp, route, err := a.serve(ctx, ev, reqID)
	if err != nil {
		resp = problemFor(err, reqID)
		logFailure(ctx, log, route, resp.Status, err)
	}
	out := encode(resp, log)
	log.Info("request", slog.String("route", route), slog.String("method", ev.RequestContext.HTTP.Method),
		slog.Int("status", out.StatusCode), slog.Int64("duration_ms", a.cfg.Now().Sub(start).Milliseconds()))
	return out, nil
}

func (a *API) serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest, reqID string) (resp *Response, routeKey string, err error) {
	defer func() {
		if p := recover(); p != nil {
			a.cfg.Logger.Error("handler panicked", slog.String("request_id", reqID), slog.Any("panic", p))
			resp, err = nil, apperr.E(apperr.Internal, apperr.CodeInternalError, "")
		}
	}()
	method := strings.ToUpper(ev.RequestContext.HTTP.Method)
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	route, params, found, pathExists := a.matcher.Match(method, path)
	if !found {
		if pathExists {
			r := problemFor(apperr.Errorf(apperr.MethodNotAllowed, apperr.CodeMethodNotAllowed, "%s is not allowed here", method), reqID)
			r.Header["Allow"] = strings.Join(a.matcher.AllowedMethods(path), ", ")
			return r, method + " " + path, nil
		}
		return nil, "", apperr.Errorf(apperr.NotFound, apperr.CodeRouteNotFound, "no route %s %s", method, trunc.String(path, 200))
	}
	routeKey = route.Key()
	// API Gateway fills path parameters itself; when it did, trust them.
	if len(ev.PathParameters) > 0 {
		params = ev.PathParameters
	}
	for k, v := range params {
		if u, err := url.PathUnescape(v); err == nil {
			params[k] = u
		}
	}

	req := &Request{Route: route, PathParams: params, Header: lowerKeys(ev.Headers), RequestID: reqID}
	if !route.Public {
		id, err := a.identity(ev)
		if err != nil {
			return nil, routeKey, err
		}
		req.Identity = id
	}
	if req.Query, err = url.ParseQuery(ev.RawQueryString); err != nil {
		return nil, routeKey, apperr.E(apperr.Invalid, apperr.CodeInvalidQuery, "the query string cannot be parsed")
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, routeKey, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "the body is marked base64 but is not")
		}
	}
	limit := route.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	if int64(len(body)) > limit {
		return nil, routeKey, apperr.Errorf(apperr.TooLarge, apperr.CodeBodyTooLarge, "the body is %d bytes; this route takes at most %d", len(body), limit)
	}
	req.Body = body
	if !route.Form {
		if err := req.checkMediaType(); err != nil {
			return nil, routeKey, err
		}
	}

	if route.handler == nil { // only an API made by New, not Build
		return nil, routeKey, notBuilt(route)
	}
	resp, err = route.handler(ctx, req)
	return resp, routeKey, err
}

// identity reads the caller from the authorizer's verified claims. A
// request without them is 401: in AWS the authorizer already refused it, so
// this is defence in depth and the guard against a misconfigured route.
func (a *API) identity(ev events.APIGatewayV2HTTPRequest) (Identity, error) {
	var claims map[string]string
	if ev.RequestContext.Authorizer != nil && ev.RequestContext.Authorizer.JWT != nil {
		claims = ev.RequestContext.Authorizer.JWT.Claims
	}
	sub, tenant := claims["sub"], claims[a.cfg.TenantClaim]
	if !validClaim(sub) || !validClaim(tenant) {
		e := apperr.Errorf(apperr.Unauthenticated, apperr.CodeUnauthenticated,
			"a valid bearer token with the claims sub and %s is required", a.cfg.TenantClaim)
		return Identity{}, e
	}
	if !plainClaim(sub) || !plainClaim(tenant) {
		e := apperr.Errorf(apperr.Unauthenticated, apperr.CodeUnauthenticated,
			"the claims sub and %s must be plain strings; a list or an object names no one", a.cfg.TenantClaim)
		return Identity{}, e
	}
	return Identity{Tenant: tenant, User: sub}, nil
}

// logFailure logs a request that failed with err, its cause included: a
// 5xx at ERROR (the answer hides the cause, so the log is the only place
// it is), anything else at INFO. Every layer that turns an error into an
// answer itself (idempotency, rate-limit headers) calls it.
func logFailure(ctx context.Context, log *slog.Logger, route string, status int, err error) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	log.Log(ctx, level, "request failed", slog.String("route", route), slog.Int("status", status), slog.String("error", err.Error()))
}

func notBuilt(r Route) error {
	return apperr.Errorf(apperr.NotImplemented, apperr.CodeNotImplemented, "%s is part of the contract but is not built yet", r.Key())
}

func encode(resp *Response, log *slog.Logger) events.APIGatewayV2HTTPResponse {
	if resp == nil {
		resp = &Response{Status: http.StatusNoContent}
	}
	headers := map[string]string{}
	for k, v := range resp.Header {
		headers[k] = v
	}
	headers["Cache-Control"] = "no-store"
	headers["X-Content-Type-Options"] = "nosniff"
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: headers}
	switch b := resp.Body.(type) {
	case nil:
	case []byte:
		out.Body = string(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			log.Error("encoding the answer failed", slog.String("error", err.Error()))
			p := problemFor(apperr.Wrap(apperr.Internal, apperr.CodeInternalError, "", err), "")
			raw, _ = json.Marshal(p.Body)
			out.StatusCode = p.Status
			headers["Content-Type"] = "application/problem+json"
		}
		out.Body = string(raw)
		if _, set := headers["Content-Type"]; !set {
			headers["Content-Type"] = "application/json"
		}
	}
	return out
}

func lowerKeys(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}
