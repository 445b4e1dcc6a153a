// Package idempotency holds what an Idempotency-Key remembers: the
// request's fingerprint and the first answer, replayed for the same
// request within TTL. httpapi applies it; store keeps it.
package idempotency

import (
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// PendingTimeout is how long a first request may run before a retry with
// the same key may take over (the first one crashed or timed out).
const PendingTimeout = 60 * time.Second

// Response is an answer kept for replay.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Reused is the error for a key used with another request.
func Reused() error {
	return apperr.E(apperr.Unprocessable, "idempotency_key_reused", "this Idempotency-Key was used with another request; use a new key")
}

// InProgress is the error while the first request with a key still runs.
func InProgress() error {
	e := apperr.E(apperr.Conflict, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly")
	e.RetryAfter = time.Second
	return e
}
