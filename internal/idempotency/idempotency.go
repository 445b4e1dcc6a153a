// Package idempotency holds what an Idempotency-Key remembers: the
// request's fingerprint and the first answer, replayed for the same
// request within TTL. httpapi applies it; store keeps it.
//
// Only the answer of a request that executed is kept (Keep): a success,
// or a refusal of the request itself (malformed JSON, a field out of
// range, a body too large, a media type not taken), which the same body
// would meet again. An answer that depends on the moment is never kept,
// so a retry with the same key runs again: a 429 (the window moves on),
// a 5xx (the failure may pass), and any refusal that depends on state
// that may change (409 not_connected before the platform is connected,
// 404, 422 from a platform).
package idempotency

import (
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// PendingTimeout is how long a first request may run before a retry with
// the same key may take over (the first one crashed or timed out).
const PendingTimeout = 60 * time.Second

// Keep reports whether an answer with this status is kept for replay:
// 2xx, and the 4xx that only the request's own content decides.
func Keep(status int) bool {
	switch {
	case status >= 200 && status < 300:
		return true
	case status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge, status == http.StatusUnsupportedMediaType:
		return true
	}
	return false
}

// Response is an answer kept for replay.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Reused is the error for a key used with another request.
func Reused() error {
	return apperr.E(apperr.Unprocessable, apperr.CodeIdempotencyKeyReused, "this Idempotency-Key was used with another request; use a new key")
}

// InProgress is the error while the first request with a key still runs.
func InProgress() error {
	e := apperr.E(apperr.Conflict, apperr.CodeIdempotencyInProgress, "a request with this Idempotency-Key is still being processed; retry shortly")
	e.RetryAfter = time.Second
	return e
}
