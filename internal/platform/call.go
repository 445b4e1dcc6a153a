package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Caller makes JSON calls to one platform's API and turns failures into
// *Error with a reason. Platform packages give it the platform's error
// shape through Refine.
type Caller struct {
	Platform ID
	HTTP     *http.Client
	BaseURL  string
	// Refine reads the platform's error body and sets Reason, Code and
	// Message more precisely than the status alone can. Optional.
	Refine func(e *Error, body []byte)
	// MaxTries bounds attempts of idempotent calls on retryable failures
	// (3 when zero). Non-idempotent calls are tried once.
	MaxTries uint
	// MaxWait is the longest Retry-After the caller waits for in-line; a
	// longer one is returned to the caller (2 s when zero).
	MaxWait time.Duration
	// Attempted, when set, is told of every attempt once it is answered
	// or has failed, with its error (a metered platform counts each one:
	// a retry costs again).
	Attempted func(ctx context.Context, r Request, err error)
}

// Request is one call.
type Request struct {
	Op         string // for messages: "create broadcast"
	Method     string
	Path       string // joined to BaseURL, or an absolute URL
	Query      url.Values
	Token      string // sent as Authorization: Bearer
	Header     http.Header
	JSON       any        // body, encoded as JSON
	Form       url.Values // body, form-encoded (instead of JSON)
	Raw        []byte     // body as is (instead of JSON or Form)
	Out        any        // decoded from a 2xx JSON answer when not nil
	Idempotent bool       // safe to repeat: retried on transient failures
	// Secrets are values the request carries besides Token (a key in the
	// body or query) that must never appear in an error: Do redacts them,
	// and Token, from every error it returns.
	Secrets []string
}

// Response is what a successful call answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do runs the request, with bounded retries when it is idempotent. Its
// errors carry neither the request's Token nor its Secrets, whatever the
// platform echoed back: redaction happens here, once, for every client.
func (c *Caller) Do(ctx context.Context, r Request) (*Response, error) {
	resp, err := c.retry(ctx, r)
	if err != nil {
		return nil, Redact(err, append([]string{r.Token}, r.Secrets...)...)
	}
	return resp, nil
}

func (c *Caller) retry(ctx context.Context, r Request) (*Response, error) {
	tries := c.MaxTries
	if tries == 0 {
		tries = 3
	}
	if !r.Idempotent {
		tries = 1
	}
	maxWait := c.MaxWait
	if maxWait == 0 {
		maxWait = 2 * time.Second
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 100 * time.Millisecond
	b.MaxInterval = time.Second
	return backoff.Retry(ctx, func() (*Response, error) {
		resp, err := c.once(ctx, r)
		if c.Attempted != nil {
			c.Attempted(ctx, r, err)
		}
		if err == nil {
			return resp, nil
		}
		var pe *Error
		if !errors.As(err, &pe) || !pe.Retryable() || pe.Reason == ReasonQuota {
			return nil, backoff.Permanent(err)
		}
		if pe.RetryAfter > maxWait {
			return nil, backoff.Permanent(err)
		}
		if pe.RetryAfter > 0 {
			return nil, retryAfterErr{ra: &backoff.RetryAfterError{Duration: pe.RetryAfter}, cause: err}
		}
		return nil, err
	}, backoff.WithBackOff(b), backoff.WithMaxTries(tries), backoff.WithMaxElapsedTime(15*time.Second))
}

// retryAfterErr tells backoff how long to wait while keeping the cause.
type retryAfterErr struct {
	ra    *backoff.RetryAfterError
	cause error
}

func (e retryAfterErr) Error() string   { return e.cause.Error() }
func (e retryAfterErr) Unwrap() []error { return []error{e.ra, e.cause} }

func (c *Caller) once(ctx context.Context, r Request) (*Response, error) {
	target := r.Path
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = c.BaseURL + r.Path
	}
	if len(r.Query) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + r.Query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch {
	case r.Raw != nil:
		body = bytes.NewReader(r.Raw)
	case r.Form != nil:
		body, contentType = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
	case r.JSON != nil:
		raw, err := json.Marshal(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding %s: %w", c.Platform, r.Op, err)
		}
		body, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, target, body)
	if err != nil {
		return nil, &Error{Platform: c.Platform, Op: r.Op, Reason: ReasonInvalid, Message: "bad request URL", Err: err}
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &Error{Platform: c.Platform, Op: r.Op, Reason: ReasonTransient, Message: transportMessage(err), Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &Error{Platform: c.Platform, Op: r.Op, Status: resp.StatusCode, Reason: ReasonTransient, Message: "the answer was cut off", Err: err}
	}
	if resp.StatusCode >= 300 {
		e := &Error{Platform: c.Platform, Op: r.Op, Status: resp.StatusCode, Reason: ReasonForStatus(resp.StatusCode),
			RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		if c.Refine != nil {
			c.Refine(e, raw)
		}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return nil, e
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if r.Out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, r.Out); err != nil {
			return nil, &Error{Platform: c.Platform, Op: r.Op, Status: resp.StatusCode, Reason: ReasonTransient,
				Message: "the answer was not the JSON expected", Err: err}
		}
	}
	if c.Refine != nil && resp.StatusCode == http.StatusOK {
		// Some APIs (GraphQL) report failures inside a 200.
		e := &Error{Platform: c.Platform, Op: r.Op, Status: resp.StatusCode}
		c.Refine(e, raw)
		if e.Reason != "" {
			return nil, e
		}
	}
	return out, nil
}

// ReasonForStatus is the reason an HTTP status gives when the platform's
// body says nothing more precise.
func ReasonForStatus(status int) Reason {
	switch {
	case status == http.StatusUnauthorized:
		return ReasonExpiredToken
	case status == http.StatusForbidden:
		return ReasonPermission
	case status == http.StatusNotFound || status == http.StatusGone:
		return ReasonNotFound
	case status == http.StatusConflict:
		return ReasonConflict
	case status == http.StatusTooManyRequests:
		return ReasonRateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return ReasonTransient
	default:
		return ReasonInvalid
	}
}

// ParseRetryAfter reads a Retry-After header (seconds or an HTTP date).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func transportMessage(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	default:
		return "could not reach the platform"
	}
}
