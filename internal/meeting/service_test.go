package meeting_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/store"
)

var allFour = []string{"zoom", "google-meet", "microsoft-teams", "jitsi"}

func TestAMeetingOnAllFourPlatformsHasFourJoinURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	jaas := e.connectAll(e.tenant)
	in := e.input(allFour...)
	m := e.create(in)

	if m.Status != meeting.StatusScheduled || m.Title != "Elders' meeting" || m.TimeZone != "America/Chicago" || m.DurationMinutes() != 45 {
		t.Fatalf("meeting %+v", m)
	}
	if len(m.Targets) != 4 {
		t.Fatalf("%d targets", len(m.Targets))
	}
	for i, p := range allFour {
		tg := m.Targets[i]
		if tg.Platform != platform.ID(p) || tg.Status != meeting.TargetReady || tg.JoinURL == "" || tg.ExternalID == "" || tg.LastError != nil {
			t.Errorf("target %d: %+v, want %s ready with a join URL", i, tg, p)
		}
	}

	// Each join URL is the one the platform made.
	zid, _ := strconv.ParseInt(target(t, m, zoom.ID).ExternalID, 10, 64)
	zm, ok := e.zoom.Meeting(zid)
	if !ok || zm.JoinURL != target(t, m, zoom.ID).JoinURL || zm.Topic != in.Title || zm.Duration != 45 || zm.Timezone != "America/Chicago" {
		t.Errorf("zoom has %+v", zm)
	}
	ev, ok := e.meet.Event(target(t, m, googlemeet.ID).ExternalID)
	if !ok || ev.HangoutLink != target(t, m, googlemeet.ID).JoinURL {
		t.Errorf("calendar has %+v", ev)
	}
	// The Calendar event id and the Teams externalId come from the
	// meeting's id, so a repeated create finds the first one.
	if ev.ID != googlemeet.EventID(m.ID+":google-meet") {
		t.Errorf("event id %s is not derived from %s", ev.ID, m.ID)
	}
	tm, ok := e.teams.Meeting(target(t, m, teams.ID).ExternalID)
	if !ok || tm.JoinWebURL != target(t, m, teams.ID).JoinURL || tm.ExternalID != m.ID+":microsoft-teams" {
		t.Errorf("teams has %+v", tm)
	}
	// The JaaS link is a participant's, signed with the tenant's key.
	link := target(t, m, jitsi.ID).JoinURL
	claims, err := jaas.VerifyLink(link, m.Start)
	if err != nil || claims.Context.User.Moderator != "false" {
		t.Fatalf("JaaS link %v, claims %+v", err, claims)
	}

	// Read again: the same answer.
	got := e.get(m.ID)
	for i := range got.Targets {
		if got.Targets[i].JoinURL != m.Targets[i].JoinURL {
			t.Errorf("GET gives %s for %s, create gave %s", got.Targets[i].JoinURL, got.Targets[i].Platform, m.Targets[i].JoinURL)
		}
	}

	// The host links are stored, sealed; nothing in the table or the logs
	// holds Zoom's host token or a JaaS token.
	raw := e.rawTable()
	for _, secret := range []string{zm.StartURL, zm.StartURL[strings.Index(zm.StartURL, "zak=")+4:], link, link[strings.Index(link, "jwt=")+4:]} {
		if strings.Contains(raw, secret) || strings.Contains(e.logs.String(), secret) {
			t.Fatalf("a meeting secret is in the table or the logs: %.40s…", secret)
		}
	}
	it := e.rawMeeting(e.tenant, m.ID)
	// (Only the plain parts: base64 of ciphertext may hold anything.)
	plain, _ := json.Marshal(map[string]any{"targets": it["targets"], "title": it["title"]})
	if strings.Contains(string(plain), "eyJ") || strings.Contains(e.logs.String(), "eyJ") {
		t.Fatalf("a JWT is stored in the clear or logged: %s", plain)
	}
	env, ec, ok := store.GetSealed(it, "hostLink_zoom")
	if !ok {
		t.Fatal("Zoom's host link was not kept")
	}
	host, err := e.vault.Open(context.Background(), env, ec)
	if err != nil || string(host) != zm.StartURL {
		t.Fatalf("the sealed host link opens to %q, %v", host, err)
	}
	if _, err := e.vault.Open(context.Background(), env, meeting.LinkContext("church-b", zoom.ID, m.ID, meeting.LinkHost)); err == nil {
		t.Fatal("a host link opens under another tenant's context")
	}
	for _, a := range []string{"hostLink_jitsi", "joinLink_jitsi"} {
		if _, _, ok := store.GetSealed(it, a); !ok {
			t.Errorf("%s is not sealed in the item", a)
		}
	}
}

