package connection_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// renderKeys stands in for Render's whoami: "rnd_good" is a live key.
func renderKeys(_ context.Context, c connection.Credentials) (platform.Account, error) {
	if c.APIKey != "rnd_good" {
		return platform.Account{}, &platform.Error{Platform: "render", Op: "read the account", Status: 401, Reason: platform.ReasonExpiredToken, Message: "invalid API key"}
	}
	return platform.Account{ID: "owner@example.com", Name: "Owner"}, nil
}

func TestAPIKeyIsVerifiedSealedAndConnected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{keys: map[platform.ID]connection.KeyVerifier{"render": renderKeys}})
	c, err := e.svc.ConnectWithKey(context.Background(), e.id, "render", map[string]string{"apiKey": "rnd_good"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != connection.StatusConnected || c.AuthType != connection.AuthAPIKey || c.AccountID != "owner@example.com" {
		t.Fatalf("%+v", c)
	}
	if e.creds("render").APIKey != "rnd_good" || strings.Contains(e.rawItem("render"), "rnd_good") {
		t.Fatal("the key must be stored sealed, and only sealed")
	}
	if c.NextCheckAt.Sub(c.LastVerifiedAt).Hours() != 24 {
		t.Fatalf("keys are re-verified daily; next check %s after verification", c.NextCheckAt.Sub(c.LastVerifiedAt))
	}
}

func TestBadAPIKeyIs422WithThePlatformsReasonAndStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{keys: map[platform.ID]connection.KeyVerifier{"render": renderKeys}})
	_, err := e.svc.ConnectWithKey(context.Background(), e.id, "render", map[string]string{"apiKey": "rnd_revoked"})
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Unprocessable || !strings.Contains(ae.Detail, "invalid API key") || ae.Fields["reason"] != "expired_token" {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "rnd_revoked") {
		t.Fatal("the refused key is echoed in the error")
	}
	if _, err := e.svc.Get(context.Background(), e.id.Tenant, "render"); apperr.KindOf(err) != apperr.NotFound {
		t.Fatal("a refused key created a connection")
	}
}

func TestKeyRoutesRefuseWhatTheyDoNotTake(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{keys: map[platform.ID]connection.KeyVerifier{"render": renderKeys}})
	cases := []struct {
		platform string
		input    map[string]string
		kind     apperr.Kind
		code     string
	}{
		{"youtube", map[string]string{"apiKey": "x"}, apperr.Conflict, "oauth_required"},
		{"render", map[string]string{"password": "x"}, apperr.Invalid, "invalid_credentials"},
		{"render", map[string]string{}, apperr.Invalid, "invalid_credentials"},
		{"nope", map[string]string{}, apperr.NotFound, "unknown_platform"},
	}
	for _, c := range cases {
		_, err := e.svc.ConnectWithKey(context.Background(), e.id, c.platform, c.input)
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != c.kind || string(ae.Code) != c.code {
			t.Errorf("%s %v: got %v, want %s", c.platform, c.input, err, c.code)
		}
	}
}

func TestPublicJitsiNeedsNoCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	c, err := e.svc.ConnectWithKey(context.Background(), e.id, "jitsi", map[string]string{})
	if err != nil || c.AuthType != connection.AuthNone || c.Status != connection.StatusConnected || len(c.Sealed) != 0 {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestRevokedKeyFoundByDailyCheckExpiresTheConnection(t *testing.T) {
	t.Parallel()
	var revoked atomic.Bool
	verify := func(ctx context.Context, c connection.Credentials) (platform.Account, error) {
		if revoked.Load() {
			return renderKeys(ctx, connection.Credentials{APIKey: "revoked"})
		}
		return renderKeys(ctx, c)
	}
	e := newEnv(t, envOpts{keys: map[platform.ID]connection.KeyVerifier{"render": verify}})
	ctx := context.Background()
	if _, err := e.svc.ConnectWithKey(ctx, e.id, "render", map[string]string{"apiKey": "rnd_good"}); err != nil {
		t.Fatal(err)
	}
	revoked.Store(true)
	e.clock.Advance(25 * time.Hour)
	rep, err := e.svc.RefreshDue(ctx, 2)
	if err != nil || rep.Found != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	c, _ := e.svc.Get(ctx, e.id.Tenant, "render")
	if c.Status != connection.StatusExpired || c.LastError == nil {
		t.Fatalf("%+v", c)
	}
}
