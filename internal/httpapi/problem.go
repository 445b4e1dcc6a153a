package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// Problem is an RFC 9457 problem document with Switchboard's stable code.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Code     string         `json:"code"`
	Instance string         `json:"instance,omitempty"`
	Extra    map[string]any `json:"-"`
}

// ProblemTypePrefix makes a problem's type URI from its code.
const ProblemTypePrefix = "urn:switchboard:problem:"

// statusOf is the one place that maps an error kind to an HTTP status.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unprocessable:
		return http.StatusUnprocessableEntity
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.BadMediaType:
		return http.StatusUnsupportedMediaType
	case apperr.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.NotImplemented:
		return http.StatusNotImplemented
	case apperr.Upstream:
		return http.StatusBadGateway
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// problemFor turns any error into the answer a caller sees. Internal errors
// show a generic detail: their cause is logged, never returned.
func problemFor(err error, requestID string) *Response {
	e, ok := apperr.As(err)
	if !ok {
		e = apperr.Wrap(apperr.Internal, apperr.CodeInternalError, "", err)
	}
	if errors.Is(err, errBodyTooLarge) {
		e = apperr.E(apperr.TooLarge, apperr.CodeBodyTooLarge, err.Error())
	}
	status := statusOf(e.Kind)
	detail := e.Detail
	if e.Kind == apperr.Internal {
		detail = "something went wrong on our side; the request id identifies it in our logs"
	}
	p := map[string]any{
		"type":   ProblemTypePrefix + string(e.Code),
		"title":  http.StatusText(status),
		"status": status,
		"code":   string(e.Code),
	}
	if detail != "" {
		p["detail"] = detail
	}
	if requestID != "" {
		p["instance"] = "urn:switchboard:request:" + requestID
	}
	for k, v := range e.Fields {
		if _, taken := p[k]; !taken {
			p[k] = v
		}
	}
	resp := &Response{Status: status, Body: p, Header: map[string]string{"Content-Type": "application/problem+json"}}
	if e.RetryAfter > 0 {
		secs := int(e.RetryAfter.Seconds() + 0.999)
		resp.Header["Retry-After"] = strconv.Itoa(secs)
	}
	return resp
}