func TestJitsiWithoutJaaSMakesPublicRooms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		connect bool
	}{{"not connected", false}, {"connected without credentials", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if c.connect {
				conn, err := e.conns.ConnectWithKey(context.Background(), connection.Identity{Tenant: e.tenant, User: e.user}, "jitsi", map[string]string{})
				if err != nil || conn.AuthType != connection.AuthNone {
					t.Fatalf("%+v %v", conn, err)
				}
			}
			m := e.create(e.input("jitsi"))
			tg := target(t, m, jitsi.ID)
			if m.Status != meeting.StatusScheduled || tg.Status != meeting.TargetReady ||
				!strings.HasPrefix(tg.JoinURL, jitsiPublicURL+"/elders-meeting-") || tg.ExternalID == "" {
				t.Fatalf("%+v", m)
			}
			// A public room's URL is no credential: it is stored as it is.
			if _, _, sealed := store.GetSealed(e.rawMeeting(e.tenant, m.ID), "joinLink_jitsi"); sealed {
				t.Fatal("a public room's link was sealed")
			}
		})
	}
}

func TestAFailingPlatformLeavesTheOthersCreatedAndSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connectAll(e.tenant)
	e.teams.FailNext(teamsfake.OpCreateOrGet, http.StatusForbidden, "Forbidden", 1)
	m := e.create(e.input(allFour...))

	if m.Status != meeting.StatusScheduled {
		t.Fatalf("status %s", m.Status)
	}
	failed := target(t, m, teams.ID)
	if failed.Status != meeting.TargetFailed || failed.JoinURL != "" || failed.LastError == nil ||
		failed.LastError.Code != string(platform.ReasonPermission) || failed.LastError.Message != "Forbidden" || failed.LastError.At.IsZero() {
		t.Fatalf("teams target %+v %+v", failed, failed.LastError)
	}
	for _, p := range []platform.ID{zoom.ID, googlemeet.ID, jitsi.ID} {
		if tg := target(t, m, p); tg.Status != meeting.TargetReady || tg.JoinURL == "" {
			t.Errorf("%s: %+v", p, tg)
		}
	}
	if e.teams.Meetings() != 0 {
		t.Fatalf("teams holds %d meetings", e.teams.Meetings())
	}
	if !strings.Contains(e.logs.String(), `"platform":"microsoft-teams","reason":"permission"`) {
		t.Errorf("the failure is not logged with its reason:\n%s", e.logs.String())
	}
}

func TestEveryTargetFailingIsAFailedMeetingThatIsStillRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	e.zoom.DailyCreateLimit = 0
	m := e.create(e.input("zoom"))
	tg := target(t, m, zoom.ID)
	if m.Status != meeting.StatusFailed || tg.Status != meeting.TargetFailed || tg.LastError.Code != string(platform.ReasonQuota) ||
		!strings.Contains(tg.LastError.Message, "daily rate limit") {
		t.Fatalf("%+v %+v", m, tg.LastError)
	}
	if got := e.get(m.ID); got.Status != meeting.StatusFailed {
		t.Fatalf("stored status %s", got.Status)
	}
}

func TestATargetThatIsNotConnectedRefusesTheMeetingAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	_, err := e.svc.Create(context.Background(), e.tenant, e.user, e.input("zoom", "microsoft-teams", "google-meet"))
	ae, ok := apperr.As(err)
	if !ok || ae.Kind != apperr.Conflict || ae.Code != "target_not_connected" || !strings.Contains(ae.Detail, "Microsoft Teams is not connected") {
		t.Fatalf("got %v", err)
	}
	if names, _ := ae.Fields["platforms"].([]string); len(names) != 2 || names[0] != "microsoft-teams" || names[1] != "google-meet" {
		t.Fatalf("platforms %v", ae.Fields["platforms"])
	}
	if n := e.zoom.Calls(zoomfake.OpCreateMeeting); n != 0 {
		t.Fatalf("zoom was asked to create %d meetings", n)
	}
	if list, _, _ := e.svc.List(context.Background(), e.tenant, "", "", 10); len(list) != 0 {
		t.Fatalf("a meeting was stored: %+v", list)
	}
}

