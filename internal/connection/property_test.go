package connection_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// allowed says which status changes an action may cause. Anything else is
// a bug: e.g. a transient failure must never move a connection.
var allowed = map[string]map[connection.Status][]connection.Status{
	"connect":      {"": {"connected"}, "connected": {"connected"}, "expired": {"connected"}, "disconnected": {"connected"}, "error": {"connected"}},
	"use":          {"connected": {"connected"}, "expired": {"expired"}, "disconnected": {"disconnected"}, "": {""}},
	"revokeGrant":  {"connected": {"connected", "expired"}, "expired": {"expired"}, "disconnected": {"disconnected"}, "": {""}},
	"platform503":  {"connected": {"connected"}, "expired": {"expired"}, "disconnected": {"disconnected"}, "": {""}},
	"unauthorized": {"connected": {"expired"}, "expired": {"expired"}, "disconnected": {"disconnected"}, "": {""}},
	"disconnect":   {"connected": {"disconnected"}, "expired": {"disconnected"}, "disconnected": {"disconnected"}, "": {""}},
	"refreshNow":   {"connected": {"connected", "expired"}, "expired": {"expired", "connected"}, "disconnected": {"disconnected"}, "": {""}},
}

// Whatever happens to a connection, in any order: a connected connection
// has non-empty credentials that open, a disconnected one has none, and
// every status change is one the action may cause.
func TestConnectedAlwaysMeansDecryptableCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	actions := []string{"connect", "use", "revokeGrant", "platform503", "unauthorized", "disconnect", "refreshNow"}
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		ee := *e
		ee.id.Tenant = fmt.Sprintf("prop-%d", run)
		seq := rapid.SliceOfN(rapid.SampledFrom(actions), 1, 8).Draw(rt, "actions")
		status := connection.Status("")
		for i, act := range seq {
			switch act {
			case "connect":
				ee.connect("zoom")
			case "use":
				ee.clock.Advance(59 * time.Minute)
				_, _ = ee.svc.Token(ctx, ee.id.Tenant, "zoom")
			case "revokeGrant":
				if c, err := ee.svc.Get(ctx, ee.id.Tenant, "zoom"); err == nil && len(c.Sealed) > 0 {
					_ = ee.oauth.KillRefresh(ctx, ee.creds("zoom").RefreshToken)
				}
				ee.clock.Advance(59 * time.Minute)
				_, _ = ee.svc.Token(ctx, ee.id.Tenant, "zoom")
			case "platform503":
				// Injected only where a refresh will use it up: a failure left
				// over would hit a later step's (or iteration's) refresh.
				if status != connection.StatusConnected {
					break
				}
				_ = ee.oauth.Fail(ctx, oauthmock.Failure{Grant: "refresh_token", ClientID: ee.clientID, Status: http.StatusServiceUnavailable, Count: 1})
				ee.clock.Advance(59 * time.Minute)
				_, _ = ee.svc.Token(ctx, ee.id.Tenant, "zoom")
				_, _ = ee.svc.Refresh(ctx, ee.id.Tenant, "zoom")
			case "unauthorized":
				_ = ee.svc.ReportUnauthorized(ctx, ee.id.Tenant, "zoom", "401")
			case "disconnect":
				_, _ = ee.svc.Disconnect(ctx, ee.id.Tenant, "zoom")
			case "refreshNow":
				_, _ = ee.svc.Refresh(ctx, ee.id.Tenant, "zoom")
			}
			c, err := ee.svc.Get(ctx, ee.id.Tenant, "zoom")
			now := connection.Status("")
			if err == nil {
				now = c.Status
			} else if apperr.KindOf(err) != apperr.NotFound {
				rt.Fatalf("step %d %s: %v", i, act, err)
			}
			ok := false
			for _, s := range allowed[act][status] {
				ok = ok || s == now
			}
			if !ok {
				rt.Fatalf("step %d %s moved %q to %q", i, act, status, now)
			}
			status = now
			switch now {
			case connection.StatusConnected:
				raw, err := ee.vault.Open(ctx, c.Sealed, vault.Context(ee.id.Tenant, "zoom", vault.PurposeTokenSet, "connection"))
				if err != nil || len(raw) < 10 {
					rt.Fatalf("step %d %s: connected without decryptable credentials: %v", i, act, err)
				}
				if cr := ee.creds("zoom"); cr.AccessToken == "" || cr.RefreshToken == "" {
					rt.Fatalf("step %d %s: connected with empty credentials", i, act)
				}
			case connection.StatusDisconnected:
				if len(c.Sealed) != 0 {
					rt.Fatalf("step %d %s: disconnected but credentials kept", i, act)
				}
			}
		}
	})
}
