package connection_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// slowTokenAnswers stands in front of a token endpoint: each request reaches
// the platform at once (so a refresh token rotates there), and the answer
// comes back after delay. issued receives each token pair the platform
// answered, before the delay.
type slowTokenAnswers struct {
	URL    string
	issued chan tokenPair
}

type tokenPair struct{ access, refresh string }

func newSlowTokenAnswers(t *testing.T, upstream string, delay time.Duration) *slowTokenAnswers {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	s := &slowTokenAnswers{issued: make(chan tokenPair, 8)}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.Out.URL, r.Out.Host = target, target.Host },
		ModifyResponse: func(res *http.Response) error {
			body, err := io.ReadAll(res.Body)
			if err != nil {
				return err
			}
			res.Body = io.NopCloser(bytes.NewReader(body))
			var tok struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
				s.issued <- tokenPair{tok.AccessToken, tok.RefreshToken}
			}
			time.Sleep(delay)
			return nil
		},
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func TestDisconnectDuringARefreshRevokesTheRotatedCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID}) // the mock rotates refresh tokens, as Zoom does
	e.connect("zoom")
	ctx := context.Background()
	slow := newSlowTokenAnswers(t, e.oauth.TokenURL(), 700*time.Millisecond)
	e2 := e.withEndpoint(zoom.ID, func(ep *platform.Endpoints) { ep.TokenURL = slow.URL })
	e.clock.Advance(59 * time.Minute) // within the refresh margin

	var (
		wg       sync.WaitGroup
		tokenErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, tokenErr = e2.svc.Token(ctx, e.id.Tenant, "zoom")
	}()
	var newest tokenPair
	select {
	case newest = <-slow.issued: // rotated at the platform; the answer is on its way
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh never reached the platform")
	}
	if _, err := e2.svc.Disconnect(ctx, e.id.Tenant, "zoom"); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	wg.Wait()
	if tokenErr != nil {
		t.Fatalf("the refresh in flight failed: %v", tokenErr)
	}
	// Whichever token the platform's revocation takes (Zoom's is the access
	// token), it is one of the pair the refresh brought, never an older one.
	revs := e.stats().Revocations
	if len(revs) == 0 {
		t.Fatal("nothing was revoked")
	}
	for _, r := range revs {
		if r.Token != newest.access && r.Token != newest.refresh {
			t.Fatalf("the platform was told to revoke %s %q, not the credentials the refresh rotated to", r.TokenKind, r.Token)
		}
	}
	c, err := e.svc.Get(ctx, e.id.Tenant, "zoom")
	if err != nil || c.Status != connection.StatusDisconnected || len(c.Sealed) != 0 || c.LeaseOwner != "" {
		t.Fatalf("after disconnect: %+v %v", c, err)
	}
	// No refresh starts after the disconnect won.
	if _, err := e2.svc.Token(ctx, e.id.Tenant, "zoom"); err == nil {
		t.Fatal("a disconnected connection still hands out a token")
	}
}