func TestInvalidInputStoresNothingAndCallsNoPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	in := e.input("zoom")
	in.DurationMinutes = 0
	_, err := e.svc.Create(context.Background(), e.tenant, e.user, in)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("got %v", err)
	}
	if e.zoom.Calls(zoomfake.OpCreateMeeting) != 0 || strings.Contains(e.rawTable(), "MEET#") {
		t.Fatal("an invalid request changed something")
	}
}

func TestARefusedTokenFailsTheTargetAndExpiresTheConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	creds, err := e.conns.Token(context.Background(), e.tenant, zoom.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.zoom.RejectToken(creds.AccessToken)
	m := e.create(e.input("zoom", "jitsi"))
	tg := target(t, m, zoom.ID)
	if tg.Status != meeting.TargetFailed || tg.LastError.Code != string(platform.ReasonExpiredToken) || !strings.Contains(tg.LastError.Message, "reconnect") {
		t.Fatalf("%+v %+v", tg, tg.LastError)
	}
	if target(t, m, jitsi.ID).Status != meeting.TargetReady || m.Status != meeting.StatusScheduled {
		t.Fatalf("the other target: %+v", m)
	}
	c, err := e.conns.Get(context.Background(), e.tenant, "zoom")
	if err != nil || c.Status != connection.StatusExpired {
		t.Fatalf("connection %+v %v", c, err)
	}
	if strings.Contains(e.logs.String(), creds.AccessToken) || strings.Contains(e.rawTable(), creds.AccessToken) {
		t.Fatal("the access token leaked")
	}
}

