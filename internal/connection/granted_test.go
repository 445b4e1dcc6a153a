package connection_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
)

// grantReader is a platform.GrantReader answering what it is given.
type grantReader func(ctx context.Context, token string) ([]string, error)

func (f grantReader) GrantedScopes(ctx context.Context, token string) ([]string, error) {
	return f(ctx, token)
}

// callbackWith runs an OAuth flow of Railway through a service whose grant
// reader for Railway is gr.
func callbackWith(t *testing.T, gr platform.GrantReader) (*env, connection.CallbackResult) {
	t.Helper()
	e := newEnv(t, envOpts{platform: railway.ID})
	e.cfg.Grants = map[platform.ID]platform.GrantReader{railway.ID: gr}
	e.svc = connection.New(e.cfg)
	ctx := context.Background()
	start, err := e.svc.StartOAuth(ctx, e.id, "railway", "https://app.example.com/integrations")
	if err != nil {
		t.Fatal(err)
	}
	code, state := oauthtest.Authorize(t, start.AuthorizeURL)
	res, err := e.svc.Callback(ctx, "railway", url.Values{"code": {code}, "state": {state}})
	if err != nil {
		t.Fatal(err)
	}
	return e, res
}

func TestAGrantReaderDecidesWhatWasGrantedOverTheTokenAnswer(t *testing.T) {
	t.Parallel()
	var sawToken string
	e, res := callbackWith(t, grantReader(func(_ context.Context, token string) ([]string, error) {
		sawToken = token
		return []string{"openid", "email", "profile", "offline_access", "project:member"}, nil // no workspace:member
	}))
	if res.ErrorCode != string(apperr.CodeMissingScopes) || !slices.Equal(res.MissingScopes, []string{"workspace:member"}) {
		t.Fatalf("outcome %s %v: the token answer granted everything, the reader did not", res.ErrorCode, res.MissingScopes)
	}
	if sawToken == "" {
		t.Fatal("the reader was not given the new access token")
	}
	c, err := e.svc.View(context.Background(), e.id.Tenant, "railway")
	if err != nil || c.Status != connection.StatusError || c.LastError == nil || c.LastError.Code != string(apperr.CodeMissingScopes) {
		t.Fatalf("stored %+v, %v", c, err)
	}
}

func TestAGrantReaderThatFailsConnectsNothingAndNeverShowsTheToken(t *testing.T) {
	t.Parallel()
	var sawToken string
	e, res := callbackWith(t, grantReader(func(_ context.Context, token string) ([]string, error) {
		sawToken = token
		return nil, &platform.Error{Platform: railway.ID, Op: "read the granted permissions", Reason: platform.ReasonTransient,
			Message: "upstream said no to " + token}
	}))
	if res.ErrorCode != string(apperr.CodeAccountUnreadable) || res.ErrorCause == nil {
		t.Fatalf("outcome %s %v", res.ErrorCode, res.ErrorCause)
	}
	if sawToken == "" || strings.Contains(res.ErrorCause.Error(), sawToken) {
		t.Fatalf("the error shows the token: %v", res.ErrorCause)
	}
	if _, err := e.svc.View(context.Background(), e.id.Tenant, "railway"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a connection was stored: %v", err)
	}
}
