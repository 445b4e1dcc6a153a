package connection_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

// getCounter is the real connection storage, counting its Gets.
type getCounter struct {
	connection.Repo
	gets atomic.Int32
}

func (g *getCounter) Get(ctx context.Context, tenant string, p platform.ID) (*connection.Connection, error) {
	g.gets.Add(1)
	return g.Repo.Get(ctx, tenant, p)
}

// POST /connections/{platform}/refresh reads the connection once: the
// connection it saved is what it answers (BENCHMARKS.md: read, take the
// lease, save; no read after).
func TestRefreshAnswersWhatItSavedWithoutReadingItAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{platform: zoom.ID})
	e.connect("zoom")
	ctx := context.Background()
	repo := &getCounter{Repo: e.store.Connections()}
	cfg := e.cfg
	cfg.Repo = repo
	got, err := connection.New(cfg).Refresh(ctx, e.id.Tenant, "zoom")
	if err != nil {
		t.Fatal(err)
	}
	if n := repo.gets.Load(); n != 1 {
		t.Errorf("the refresh read the connection %d times, want 1", n)
	}
	stored, err := e.store.Connections().Get(ctx, e.id.Tenant, zoom.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != stored.Version || got.Status != stored.Status || !got.ExpiresAt.Equal(stored.ExpiresAt) ||
		!got.LastRefreshedAt.Equal(stored.LastRefreshedAt) || got.LeaseOwner != "" || e.stats().TokenRequests.RefreshToken != 1 {
		t.Fatalf("answered %+v, stored %+v", got, stored)
	}
}