func TestCancelDeletesTheMeetingAtEveryPlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connectAll(e.tenant)
	m := e.create(e.input(allFour...))
	ctx := context.Background()
	if err := e.svc.Cancel(ctx, e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(m.ID)
	if got.Status != meeting.StatusCancelled || got.CancelledAt.IsZero() {
		t.Fatalf("meeting %+v", got)
	}
	for _, tg := range got.Targets {
		if tg.Status != meeting.TargetCancelled || tg.LastError != nil {
			t.Errorf("%s: %+v", tg.Platform, tg)
		}
	}
	zid, _ := strconv.ParseInt(target(t, m, zoom.ID).ExternalID, 10, 64)
	if zm, _ := e.zoom.Meeting(zid); zm.Status != zoomfake.StatusDeleted || e.zoom.Calls(zoomfake.OpDeleteMeeting) != 1 {
		t.Errorf("zoom: %s after %d deletes", zm.Status, e.zoom.Calls(zoomfake.OpDeleteMeeting))
	}
	if ev, _ := e.meet.Event(target(t, m, googlemeet.ID).ExternalID); ev.Status != "cancelled" || e.meet.Calls(googlemeetfake.OpEventsDelete) != 1 {
		t.Errorf("calendar: %s after %d deletes", ev.Status, e.meet.Calls(googlemeetfake.OpEventsDelete))
	}
	if e.teams.Meetings() != 0 || e.teams.Calls(teamsfake.OpDelete) != 1 {
		t.Errorf("teams: %d meetings after %d deletes", e.teams.Meetings(), e.teams.Calls(teamsfake.OpDelete))
	}
	if note := target(t, got, jitsi.ID).Note; !strings.Contains(note, "no call that deletes") {
		t.Errorf("jitsi note %q", note)
	}

	// Again: nothing left to do, nothing called.
	if err := e.svc.Cancel(ctx, e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	if e.zoom.Calls(zoomfake.OpDeleteMeeting)+e.meet.Calls(googlemeetfake.OpEventsDelete)+e.teams.Calls(teamsfake.OpDelete) != 3 {
		t.Fatal("a second cancel called a platform again")
	}
}

func TestAFailedDeleteIsRecordedAndRetriedByTheNextCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	e.connect(e.tenant, teams.ID)
	m := e.create(e.input("zoom", "microsoft-teams"))
	e.zoom.FailNext(zoomfake.OpDeleteMeeting, http.StatusBadRequest, "300", 1)
	ctx := context.Background()
	if err := e.svc.Cancel(ctx, e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(m.ID)
	zt := target(t, got, zoom.ID)
	if got.Status != meeting.StatusCancelled || zt.Status != meeting.TargetReady || zt.LastError == nil ||
		zt.LastError.Code != string(platform.ReasonInvalid) || zt.LastError.Message != "Invalid field." {
		t.Fatalf("after a failed delete: %s, zoom %+v %+v", got.Status, zt, zt.LastError)
	}
	if target(t, got, teams.ID).Status != meeting.TargetCancelled {
		t.Fatal("the other target was not cancelled")
	}
	if err := e.svc.Cancel(ctx, e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	zt = target(t, e.get(m.ID), zoom.ID)
	if zt.Status != meeting.TargetCancelled || zt.LastError != nil || e.zoom.Calls(zoomfake.OpDeleteMeeting) != 2 || e.teams.Calls(teamsfake.OpDelete) != 1 {
		t.Fatalf("after the retry: %+v, zoom deletes %d, teams deletes %d", zt, e.zoom.Calls(zoomfake.OpDeleteMeeting), e.teams.Calls(teamsfake.OpDelete))
	}
}

// A Zoom token granted only the old default scopes cannot delete: Zoom's
// 4711 reaches the target as a permission problem that names the missing
// scope and tells the user to reconnect.
func TestAZoomDeleteWithoutItsScopeSaysWhichScopeToReconnectWith(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.zoom.SetDefaultScopes("meeting:write:meeting", "user:read:user")
	e.connect(e.tenant, zoom.ID)
	m := e.create(e.input("zoom"))
	if err := e.svc.Cancel(context.Background(), e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	zt := target(t, e.get(m.ID), zoom.ID)
	if zt.Status != meeting.TargetReady || zt.LastError == nil || zt.LastError.Code != string(platform.ReasonPermission) ||
		!strings.Contains(zt.LastError.Message, "meeting:delete:meeting") || !strings.Contains(zt.LastError.Message, "reconnect Zoom") {
		t.Fatalf("zoom target %+v %+v", zt, zt.LastError)
	}
}

func TestCancelAfterThePlannedEndIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	m := e.create(e.input("zoom"))
	e.clock.Advance(time.Hour + 45*time.Minute)
	if got := e.get(m.ID); got.Status != meeting.StatusEnded {
		t.Fatalf("status %s after the planned end", got.Status)
	}
	err := e.svc.Cancel(context.Background(), e.tenant, m.ID)
	if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Conflict || ae.Code != "meeting_ended" {
		t.Fatalf("got %v", err)
	}
	if e.zoom.Calls(zoomfake.OpDeleteMeeting) != 0 || !e.get(m.ID).CancelledAt.IsZero() {
		t.Fatal("an ended meeting was cancelled")
	}
}

func TestAnotherTenantCannotSeeOrCancelAMeeting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	m := e.create(e.input("zoom"))
	ctx := context.Background()
	if _, err := e.svc.Get(ctx, "church-b", m.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("get as another tenant: %v", err)
	}
	if err := e.svc.Cancel(ctx, "church-b", m.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("cancel as another tenant: %v", err)
	}
	if list, _, err := e.svc.List(ctx, "church-b", "", "", 10); err != nil || len(list) != 0 {
		t.Fatalf("another tenant lists %v %v", list, err)
	}
	if got := e.get(m.ID); got.Status != meeting.StatusScheduled || e.zoom.Calls(zoomfake.OpDeleteMeeting) != 0 {
		t.Fatalf("the owner's meeting changed: %+v", got)
	}
	for _, id := range []string{"m-1", "", "../" + m.ID} {
		if _, err := e.svc.Get(ctx, e.tenant, id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("get %q: %v", id, err)
		}
	}
}

func TestListIsNewestFirstAndPaged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.createSecondApart(3)
	ctx := context.Background()
	page, next, err := e.svc.List(ctx, e.tenant, "", "", 2)
	if err != nil || len(page) != 2 || next == "" || page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Fatalf("first page %v %q %v", page, next, err)
	}
	if page[0].Status != meeting.StatusScheduled || page[0].Targets[0].JoinURL == "" {
		t.Fatalf("a listed meeting %+v", page[0])
	}
	rest, next, err := e.svc.List(ctx, e.tenant, "", next, 2)
	if err != nil || len(rest) != 1 || rest[0].ID != ids[0] || next != "" {
		t.Fatalf("second page %v %q %v", rest, next, err)
	}
	if _, _, err := e.svc.List(ctx, "church-b", "", "c1.forged", 2); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a forged cursor: %v", err)
	}
}

func TestListOpensJaaSLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	jaas := e.connectJaaS(e.tenant)
	m := e.create(e.input("jitsi"))
	list, _, err := e.svc.List(context.Background(), e.tenant, "", "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	if _, err := jaas.VerifyLink(list[0].Targets[0].JoinURL, m.Start); err != nil {
		t.Fatalf("listed JaaS link: %v", err)
	}
}

// gate holds a platform's create until released, to cancel a meeting
// while it is being created. It wraps a client that deletes, and keeps its
// DeleteMeeting (an optional operation the service finds by type).
type gate struct {
	deletingMeeter
	entered chan struct{}
	release chan struct{}
}

func (g gate) CreateMeeting(ctx context.Context, token string, spec platform.MeetingSpec) (platform.Meeting, error) {
	close(g.entered)
	<-g.release
	return g.deletingMeeter.CreateMeeting(ctx, token, spec)
}

type deletingMeeter interface {
	platform.Meeter
	platform.MeetingDeleter
}

func TestAMeetingCancelledWhileBeingCreatedIsTakenBackAtThePlatform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, teams.ID)
	g := gate{deletingMeeter: e.clients.meeters[teams.ID].(deletingMeeter), entered: make(chan struct{}), release: make(chan struct{})}
	e.clients.meeters = map[platform.ID]platform.Meeter{teams.ID: g, jitsi.ID: e.clients.meeters[jitsi.ID]}
	e.rebuild()

	ctx := context.Background()
	var created *meeting.Meeting
	var createErr error
	var wg sync.WaitGroup
	wg.Go(func() { created, createErr = e.svc.Create(ctx, e.tenant, e.user, e.input("microsoft-teams", "jitsi")) })
	<-g.entered
	list, _, err := e.svc.List(ctx, e.tenant, "", "", 1)
	if err != nil || len(list) != 1 || target(t, list[0], teams.ID).Status != meeting.TargetPending {
		t.Fatalf("while creating: %+v %v", list, err)
	}
	// The meeting is stored before any platform answers, and can be
	// cancelled then.
	if err := e.svc.Cancel(ctx, e.tenant, list[0].ID); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	wg.Wait()
	if createErr != nil {
		t.Fatal(createErr)
	}
	tt := target(t, created, teams.ID)
	if created.Status != meeting.StatusCancelled || tt.Status != meeting.TargetCancelled || tt.ExternalID == "" {
		t.Fatalf("after the create finished: %s %+v", created.Status, tt)
	}
	if e.teams.Meetings() != 0 || e.teams.Calls(teamsfake.OpDelete) != 1 {
		t.Fatalf("teams holds %d meetings after %d deletes", e.teams.Meetings(), e.teams.Calls(teamsfake.OpDelete))
	}
	if jt := target(t, created, jitsi.ID); jt.Status != meeting.TargetCancelled {
		t.Fatalf("jitsi %+v", jt)
	}
}

func TestATargetLeftPendingByACrashIsCancelledWithANote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	id, _ := meeting.NewID(now)
	crashed := &meeting.Meeting{Tenant: e.tenant, ID: id, Title: "Crashed", Start: now.Add(time.Hour), Duration: time.Hour, TimeZone: "UTC",
		CreatedAt: now, Targets: []meeting.Target{{Platform: zoom.ID, Status: meeting.TargetPending, UpdatedAt: now}}}
	if err := e.store.Meetings(registry.OfKind(platform.KindMeeting)...).Create(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	if got := e.get(id); got.Status != meeting.StatusPending {
		t.Fatalf("status %s", got.Status)
	}
	// While its create may still be running, cancel leaves it to that create.
	if err := e.svc.Cancel(ctx, e.tenant, id); err != nil {
		t.Fatal(err)
	}
	if tg := target(t, e.get(id), zoom.ID); tg.Status != meeting.TargetPending {
		t.Fatalf("a fresh pending target was touched: %+v", tg)
	}
	e.clock.Advance(3 * time.Minute)
	if err := e.svc.Cancel(ctx, e.tenant, id); err != nil {
		t.Fatal(err)
	}
	tg := target(t, e.get(id), zoom.ID)
	if tg.Status != meeting.TargetCancelled || !strings.Contains(tg.Note, "never finished") {
		t.Fatalf("a stale pending target: %+v", tg)
	}
}

