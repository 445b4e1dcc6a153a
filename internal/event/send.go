package event

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Delivery limits.
const (
	// SendTimeout bounds one attempt, from dialling to the answer's
	// status: a slow endpoint fails in seconds and is tried again later.
	SendTimeout = 5 * time.Second
	// maxAnswerRead is how much of an answer's body is read (and thrown
	// away, so the connection can be reused); nothing of it is kept.
	maxAnswerRead = 64 << 10
	// MaxPayload caps what is sent; an event is far smaller.
	MaxPayload = 256 << 10
)

// Sender posts signed events to endpoints.
type Sender struct {
	client *http.Client
}

// NewSender is a Sender whose connections the guard checks at dial time.
// It follows no redirect, uses no proxy (a proxy would dial for it,
// unchecked) and gives up after SendTimeout.
func NewSender(g Guard) *Sender {
	dialer := &net.Dialer{Timeout: 3 * time.Second, Control: g.control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   3 * time.Second,
		ResponseHeaderTimeout: SendTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Sender{client: &http.Client{
		Transport: transport,
		Timeout:   SendTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Outcome is what one attempt came to. Nothing in it comes from the
// answer's body or headers but its status and Retry-After.
type Outcome struct {
	Status     int    // the answer's status; 0 when there was none
	Error      string // why it failed, in a few words (never a secret)
	OK         bool   // 2xx: delivered
	Retry      bool   // worth trying again (5xx, 408, 409, 429, no answer)
	RetryAfter time.Duration
}

// Send signs payload under each secret (the current one and, during a
// rotation's overlap, the previous one: the spec lets webhook-signature
// carry several) with the Standard Webhooks library and posts it.
func (s *Sender) Send(ctx context.Context, url, msgID string, at time.Time, payload []byte, secrets []string) Outcome {
	if len(payload) > MaxPayload {
		return Outcome{Error: "payload too large"}
	}
	var sigs []string
	for _, sec := range secrets {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			return Outcome{Error: "signing secret unreadable"}
		}
		sig, err := wh.Sign(msgID, at, payload)
		if err != nil {
			return Outcome{Error: "signing failed"}
		}
		sigs = append(sigs, sig)
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return Outcome{Error: "bad url"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, msgID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	resp, err := s.client.Do(req)
	if err != nil {
		return Outcome{Retry: true, Error: transportError(err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerRead))
	_ = resp.Body.Close()
	return classify(resp.StatusCode, resp.Header.Get("Retry-After"), time.Now())
}

// classify judges an answer: 2xx delivered; 5xx, 408, 409 and 429 tried
// again (Retry-After honoured); 410 and every other 4xx, and a redirect
// (never followed: trying again meets the same one), are final.
func classify(status int, retryAfter string, now time.Time) Outcome {
	o := Outcome{Status: status}
	switch {
	case status >= 200 && status < 300:
		o.OK = true
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusConflict, status == http.StatusTooManyRequests:
		o.Retry, o.Error = true, "status "+strconv.Itoa(status)
		o.RetryAfter = parseRetryAfter(retryAfter, now)
	case status == http.StatusGone:
		o.Error = "status 410: the endpoint is gone; not retried"
	case status >= 300 && status < 400:
		o.Error = "status " + strconv.Itoa(status) + ": redirects are not followed"
	default:
		o.Error = "status " + strconv.Itoa(status) + ": refused; not retried"
	}
	return o
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func transportError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrAddressNotAllowed):
		return "address not allowed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		var op *net.OpError
		if errors.As(err, &op) {
			return fmt.Sprintf("connection failed (%s)", op.Op)
		}
		return "connection failed"
	}
}

// retryDelays are the waits after each failed attempt, 27 h 35 min in all
// (over 24 h even at the low end of the jitter): Svix's documented retry
// schedule (docs "Retry Schedule": immediately, 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h; Svix wrote the Standard Webhooks spec). After the
// eighth attempt the delivery has failed.
var retryDelays = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// maxRetryAfter caps how far an endpoint's Retry-After can push a try.
const maxRetryAfter = 12 * time.Hour

// nextDelay is the wait after failed attempt n (1-based), ±10% jitter,
// at least Retry-After; ok is false when there is no next attempt.
func nextDelay(n int, retryAfter time.Duration, jitter func() float64) (time.Duration, bool) {
	if n < 1 || n > len(retryDelays) {
		return 0, false
	}
	d := retryDelays[n-1]
	d = time.Duration(float64(d) * (0.9 + 0.2*jitter()))
	return max(d, min(retryAfter, maxRetryAfter)), true
}

func randJitter() float64 { return rand.Float64() }
