package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

// memKeys is an IdempotencyStore in memory with the store's semantics
// (store.IdempotencyKeys is tested against DynamoDB Local in its package).
type memKeys struct {
	mu   sync.Mutex
	done map[string]idempotency.Response
	busy map[string]bool
}

func newMemKeys() *memKeys {
	return &memKeys{done: map[string]idempotency.Response{}, busy: map[string]bool{}}
}

func (m *memKeys) Begin(_ context.Context, tenant, scope, key, _ string, _ time.Time) (*idempotency.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := tenant + "/" + scope + "/" + key
	if r, ok := m.done[k]; ok {
		return &r, nil
	}
	if m.busy[k] {
		return nil, idempotency.InProgress()
	}
	m.busy[k] = true
	return nil, nil
}

func (m *memKeys) Finish(_ context.Context, tenant, scope, key string, resp idempotency.Response, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := tenant + "/" + scope + "/" + key
	delete(m.busy, k)
	m.done[k] = resp
	return nil
}

func (m *memKeys) Abandon(_ context.Context, tenant, scope, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.busy, tenant+"/"+scope+"/"+key)
	return nil
}

// answers is a createLivestream stand-in that answers each call with the
// next of its answers and counts the calls.
type answers struct {
	calls int
	next  []func() (*Response, error)
}

func (s *answers) handle(context.Context, *Request) (*Response, error) {
	s.calls++
	return s.next[min(s.calls, len(s.next))-1]()
}

func answer(status int) func() (*Response, error) {
	return func() (*Response, error) { return JSON(status, map[string]int{"n": status}), nil }
}

func failure(e *apperr.Error) func() (*Response, error) {
	return func() (*Response, error) { return nil, e }
}

func TestIdempotencyKeepsOnlyAnswersARetryWouldRepeat(t *testing.T) {
	t.Parallel()
	notConnected := apperr.E(apperr.Conflict, "not_connected", "connect youtube first")
	limited := apperr.E(apperr.RateLimited, "rate_limited", "slow down")
	limited.RetryAfter = time.Minute
	cases := []struct {
		name   string
		first  func() (*Response, error)
		replay bool
	}{
		{"created", answer(http.StatusCreated), true},
		{"accepted", answer(http.StatusAccepted), true},
		{"malformed body", failure(apperr.E(apperr.Invalid, "invalid_body", "title is required")), true},
		{"body too large", failure(apperr.E(apperr.TooLarge, "body_too_large", "too big")), true},
		{"not connected yet", failure(notConnected), false},
		{"not found", failure(apperr.E(apperr.NotFound, "not_found", "no such deployment")), false},
		{"platform refused", failure(apperr.E(apperr.Unprocessable, "platform_refused", "try later")), false},
		{"rate limited", failure(limited), false},
		{"rate limited as an answer", answer(http.StatusTooManyRequests), false},
		{"internal", failure(apperr.Wrap(apperr.Internal, "internal_error", "", errors.New("boom"))), false},
		{"unavailable", failure(apperr.E(apperr.Unavailable, "unavailable", "dynamodb throttled")), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := New(Config{}, Services{Idempotency: newMemKeys()})
			h := &answers{next: []func() (*Response, error){c.first, answer(http.StatusCreated)}}
			api.serveWith("createLivestream", api.idempotent(h.handle))
			ev := apitest.Event("POST", "/livestreams", apitest.As("t", "u"), apitest.Body(`{"title":"x"}`), apitest.Header("Idempotency-Key", "k1"))
			first, _ := api.Handle(context.Background(), ev)
			second, _ := api.Handle(context.Background(), ev)
			replayed := second.Headers["Idempotent-Replayed"] == "true"
			if replayed != c.replay || (h.calls == 1) != c.replay {
				t.Fatalf("first %d, second %d (replayed %v), handler ran %d times; want replayed %v", first.StatusCode, second.StatusCode, replayed, h.calls, c.replay)
			}
			if replayed && (second.StatusCode != first.StatusCode || second.Body != first.Body) {
				t.Fatalf("the replay %d %s differs from the first answer %d %s", second.StatusCode, second.Body, first.StatusCode, first.Body)
			}
			if !replayed && second.StatusCode != http.StatusCreated {
				t.Fatalf("the retry ran again but answered %d %s", second.StatusCode, second.Body)
			}
		})
	}
}

// A 5xx's cause is only in the log (the answer hides it), with or without
// an Idempotency-Key, on every route kind.
func TestEvery5xxLogsItsCause(t *testing.T) {
	t.Parallel()
	for _, withKey := range []bool{false, true} {
		for _, route := range []struct{ method, path, op string }{
			{"POST", "/livestreams", "createLivestream"},
			{"POST", "/meetings", "createMeeting"},
			{"GET", "/livestreams/ls1", "getLivestream"},
		} {
			var logs bytes.Buffer
			api := New(Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, Services{Idempotency: newMemKeys()})
			cause := apperr.Wrap(apperr.Internal, "internal_error", "", errors.New("dynamodb said cause-7f3a"))
			h := &answers{next: []func() (*Response, error){failure(cause)}}
			api.serveWith(route.op, api.idempotent(h.handle))
			opts := []apitest.Option{apitest.As("t", "u"), apitest.Body(`{"title":"x"}`)}
			if withKey {
				opts = append(opts, apitest.Header("Idempotency-Key", "k1"))
			}
			resp, _ := api.Handle(context.Background(), apitest.Event(route.method, route.path, opts...))
			if resp.StatusCode != 500 || strings.Contains(resp.Body, "cause-7f3a") {
				t.Fatalf("%s %s: answer %d %s", route.method, route.path, resp.StatusCode, resp.Body)
			}
			logged := false
			for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if rec["level"] == "ERROR" && strings.Contains(rec["error"].(string), "cause-7f3a") && rec["request_id"] == "req-test" {
					logged = true
				}
			}
			if !logged {
				t.Errorf("%s %s with key %v: no ERROR line with the cause and request id:\n%s", route.method, route.path, withKey, logs.String())
			}
		}
	}
}

func TestKeepIsTheDocumentedRule(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{200: true, 201: true, 202: true, 400: true, 413: true, 415: true,
		401: false, 404: false, 409: false, 422: false, 429: false, 500: false, 502: false, 503: false} {
		if idempotency.Keep(status) != want {
			t.Errorf("Keep(%d) = %v, want %v", status, !want, want)
		}
	}
}
