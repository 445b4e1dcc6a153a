// Package gateway is the local stand-in for the AWS services in front of
// Switchboard's functions: an http.Handler that behaves like an API Gateway
// HTTP API (payload format 2.0) with a JWT authorizer, and a scheduler that
// plays EventBridge's rate schedules. `make dev` serves both over the very
// handlers Lambda runs (built by internal/app); nothing here knows a route's
// meaning, only the route table.
//
// What the gateway does with a request, in API Gateway's order:
//
//  1. Matches it against httpapi.Routes(). An unknown path is answered 404,
//     a known path with a method it lacks 405 (with Allow); the function is
//     not called. API Gateway itself answers both 404 {"message":"Not
//     Found"}; here every answer the gateway makes itself is an RFC 9457
//     problem document (application/problem+json, with type, title, status,
//     detail, code and instance) so a client handles one error shape. The 405
//     (code method_not_allowed) is what the functions answer themselves for
//     such a request, and it tells a developer what went wrong; in AWS the
//     same request meets API Gateway's 404, since the template declares no
//     catch-all route, so clients must not depend on the 405.
//  2. Refuses a body over 10 MB (API Gateway's payload limit) with 413.
//  3. For a route that is not Public, verifies `Authorization: Bearer <JWT>`
//     with an Authorizer: ES256 only, kid, issuer, audience (or client_id),
//     exp (required), nbf and iat, with a small leeway. A missing or bad
//     token is 401 problem code "unauthenticated" with a WWW-Authenticate
//     header, and the function is never called, as with API Gateway's JWT
//     authorizer.
//  4. Builds the events.APIGatewayV2HTTPRequest API Gateway would send (see
//     NewEvent) and calls the route's function with a context that carries a
//     lambdacontext.LambdaContext and a 29 s deadline (API Gateway's
//     integration timeout).
//  5. Writes the function's answer back: status, headers, cookies as
//     Set-Cookie, the body (base64-decoded when isBase64Encoded). A function
//     that returns an error, panics or answers without a status code is 500;
//     one that does not answer within the timeout is 503, as API Gateway
//     answers; both as problem documents. Every answer carries the
//     Apigw-Requestid header.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Handler is an HTTP function's Lambda handler, as lambda.Start serves it.
type Handler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// API Gateway's limits and the identity the local API presents.
const (
	// MaxBodyBytes is API Gateway's HTTP API payload limit.
	MaxBodyBytes = 10 << 20
	// IntegrationTimeout is API Gateway's HTTP API integration timeout.
	IntegrationTimeout = 29 * time.Second
	// DefaultAccountID is the account id in events and ARNs.
	DefaultAccountID = "123456789012"
	// DefaultAPIID is the apiId in events.
	DefaultAPIID = "local"
	// DefaultRegion is the region in ARNs when none is configured.
	DefaultRegion = "us-east-1"
	// FunctionPrefix names the local functions in ARNs: switchboard-<name>.
	FunctionPrefix = "switchboard-"
)

// Config is what a Gateway serves.
type Config struct {
	// Functions are the HTTP functions' handlers by name (httpapi.Route's
	// Function). Every function the routes name must be here.
	Functions map[string]Handler
	// Routes is the route table; httpapi.Routes() when nil.
	Routes []httpapi.Route
	// Auth verifies bearer tokens for routes that are not Public. Required
	// when any route needs a token.
	Auth *Authorizer
	// AccountID, APIID and Region appear in events and ARNs; defaults above.
	AccountID, APIID, Region string
	// Timeout is the integration timeout; IntegrationTimeout when zero.
	Timeout time.Duration
	// MaxBody is the payload limit in bytes; MaxBodyBytes when zero.
	MaxBody int64
	// Logger logs one line per request; discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Gateway is an http.Handler in front of the functions.
type Gateway struct {
	cfg     Config
	matcher *httpapi.Matcher
}

// New checks cfg and builds a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Routes == nil {
		cfg.Routes = httpapi.Routes()
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if cfg.APIID == "" {
		cfg.APIID = DefaultAPIID
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = IntegrationTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = MaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var missing []string
	for _, r := range cfg.Routes {
		if cfg.Functions[r.Function] == nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", r.Function, r.Key()))
		}
		if !r.Public && cfg.Auth == nil {
			return nil, fmt.Errorf("gateway: route %s needs a token but no Authorizer is configured", r.Key())
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("gateway: no handler for the functions of these routes: %s", strings.Join(missing, ", "))
	}
	return &Gateway{cfg: cfg, matcher: httpapi.NewMatcher(cfg.Routes)}, nil
}

// ServeHTTP answers one request the way API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.cfg.Now()
	reqID := newRequestID()
	w.Header().Set("Apigw-Requestid", reqID)
	log := g.cfg.Logger.With(slog.String("request_id", reqID), slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()))
	status, routeKey, function := g.serve(w, r, reqID, start, log)
	log.Info("request", slog.String("route", routeKey), slog.String("function", function),
		slog.Int("status", status), slog.Int64("duration_ms", g.cfg.Now().Sub(start).Milliseconds()))
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string, now time.Time, log *slog.Logger) (status int, routeKey, function string) {
	path := r.URL.EscapedPath()
	route, params, found, pathExists := g.matcher.Match(r.Method, path)
	if !found {
		if pathExists {
			allowed := g.matcher.AllowedMethods(path)
			sort.Strings(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return writeProblem(w, http.StatusMethodNotAllowed, apperr.CodeMethodNotAllowed,
				fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, trunc.String(path, 200), strings.Join(allowed, ", ")), reqID), "", ""
		}
		return writeProblem(w, http.StatusNotFound, apperr.CodeRouteNotFound,
			fmt.Sprintf("no route %s %s", r.Method, trunc.String(path, 200)), reqID), "", ""
	}
	routeKey, function = route.Key(), route.Function

	if r.ContentLength > g.cfg.MaxBody {
		return g.tooLarge(w, reqID), routeKey, function
	}
	var jwt *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription
	if !route.Public {
		var err error
		if jwt, err = g.cfg.Auth.Verify(r.Header.Get("Authorization")); err != nil {
			w.Header().Set("WWW-Authenticate", wwwAuthenticate(err))
			return writeProblem(w, http.StatusUnauthorized, apperr.CodeUnauthenticated, err.Error(), reqID), routeKey, function
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return g.tooLarge(w, reqID), routeKey, function
		}
		return writeProblem(w, http.StatusBadRequest, apperr.CodeInvalidBody, "the request body could not be read", reqID), routeKey, function
	}

	ev := NewEvent(r, body, EventOptions{
		Route: route, PathParameters: params, JWT: jwt, RequestID: reqID, Time: now,
		AccountID: g.cfg.AccountID, APIID: g.cfg.APIID,
	})
	resp, err := g.invoke(r.Context(), route.Function, ev, log)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return writeProblem(w, http.StatusServiceUnavailable, apperr.CodeIntegrationTimeout,
				fmt.Sprintf("the function did not answer within %s", g.cfg.Timeout), reqID), routeKey, function
		}
		log.Error("function failed", slog.String("function", function), slog.String("error", err.Error()))
		return writeProblem(w, http.StatusInternalServerError, apperr.CodeInternalError,
			"the function failed; the request id identifies it in the local log", reqID), routeKey, function
	}
	if err := writeResponse(w, resp, log); err != nil {
		log.Error("malformed function response", slog.String("function", function), slog.String("error", err.Error()))
		return writeProblem(w, http.StatusInternalServerError, apperr.CodeInternalError,
			"the function's answer is malformed: "+err.Error(), reqID), routeKey, function
	}
	return resp.StatusCode, routeKey, function
}

