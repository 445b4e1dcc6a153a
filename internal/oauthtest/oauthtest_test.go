package oauthtest_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
)

func TestNewServersAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := oauthtest.New(t), oauthtest.New(t)
	if a.URL == b.URL {
		t.Fatalf("two New servers share %s", a.URL)
	}
	oauthtest.Configure(t, a, map[string]oauthmock.ClientConfig{"c": {AuthStyle: oauthmock.AuthBasic}})

	q := url.Values{"response_type": {"code"}, "client_id": {"c"}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "state": {"s1"}}
	code, state := oauthtest.Authorize(t, a.AuthorizeURL()+"?"+q.Encode())
	if code == "" || state != "s1" {
		t.Fatalf("code %q state %q", code, state)
	}

	ctx := context.Background()
	sa, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sa.AuthorizeRequests) != 1 || len(sb.AuthorizeRequests) != 0 {
		t.Errorf("authorize requests: a %d, b %d", len(sa.AuthorizeRequests), len(sb.AuthorizeRequests))
	}
}

func TestStartIsShared(t *testing.T) {
	t.Parallel()
	first, second := oauthtest.Start(t), oauthtest.Start(t)
	if first != second {
		t.Fatal("Start gave two servers")
	}
}
