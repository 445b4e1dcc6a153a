package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

// IdempotencyStore remembers keys. Begin claims a key for a request: it
// returns nil when this request should run (the key is new), the stored
// answer when the same request already finished, and an error whose kind
// is Unprocessable when the key was used with another request, or
// Conflict when the same request is still running.
type IdempotencyStore interface {
	Begin(ctx context.Context, tenant, scope, key, requestHash string, now time.Time) (*idempotency.Response, error)
	Finish(ctx context.Context, tenant, scope, key string, resp idempotency.Response, now time.Time) error
	Abandon(ctx context.Context, tenant, scope, key string) error
}

// idempotent wraps a creating handler: the same Idempotency-Key and body
// within idempotency.TTL returns the first answer and does nothing again;
// the same key with another body is 422. Only answers idempotency.Keep
// takes are kept (successes and refusals of the request's own content);
// for any other (429, 5xx, a refusal that depends on state) the key is
// released, so a retry runs again.
func (a *API) idempotent(h HandlerFunc) HandlerFunc {
	return func(ctx context.Context, r *Request) (*Response, error) {
		key := r.HeaderValue("idempotency-key")
		if key == "" || a.svc.Idempotency == nil {
			return h(ctx, r)
		}
		if len(key) > 255 || !validClaim(key) {
			return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidIdempotencyKey, "Idempotency-Key must be 1 to 255 printable characters")
		}
		sum := sha256.Sum256(append([]byte(r.Route.Key()+"\n"+r.Identity.User+"\n"), r.Body...))
		hash := hex.EncodeToString(sum[:])
		scope := r.Route.Operation
		stored, err := a.svc.Idempotency.Begin(ctx, r.Identity.Tenant, scope, key, hash, a.cfg.Now())
		if err != nil {
			return nil, err
		}
		if stored != nil {
			headers := map[string]string{"Idempotent-Replayed": "true"}
			for k, v := range stored.Headers {
				headers[k] = v
			}
			return &Response{Status: stored.Status, Header: headers, Body: []byte(stored.Body)}, nil
		}
		resp, herr := h(ctx, r)
		if herr != nil {
			resp = problemFor(herr, r.RequestID)
			logFailure(ctx, a.cfg.Logger.With(slog.String("request_id", r.RequestID)), r.Route.Key(), resp.Status, herr)
		}
		if !idempotency.Keep(resp.Status) {
			if err := a.svc.Idempotency.Abandon(context.WithoutCancel(ctx), r.Identity.Tenant, scope, key); err != nil {
				a.cfg.Logger.Warn("abandoning an idempotency key failed", "error", err.Error())
			}
			return resp, nil
		}
		enc := encode(resp, a.cfg.Logger)
		keep := idempotency.Response{Status: enc.StatusCode, Headers: replayHeaders(enc), Body: enc.Body}
		if err := a.svc.Idempotency.Finish(context.WithoutCancel(ctx), r.Identity.Tenant, scope, key, keep, a.cfg.Now()); err != nil {
			a.cfg.Logger.Warn("keeping an idempotent answer failed", "error", err.Error())
		}
		return &Response{Status: enc.StatusCode, Header: enc.Headers, Body: []byte(enc.Body)}, nil
	}
}

// replayHeaders are the headers worth replaying (not the per-answer ones).
func replayHeaders(resp events.APIGatewayV2HTTPResponse) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"Content-Type", "Location", "Retry-After"} {
		if v, ok := resp.Headers[k]; ok {
			out[k] = v
		}
	}
	return out
}