func (g *Gateway) tooLarge(w http.ResponseWriter, reqID string) int {
	// The connection may still hold the unread body; do not keep it alive.
	w.Header().Set("Connection", "close")
	return writeProblem(w, http.StatusRequestEntityTooLarge, apperr.CodeBodyTooLarge,
		fmt.Sprintf("the body is over the %d-byte payload limit", g.cfg.MaxBody), reqID)
}

type result struct {
	resp events.APIGatewayV2HTTPResponse
	err  error
}

// invoke calls the function as Lambda would: its own context (not cancelled
// when the client goes away), a deadline, a LambdaContext. When the deadline
// passes the caller gets an error at once; the handler goroutine runs on, as
// a Lambda invocation outlives API Gateway's timeout.
func (g *Gateway) invoke(parent context.Context, function string, ev events.APIGatewayV2HTTPRequest, log *slog.Logger) (events.APIGatewayV2HTTPResponse, error) {
	h := g.cfg.Functions[function]
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), g.cfg.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       NewUUID(),
		InvokedFunctionArn: FunctionARN(g.cfg.Region, g.cfg.AccountID, function),
	})
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("handler panicked: %v", p)}
			}
		}()
		resp, err := h(ctx, ev)
		done <- result{resp, err}
	}()
	select {
	case res := <-done:
		return res.resp, res.err
	case <-ctx.Done():
		log.Warn("function timed out", slog.String("function", function), slog.Duration("timeout", g.cfg.Timeout))
		return events.APIGatewayV2HTTPResponse{}, ctx.Err()
	}
}

// writeResponse writes a payload 2.0 answer. Like API Gateway it reads
// statusCode, headers, cookies, body and isBase64Encoded; multiValueHeaders
// is not part of the 2.0 format, so it is ignored (and logged) rather than
// honoured locally and lost in AWS.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse, log *slog.Logger) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("statusCode %d is not an HTTP status", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return errors.New("isBase64Encoded is true but the body is not base64")
		}
	}
	if len(resp.MultiValueHeaders) > 0 {
		log.Warn("multiValueHeaders is ignored by API Gateway's payload format 2.0; use headers (comma-joined) or cookies")
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// problem is the gateway's own error answer, shaped as httpapi's.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, code apperr.Code, detail, reqID string) int {
	raw, _ := json.Marshal(problem{
		Type: httpapi.ProblemTypePrefix + string(code), Title: http.StatusText(status), Status: status,
		Detail: detail, Code: string(code), Instance: "urn:switchboard:request:" + reqID,
	})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(status)
	_, _ = w.Write(raw)
	return status
}

// FunctionARN is the ARN a local function presents in its LambdaContext.
func FunctionARN(region, account, function string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s%s", region, account, FunctionPrefix, function)
}

// NewUUID returns a random (version 4) UUID, the form of Lambda request ids
// and EventBridge event ids.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newRequestID returns an id in API Gateway's form for HTTP APIs (ten random
// bytes, base64: "JKJaXmPLIAMEJ2Q=").
func newRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
