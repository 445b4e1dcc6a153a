// Package oauthtest gives tests the OAuth mock (internal/oauthmock). Start
// shares one server among the tests of a binary; New starts a server of the
// test's own, with its own stats, failures and delays, and stops it when the
// test ends (a start costs about a third of a second). When the server cannot
// start, the test fails: it is never skipped.
package oauthtest

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/oauthmock"
)

const startTimeout = 2 * time.Minute // room for a first npm ci

var shared struct {
	once sync.Once
	srv  *oauthmock.Server
	err  error
}

// Start returns the server shared by every test of the binary, starting it
// on first use. It lives until the binary exits (Pdeathsig ends it). Stats,
// failures and delays are the server's, so tests on it that run in parallel
// should use their own client ids, read Server.ClientStats and give Fail a
// ClientID; tests that need the whole server use New.
func Start(t testing.TB) *oauthmock.Server {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		shared.srv, shared.err = oauthmock.Start(ctx, oauthmock.Options{})
	})
	if shared.err != nil {
		t.Fatalf("oauthtest: the OAuth mock is required and could not start: %v", shared.err)
	}
	return shared.srv
}

// New starts a server for this test alone and stops it in t.Cleanup.
func New(t testing.TB) *oauthmock.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	srv, err := oauthmock.Start(ctx, oauthmock.Options{})
	if err != nil {
		t.Fatalf("oauthtest: the OAuth mock is required and could not start: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// Configure sets client behaviour and fails the test when the server refuses.
func Configure(t testing.TB, srv *oauthmock.Server, clients map[string]oauthmock.ClientConfig) {
	t.Helper()
	if err := srv.ConfigureClients(context.Background(), clients); err != nil {
		t.Fatalf("oauthtest: %v", err)
	}
}

// Authorize sends the browser's GET to authURL (an authorize URL on the
// mock, as a client built it) and returns the code and state the mock
// redirects back with, without following the redirect.
func Authorize(t testing.TB, authURL string) (code, state string) {
	t.Helper()
	c := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("oauthtest: GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("oauthtest: GET %s: %s, want a redirect", authURL, resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("oauthtest: redirect Location: %v", err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("oauthtest: the authorize redirect carries error=%s: %s", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		t.Fatalf("oauthtest: the authorize redirect %s has no code", loc)
	}
	return q.Get("code"), q.Get("state")
}
