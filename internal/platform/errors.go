package platform

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Reason classifies a platform's failure by what can be done about it.
type Reason string

const (
	ReasonExpiredToken Reason = "expired_token" // the token is no longer accepted: refresh, or reconnect
	ReasonInvalidGrant Reason = "invalid_grant" // the refresh token or code is dead: reconnect
	ReasonPermission   Reason = "permission"    // the account lacks a permission or scope
	ReasonNotEligible  Reason = "not_eligible"  // the account cannot use the feature (live streaming not enabled, too few followers)
	ReasonQuota        Reason = "quota"         // a daily or plan quota is used up; waiting helps, retrying now does not
	ReasonRateLimited  Reason = "rate_limited"  // too many requests now; retry after a while
	ReasonTransient    Reason = "transient"     // 5xx, timeouts, resets: retrying can help
	ReasonInvalid      Reason = "invalid_request"
	ReasonNotFound     Reason = "not_found"
	ReasonConflict     Reason = "conflict"
	ReasonUnsupported  Reason = "unsupported" // the platform's public API cannot do this
)

// Error is a failure reported by (or on the way to) a platform. Message is
// the platform's own words, safe to show: it never carries a credential.
type Error struct {
	Platform   ID
	Op         string // what was being done, e.g. "create broadcast"
	Status     int    // the HTTP status, 0 when there was no answer
	Reason     Reason
	Code       string // the platform's own error code, when it gives one
	Message    string
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s: %s", e.Platform, e.Op, e.Reason)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later can help.
func (e *Error) Retryable() bool {
	switch e.Reason {
	case ReasonTransient, ReasonRateLimited, ReasonQuota:
		return true
	}
	return false
}

// AsError finds a platform error in err's chain.
func AsError(err error) (*Error, bool) {
	var pe *Error
	ok := errors.As(err, &pe)
	return pe, ok
}

// ReasonOf is the reason of a platform error in err's chain, "" if none.
func ReasonOf(err error) Reason {
	if pe, ok := AsError(err); ok {
		return pe.Reason
	}
	return ""
}

// ToAppError gives a platform failure the kind a caller of Switchboard
// should see: the platform refused on the merits (422), is unavailable
// (503) or failed (502).
func ToAppError(err error) error {
	pe, ok := AsError(err)
	if !ok {
		return err
	}
	detail := fmt.Sprintf("%s answered: %s", pe.Platform, pe.Message)
	if pe.Message == "" {
		detail = fmt.Sprintf("%s could not %s (%s)", pe.Platform, pe.Op, pe.Reason)
	}
	fields := map[string]any{"platform": string(pe.Platform), "reason": string(pe.Reason)}
	var e *apperr.Error
	switch pe.Reason {
	case ReasonTransient:
		e = apperr.Wrap(apperr.Unavailable, apperr.CodePlatformUnavailable, detail, err)
	case ReasonRateLimited, ReasonQuota:
		e = apperr.Wrap(apperr.Unavailable, apperr.CodePlatformRateLimited, detail, err)
		e.RetryAfter = pe.RetryAfter
	case ReasonExpiredToken, ReasonInvalidGrant:
		e = apperr.Wrap(apperr.Conflict, apperr.CodeConnectionExpired, detail+"; reconnect the account", err)
	case ReasonPermission, ReasonNotEligible, ReasonInvalid, ReasonConflict, ReasonUnsupported:
		e = apperr.Wrap(apperr.Unprocessable, apperr.CodePlatformRefused, detail, err)
	case ReasonNotFound:
		e = apperr.Wrap(apperr.Upstream, apperr.CodePlatformNotFound, detail, err)
	default:
		e = apperr.Wrap(apperr.Upstream, apperr.CodePlatformError, detail, err)
	}
	e.Fields = fields
	return e
}

// Unknown is the refusal of an id that names no platform: 404 where the id
// is in the path (the thing does not exist), 400 where a body names it.
// Every route refuses it with this code.
func Unknown(kind apperr.Kind, id string) *apperr.Error {
	return apperr.Errorf(kind, apperr.CodeUnknownPlatform, "there is no platform %q", trunc.String(id, 40))
}

// WrongKind is the refusal of a platform that is not of the kind a route
// takes (a meeting platform as a livestream target), the same for every
// route: 404 where the id is in the path, 400 where a body names it. among
// is every platform (registry.All), to name those of the kind wanted.
func WrongKind(kind apperr.Kind, d Descriptor, want Kind, among []Descriptor) *apperr.Error {
	var ids []string
	for _, o := range among {
		if o.Kind == want {
			ids = append(ids, string(o.ID))
		}
	}
	return apperr.Errorf(kind, apperr.CodeWrongPlatformKind, "%s is a %s platform, not a %s platform (%s)", d.Name, d.Kind, want, strings.Join(ids, ", "))
}