func TestAMeetConferenceStillPendingKeepsTheEventSoCancelRemovesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, googlemeet.ID)
	e.meet.PendingReads = 100
	m := e.create(e.input("google-meet"))
	tg := target(t, m, googlemeet.ID)
	if tg.Status != meeting.TargetFailed || tg.ExternalID == "" || tg.LastError.Code != string(platform.ReasonTransient) {
		t.Fatalf("%+v %+v", tg, tg.LastError)
	}
	if err := e.svc.Cancel(context.Background(), e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	if ev, _ := e.meet.Event(tg.ExternalID); ev.Status != "cancelled" {
		t.Fatalf("the Calendar event is %s", ev.Status)
	}
	if got := target(t, e.get(m.ID), googlemeet.ID); got.Status != meeting.TargetCancelled {
		t.Fatalf("%+v", got)
	}
}

func TestSetTargetMovesOnlyATargetInTheExpectedState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.create(e.input("jitsi"))
	ctx := context.Background()
	repo := e.store.Meetings(registry.OfKind(platform.KindMeeting)...)
	tg := target(t, m, jitsi.ID)
	tg.Status = meeting.TargetFailed
	err := repo.SetTarget(ctx, e.tenant, m.ID, tg, meeting.TargetPending, true)
	if !errors.Is(err, meeting.ErrChanged) {
		t.Fatalf("a ready target moved as if pending: %v", err)
	}
	if err := repo.SetTarget(ctx, e.tenant, "mtg_00000000000000000000000000", tg, meeting.TargetReady, false); !errors.Is(err, meeting.ErrChanged) {
		t.Fatalf("a missing meeting: %v", err)
	}
	raw, _ := json.Marshal(e.get(m.ID).Targets)
	if !strings.Contains(string(raw), `"Status":"ready"`) {
		t.Fatalf("the target changed: %s", raw)
	}
}

func TestListFiltersByStatusAndRefusesAnUnknownOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.createSecondApart(3)
	ctx := context.Background()
	if err := e.svc.Cancel(ctx, e.tenant, ids[1]); err != nil {
		t.Fatal(err)
	}
	cancelled, next, err := e.svc.List(ctx, e.tenant, meeting.StatusCancelled, "", 1)
	if err != nil || len(cancelled) != 1 || cancelled[0].ID != ids[1] || cancelled[0].Status != meeting.StatusCancelled {
		t.Fatalf("cancelled: %v %q %v", cancelled, next, err)
	}
	var scheduled []string
	cursor := ""
	for range 4 {
		page, next, err := e.svc.List(ctx, e.tenant, meeting.StatusScheduled, cursor, 1)
		if err != nil || len(page) != 1 {
			t.Fatalf("a scheduled page: %v %q %v", page, next, err)
		}
		scheduled = append(scheduled, page[0].ID)
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(scheduled) != 2 || scheduled[0] != ids[2] || scheduled[1] != ids[0] {
		t.Fatalf("scheduled %v, want %v", scheduled, []string{ids[2], ids[0]})
	}
	if _, _, err := e.svc.List(ctx, e.tenant, "bogus", "", 10); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("an unknown status: %v", err)
	}
}

// createSecondApart creates n Jitsi meetings a second apart, oldest first.
func (e *env) createSecondApart(n int) []string {
	var ids []string
	for range n {
		ids = append(ids, e.create(e.input("jitsi")).ID)
		e.clock.Advance(time.Second)
	}
	return ids
}

// Zoom refuses to delete a meeting in progress (its spec: 400, code
// 3002): the cancel still cancels the meeting and the other platforms, and
// the Zoom target says, in Zoom's words, that it is still there.
func TestCancellingAMeetingInProgressAtZoomSaysZoomKeptIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(e.tenant, zoom.ID)
	e.connect(e.tenant, teams.ID)
	m := e.create(e.input(string(zoom.ID), string(teams.ID)))
	e.zoom.StartMeeting(mustZoomID(t, m))
	if err := e.svc.Cancel(context.Background(), e.tenant, m.ID); err != nil {
		t.Fatal(err)
	}
	got := e.get(m.ID)
	zt, tt := target(t, got, zoom.ID), target(t, got, teams.ID)
	if got.Status != meeting.StatusCancelled || tt.Status != meeting.TargetCancelled {
		t.Fatalf("meeting %s, Teams %s", got.Status, tt.Status)
	}
	if zt.Status != meeting.TargetReady || zt.LastError == nil || !strings.Contains(zt.LastError.Message, "in progress") {
		t.Errorf("the Zoom target: %s %+v", zt.Status, zt.LastError)
	}
}
