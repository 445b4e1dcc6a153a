package connection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
)

func TestAConnectLinkOpensUntilItExpiresOrIsClosedAndStoresOnlyItsHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	made, err := e.svc.CreateSession(ctx, e.id, connection.CreateSessionInput{Platforms: []string{"zoom"}, TTL: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.svc.OpenSession(ctx, made.Token)
	if err != nil || cs.Tenant != e.id.Tenant || !cs.Offers("zoom") || cs.Offers("youtube") {
		t.Fatalf("open: %+v %v", cs, err)
	}
	if cs.Key == made.Token || cs.Key != connection.SessionKey(made.Token) {
		t.Fatal("the session is stored under its token, not its hash")
	}
	// Expired: refused with its own code, at any later time.
	e.clock.Advance(2*time.Minute + time.Second)
	if _, err := e.svc.OpenSession(ctx, made.Token); !errors.Is(err, connection.ErrSessionExpired) || apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("an expired link opened: %v", err)
	}
	// Closed: the link is used up, and closing it again is refused.
	again, err := e.svc.CreateSession(ctx, e.id, connection.CreateSessionInput{})
	if err != nil {
		t.Fatal(err)
	}
	cs, _ = e.svc.OpenSession(ctx, again.Token)
	if err := e.svc.CloseSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.OpenSession(ctx, again.Token); !errors.Is(err, connection.ErrSessionClosed) {
		t.Fatalf("a closed link opened: %v", err)
	}
	if err := e.svc.CloseSession(ctx, cs); !errors.Is(err, connection.ErrSessionClosed) {
		t.Fatalf("closed twice: %v", err)
	}
	if _, err := e.svc.OpenSession(ctx, "x"+made.Token); !errors.Is(err, connection.ErrSessionUnknown) || apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("an unknown link: %v", err)
	}
	for _, in := range []connection.CreateSessionInput{{TTL: time.Second}, {TTL: 2 * time.Hour}, {Platforms: []string{"zoom", "zoom"}}, {Platforms: []string{"nope"}}, {ReturnTo: "https://evil.example"}} {
		if _, err := e.svc.CreateSession(ctx, e.id, in); apperr.KindOf(err) != apperr.Invalid {
			t.Errorf("%+v: %v", in, err)
		}
	}
}
