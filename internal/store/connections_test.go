package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/vercel"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// fullConnection is a connection with every field set, its credentials
// sealed by the real vault.
func fullConnection(t testing.TB, tenant string, p platform.ID, now time.Time) *connection.Connection {
	t.Helper()
	sealed, err := testVault(t).Seal(context.Background(), make([]byte, 2048), vault.Context(tenant, string(p), vault.PurposeTokenSet, "connection"))
	if err != nil {
		t.Fatal(err)
	}
	return &connection.Connection{
		Tenant: tenant, Platform: p, Status: connection.StatusConnected, AuthType: connection.AuthOAuth2,
		AccountID: "acct-1", AccountName: "Account One", Scopes: []string{"a", "b"}, ConnectedBy: "user-1",
		ConnectedAt: now.Add(-time.Hour), UpdatedAt: now, StatusChangedAt: now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Hour), LastRefreshedAt: now.Add(-2 * time.Minute), LastVerifiedAt: now.Add(-3 * time.Minute),
		LastError:        &connection.LastError{Code: "platform_error", Message: "once failed", At: now.Add(-4 * time.Minute)},
		History:          []connection.Transition{{Status: connection.StatusConnected, At: now.Add(-time.Hour), Reason: "connected"}},
		Workspaces:       []platform.Workspace{{ID: "w1", Name: "One"}},
		DefaultWorkspace: "w1",
		NextCheckAt:      now.Add(30 * time.Minute),
		ExpiryNotice:     connection.NoticeWeek,
		Sealed:           sealed,
	}
}

// Neither a list nor GET /connections/{platform} shows credentials, so
// neither reads them: what List and View return is what Get returns but
// the sealed credentials, and the list still pages.
func TestConnectionListAndViewReadEverythingButTheSealedCredentials(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Connections()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	for _, p := range []platform.ID{youtube.ID, zoom.ID} {
		c := fullConnection(t, "t1", p, now)
		if err := repo.Save(ctx, c, ""); err != nil {
			t.Fatal(err)
		}
		if err := repo.TakeLease(ctx, c, "refresher-1", now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}

	var listed []*connection.Connection
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := repo.List(ctx, "t1", cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page...)
		if cursor = next; cursor == "" {
			break
		}
		if pages > 2 {
			t.Fatal("the cursor does not end")
		}
	}
	if len(listed) != 2 {
		t.Fatalf("listed %d connections, want 2", len(listed))
	}
	for _, l := range listed {
		if len(l.Sealed) > 0 {
			t.Errorf("%s: the list read the sealed credentials (%d bytes)", l.Platform, len(l.Sealed))
		}
		full, err := repo.Get(ctx, "t1", l.Platform)
		if err != nil {
			t.Fatal(err)
		}
		everyFieldSet(t, *full)
		full.Sealed = nil
		if !reflect.DeepEqual(l, full) {
			t.Errorf("%s: list gave\n%+v\nGet gave (credentials aside)\n%+v", l.Platform, *l, *full)
		}
		// GET /connections/{platform} shows what a list item shows.
		view, err := repo.View(ctx, "t1", l.Platform)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(view, full) {
			t.Errorf("%s: View gave\n%+v\nGet gave (credentials aside)\n%+v", l.Platform, *view, *full)
		}
	}
	if _, err := repo.View(ctx, "t1", vercel.ID); !store.IsNotFound(err) {
		t.Fatalf("View of a connection never made: %v, want NotFound", err)
	}
}

// everyFieldSet fails when the fixture read back leaves a field of v (a
// struct) at its zero value: a list's projection that left out the field's
// attribute would then go unnoticed. except names fields that are not
// stored.
func everyFieldSet(t *testing.T, v any, except ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() && !slices.Contains(except, rv.Type().Field(i).Name) {
			t.Fatalf("the fixture leaves %s.%s unset; set it so the list is checked to read it", rv.Type().Name(), rv.Type().Field(i).Name)
		}
	}
}
