// Package apperr gives domain errors a kind. Services say what went wrong
// (the kind, a stable machine code and a message a caller can act on); one
// function in httpapi maps the kind to an HTTP status. Nothing else decides
// status codes.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind uint8

const (
	Internal         Kind = iota // a fault of ours; the caller can only retry later
	Invalid                      // the request is malformed or fails validation
	Unauthenticated              // no verified identity
	Forbidden                    // identity known, action not allowed
	NotFound                     // no such thing, or it belongs to another tenant
	Conflict                     // the thing is not in a state that allows this
	Unprocessable                // well-formed, but refused on its merits (a bad API key, a reused idempotency key)
	TooLarge                     // the body is over the size limit
	RateLimited                  // too many requests; RetryAfter says when to come back
	NotImplemented               // the capability does not exist (yet, or at this platform)
	Upstream                     // a platform answered with a failure
	Unavailable                  // a dependency is temporarily unreachable; retrying can help
	BadMediaType                 // the body is in a media type the route does not take
	MethodNotAllowed             // the path exists, but not with this method
)

var kindNames = [...]string{
	Internal: "internal", Invalid: "invalid", Unauthenticated: "unauthenticated",
	Forbidden: "forbidden", NotFound: "not_found", Conflict: "conflict",
	Unprocessable: "unprocessable", TooLarge: "too_large", RateLimited: "rate_limited",
	NotImplemented: "not_implemented", Upstream: "upstream", Unavailable: "unavailable",
	BadMediaType: "bad_media_type", MethodNotAllowed: "method_not_allowed",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ErrConditionFailed is the cause of every error from a write whose
// condition did not hold (another writer got there first). The store wraps
// it; services check it with errors.Is, never by code.
var ErrConditionFailed = errors.New("store: condition failed")

// Error is a domain error. Detail is shown to the caller, so it must never
// hold a secret; Err is the cause, kept for logs and errors.Is. Op names the
// operation that failed (as upspin's errors do), for logs only: it never
// changes the answer.
type Error struct {
	Op         string // the operation that failed, e.g. "store.put"; may be empty
	Kind       Kind
	Code       Code          // stable machine code, one of the constants in codes.go
	Detail     string        // human explanation, safe to show
	RetryAfter time.Duration // for RateLimited and Unavailable, when known
	Fields     map[string]any
	Err        error
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an Error of the kind with a code and a detail.
func E(kind Kind, code Code, detail string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail}
}

// Wrap builds an Error that keeps err as its cause.
func Wrap(kind Kind, code Code, detail string, err error) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail, Err: err}
}

// Errorf is E with a formatted detail.
func Errorf(kind Kind, code Code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// WithOp records op as the operation that failed on err, without changing
// what a caller sees of it (kind, code, detail, fields, cause): a domain
// error is copied with its Op set (an Op it already has stays, after op),
// anything else is wrapped with op as a prefix. nil stays nil.
func WithOp(op string, err error) error {
	if err == nil {
		return nil
	}
	e, ok := err.(*Error)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	c := *e
	c.Op = op
	if e.Op != "" {
		c.Op = op + ": " + e.Op
	}
	return &c
}

// As finds the outermost *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf is the kind of the outermost *Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return Internal
}

// Is reports whether err carries the kind.
func Is(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}
