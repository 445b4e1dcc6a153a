package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// A function whose routes are not all wired does not start: the missing
// service, or a creating route's missing idempotency store, is an error
// naming the route at cold start, not a 501 (or an ignored
// Idempotency-Key) at run time.
func TestBuildRefusesAFunctionWhoseWiringIsMissing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, function string
		svc            httpapi.Services
		want           []string
	}{
		{"no services", httpapi.FnMeetings, httpapi.Services{}, []string{"GET /meetings has no handler", "POST /meetings creates"}},
		{"no idempotency store", httpapi.FnConnections,
			httpapi.Services{Platforms: emptyCatalog{}, Connections: &keyRecorder{}}, []string{"POST /connections/{platform} creates"}},
		{"no catalog", httpapi.FnConnections,
			httpapi.Services{Connections: &keyRecorder{}, Idempotency: nopKeys{}}, []string{"GET /platforms has no handler"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := httpapi.Build(httpapi.Config{Function: c.function}, c.svc)
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
		})
	}
	if _, err := httpapi.Build(httpapi.Config{Function: httpapi.FnConnections},
		httpapi.Services{Platforms: emptyCatalog{}, Connections: &keyRecorder{}, ConnectSessions: noSessions{}, Idempotency: nopKeys{}}); err != nil {
		t.Fatalf("a wired connections function: %v", err)
	}
}

// POST /connections/{platform} honours Idempotency-Key: the same key and
// body answer the first answer again without connecting a second time.
func TestCreateConnectionReplaysItsFirstAnswerForTheSameKey(t *testing.T) {
	t.Parallel()
	conns := &countingConnector{}
	api, err := httpapi.Build(httpapi.Config{Function: httpapi.FnConnections},
		httpapi.Services{Platforms: emptyCatalog{}, Connections: conns, ConnectSessions: noSessions{}, Idempotency: &oneKey{}})
	if err != nil {
		t.Fatal(err)
	}
	post := func() (int, string) {
		ev := apitest.Event("POST", "/connections/vercel", apitest.As("t1", "u1"),
			apitest.Body(`{"credentials":{"token":"vercel-token"}}`), apitest.Header("Idempotency-Key", "k1"))
		resp, _ := api.Handle(context.Background(), ev)
		return resp.StatusCode, resp.Headers["Idempotent-Replayed"]
	}
	if status, replayed := post(); status != 201 || replayed != "" {
		t.Fatalf("first: %d replayed %q", status, replayed)
	}
	if status, replayed := post(); status != 201 || replayed != "true" {
		t.Fatalf("again: %d replayed %q, want the first answer replayed", status, replayed)
	}
	if conns.calls != 1 {
		t.Fatalf("connected %d times, want once", conns.calls)
	}
	other := apitest.Event("POST", "/connections/vercel", apitest.As("t1", "u1"),
		apitest.Body(`{"credentials":{"token":"another-token"}}`), apitest.Header("Idempotency-Key", "k1"))
	if resp, _ := api.Handle(context.Background(), other); resp.StatusCode != 422 || conns.calls != 1 {
		t.Fatalf("the same key with another body: %d after %d connects, want 422 and no connect", resp.StatusCode, conns.calls)
	}
}

type countingConnector struct {
	keyRecorder
	calls int
}

func (c *countingConnector) ConnectWithKey(ctx context.Context, id connection.Identity, p string, in map[string]string) (*connection.Connection, error) {
	c.calls++
	return c.keyRecorder.ConnectWithKey(ctx, id, p, in)
}

type emptyCatalog struct{}

func (emptyCatalog) List() []platform.Listing { return nil }

// nopKeys is an idempotency store that never has an answer.
type nopKeys struct{}

func (nopKeys) Begin(context.Context, string, string, string, string, time.Time) (*idempotency.Response, error) {
	return nil, nil
}
func (nopKeys) Finish(context.Context, string, string, string, idempotency.Response, time.Time) error {
	return nil
}
func (nopKeys) Abandon(context.Context, string, string, string) error { return nil }

// oneKey keeps the answer for one request: the same request hash replays
// it, another is refused as the store refuses it.
type oneKey struct {
	mu   sync.Mutex
	hash string
	kept *idempotency.Response
}

func (o *oneKey) Begin(_ context.Context, _, _, _, hash string, _ time.Time) (*idempotency.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.hash == "" {
		o.hash = hash
		return nil, nil
	}
	if o.hash != hash {
		return nil, idempotency.Reused()
	}
	return o.kept, nil
}

func (o *oneKey) Finish(_ context.Context, _, _, _ string, resp idempotency.Response, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.kept = &resp
	return nil
}

func (o *oneKey) Abandon(context.Context, string, string, string) error { return nil }

// noSessions wires the connect page's routes of a connections function
// whose test does not call them.
type noSessions struct{ httpapi.ConnectSessionService }
