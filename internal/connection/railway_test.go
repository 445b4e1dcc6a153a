package connection_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/railway"
	"github.com/switchboard-dev/switchboard/internal/platform/railway/railwayfake"
)

// railwayEnv is the connection service with Railway's real client on its
// fake as the account reader.
func railwayEnv(t *testing.T) (*env, *railwayfake.Server) {
	t.Helper()
	e := newEnv(t, envOpts{platform: railway.ID})
	fake := railwayfake.New()
	t.Cleanup(fake.Close)
	accts := map[platform.ID]connection.AccountReader{}
	for k, v := range e.cfg.Accounts {
		accts[k] = v
	}
	accts[railway.ID] = railway.New(&http.Client{Timeout: 10 * time.Second}, fake.APIURL())
	e.cfg.Accounts = accts
	e.svc = connection.New(e.cfg)
	return e, fake
}

func TestARailwayConnectionRecordsItsWorkspacesAndADefault(t *testing.T) {
	t.Parallel()
	e, _ := railwayEnv(t)
	c := e.connect(railway.ID)
	if len(c.Workspaces) != 2 || c.Workspaces[0].ID != railwayfake.PersonalWorkspace || c.Workspaces[0].Name == "" ||
		c.DefaultWorkspace != railwayfake.PersonalWorkspace {
		t.Fatalf("workspaces %+v, default %q", c.Workspaces, c.DefaultWorkspace)
	}
	if got := e.creds(railway.ID).Extra[connection.ExtraTeam]; got != railwayfake.PersonalWorkspace {
		t.Errorf("the credentials' default workspace is %q", got)
	}
	stored, err := e.svc.Get(context.Background(), e.id.Tenant, "railway")
	if err != nil || len(stored.Workspaces) != 2 || stored.DefaultWorkspace != c.DefaultWorkspace {
		t.Fatalf("stored %+v %v", stored, err)
	}
}

func TestRenewRefreshesARefusedRailwayTokenOnceAndConfirmRefusalAsksMe(t *testing.T) {
	t.Parallel()
	e, fake := railwayEnv(t)
	e.connect(railway.ID)
	ctx := context.Background()
	refused := e.creds(railway.ID).AccessToken
	// The mock's tokens are JWTs stamped to the second: a refresh within
	// the second of the grant would answer the same string.
	time.Sleep(1100 * time.Millisecond)
	fresh, err := e.svc.Renew(ctx, e.id.Tenant, railway.ID, refused)
	if err != nil || fresh.AccessToken == "" || fresh.AccessToken == refused {
		t.Fatalf("Renew = %v, %v: no new token", fresh.AccessToken == refused, err)
	}
	// A caller that still holds the refused token gets the new one
	// without a second refresh.
	again, err := e.svc.Renew(ctx, e.id.Tenant, railway.ID, refused)
	if err != nil || again.AccessToken != fresh.AccessToken || e.stats().TokenRequests.RefreshToken != 1 {
		t.Fatalf("second Renew: %v, %d refreshes", err, e.stats().TokenRequests.RefreshToken)
	}
	// me still answers: the refusal was about a resource.
	accepted, err := e.svc.ConfirmRefusal(ctx, e.id.Tenant, railway.ID, "Not Authorized (workspace ws-x)")
	if err != nil || !accepted {
		t.Fatalf("ConfirmRefusal = %v, %v", accepted, err)
	}
	if c, _ := e.svc.Get(ctx, e.id.Tenant, "railway"); c.Status != connection.StatusConnected || c.LastError != nil {
		t.Fatalf("connection %s %+v", c.Status, c.LastError)
	}
	// me refuses too: the connection has expired.
	fake.RejectToken(fresh.AccessToken)
	accepted, err = e.svc.ConfirmRefusal(ctx, e.id.Tenant, railway.ID, "Not Authorized")
	if err != nil || accepted {
		t.Fatalf("ConfirmRefusal after the token died = %v, %v", accepted, err)
	}
	if c, _ := e.svc.Get(ctx, e.id.Tenant, "railway"); c.Status != connection.StatusExpired {
		t.Fatalf("connection %s", c.Status)
	}
}
