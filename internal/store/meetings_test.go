package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func newMeeting(t *testing.T, tenant string, at time.Time, targets ...meeting.Target) *meeting.Meeting {
	t.Helper()
	id, err := meeting.NewID(at)
	if err != nil {
		t.Fatal(err)
	}
	return &meeting.Meeting{Tenant: tenant, ID: id, Title: "Elders", Start: at.Add(time.Hour).Truncate(time.Second),
		Duration: 45 * time.Minute, TimeZone: "America/Chicago", CreatedBy: "pastor", CreatedAt: at.Truncate(time.Millisecond), Targets: targets}
}

// pendingMeeting stores, on a table of its own, a meeting of church-a
// with a pending target on each platform, changed by change first when
// it is not nil.
func pendingMeeting(t *testing.T, now time.Time, change func(*meeting.Meeting), ps ...platform.ID) (meeting.Repo, *meeting.Meeting) {
	t.Helper()
	repo := dynamotest.New(t).Store.Meetings(registry.OfKind(platform.KindMeeting)...)
	var targets []meeting.Target
	for _, p := range ps {
		targets = append(targets, meeting.Target{Platform: p, Status: meeting.TargetPending, UpdatedAt: now})
	}
	m := newMeeting(t, "church-a", now, targets...)
	if change != nil {
		change(m)
	}
	if err := repo.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return repo, m
}

func TestMeetingRoundTripsThroughItsItem(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Meetings(registry.OfKind(platform.KindMeeting)...)
	now := time.Now().UTC()
	m := newMeeting(t, "church-a", now,
		meeting.Target{Platform: zoom.ID, Status: meeting.TargetPending, UpdatedAt: now},
		meeting.Target{Platform: googlemeet.ID, Status: meeting.TargetFailed, UpdatedAt: now,
			LastError: &meeting.LastError{Code: "permission", Message: "Forbidden", At: now}},
		meeting.Target{Platform: jitsi.ID, Status: meeting.TargetPending, UpdatedAt: now})
	if err := repo.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := repo.Create(ctx, m); !store.IsConditionFailed(err) {
		t.Fatalf("a second create with the same id: %v", err)
	}

	ready := meeting.Target{Platform: zoom.ID, Status: meeting.TargetReady, ExternalID: "89012345671",
		JoinURL: "https://zoom.example/j/1", Extra: map[string]string{"uuid": "u-1"}, UpdatedAt: now,
		SealedHost: []byte("sealed-host-envelope")}
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, ready, meeting.TargetPending, true); err != nil {
		t.Fatal(err)
	}
	// A sealed join link is stored only sealed, whatever JoinURL holds.
	jaas := meeting.Target{Platform: jitsi.ID, Status: meeting.TargetReady, ExternalID: "room-1",
		JoinURL: "https://8x8.example/app/room-1?jwt=secret-token", UpdatedAt: now,
		SealedJoin: []byte("sealed-join-envelope"), SealedHost: []byte("sealed-jaas-host")}
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, jaas, meeting.TargetPending, true); err != nil {
		t.Fatal(err)
	}

	got, err := repo.Get(ctx, m.Tenant, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != m.Title || !got.Start.Equal(m.Start) || got.Duration != m.Duration || got.TimeZone != m.TimeZone ||
		got.CreatedBy != "pastor" || !got.CreatedAt.Equal(m.CreatedAt) || !got.CancelledAt.IsZero() || got.Tenant != "church-a" {
		t.Fatalf("meeting %+v", got)
	}
	if len(got.Targets) != 3 || got.Targets[0].Platform != zoom.ID || got.Targets[1].Platform != googlemeet.ID || got.Targets[2].Platform != jitsi.ID {
		t.Fatalf("targets out of order: %+v", got.Targets)
	}
	z := got.Targets[0]
	if z.Status != meeting.TargetReady || z.ExternalID != ready.ExternalID || z.JoinURL != ready.JoinURL ||
		!reflect.DeepEqual(z.Extra, ready.Extra) || string(z.SealedHost) != "sealed-host-envelope" || z.SealedJoin != nil {
		t.Fatalf("zoom %+v", z)
	}
	if le := got.Targets[1].LastError; le == nil || le.Code != "permission" || le.Message != "Forbidden" || !le.At.Equal(now) {
		t.Fatalf("lastError %+v", le)
	}
	j := got.Targets[2]
	if j.JoinURL != "" || string(j.SealedJoin) != "sealed-join-envelope" || string(j.SealedHost) != "sealed-jaas-host" {
		t.Fatalf("jitsi %+v", j)
	}
	it, _ := f.Store.Get(ctx, store.TenantPK("church-a"), "MEET#"+m.ID)
	if store.GetS(it, "type") != "meeting" {
		t.Fatalf("type %q", store.GetS(it, "type"))
	}
	_, ec, ok := store.GetSealed(it, "joinLink_jitsi")
	if !ok || !reflect.DeepEqual(ec, meeting.LinkContext("church-a", jitsi.ID, m.ID, meeting.LinkJoin)) || ec[vault.KeyPurpose] != vault.PurposeMeetingLink {
		t.Fatalf("the join link's context %v", ec)
	}
	if raw, _ := json.Marshal(it); strings.Contains(string(raw), "secret-token") {
		t.Fatal("the JaaS link is stored in the clear")
	}
}

func TestSetTargetHonoursItsConditions(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Meetings(registry.OfKind(platform.KindMeeting)...)
	now := time.Now().UTC()
	m := newMeeting(t, "church-a", now,
		meeting.Target{Platform: zoom.ID, Status: meeting.TargetPending, UpdatedAt: now},
		meeting.Target{Platform: teams.ID, Status: meeting.TargetPending, UpdatedAt: now})
	if err := repo.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	ready := func(p platform.ID) meeting.Target {
		return meeting.Target{Platform: p, Status: meeting.TargetReady, ExternalID: "x-" + string(p), UpdatedAt: now}
	}
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, ready(zoom.ID), meeting.TargetReady, false); !errors.Is(err, meeting.ErrChanged) {
		t.Fatalf("from the wrong status: %v", err)
	}
	if err := repo.SetTarget(ctx, "church-b", m.ID, ready(zoom.ID), meeting.TargetPending, false); !errors.Is(err, meeting.ErrChanged) {
		t.Fatalf("another tenant's write: %v", err)
	}
	cancelled, err := repo.Cancel(ctx, m.Tenant, m.ID, now)
	if err != nil || !cancelled.CancelledAt.Equal(now) {
		t.Fatalf("cancel: %+v %v", cancelled, err)
	}
	// Once cancelled, a create's outcome (whileOpen) is refused; a cancel's is not.
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, ready(zoom.ID), meeting.TargetPending, true); !errors.Is(err, meeting.ErrChanged) {
		t.Fatalf("whileOpen on a cancelled meeting: %v", err)
	}
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, ready(zoom.ID), meeting.TargetPending, false); err != nil {
		t.Fatalf("without whileOpen: %v", err)
	}
	// Cancel again keeps the first time.
	again, err := repo.Cancel(ctx, m.Tenant, m.ID, now.Add(time.Hour))
	if err != nil || !again.CancelledAt.Equal(now) || again.Targets[0].Status != meeting.TargetReady || again.Targets[1].Status != meeting.TargetPending {
		t.Fatalf("second cancel: %+v %v", again, err)
	}
	if _, err := repo.Cancel(ctx, "church-b", m.ID, now); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another tenant's cancel: %v", err)
	}
	if _, err := f.Store.Get(ctx, store.TenantPK("church-b"), "MEET#"+m.ID); !store.IsNotFound(err) {
		t.Fatalf("another tenant's cancel made an item: %v", err)
	}
}

func TestMeetingsListNewestFirstPerTenant(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	repo := f.Store.Meetings(registry.OfKind(platform.KindMeeting)...)
	base := time.Now().UTC()
	var ids []string
	for i := range 5 {
		m := newMeeting(t, "church-a", base.Add(time.Duration(i)*time.Millisecond))
		if err := repo.Create(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if err := repo.Create(ctx, newMeeting(t, "church-b", base.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for range 3 {
		page, next, err := repo.List(ctx, "church-a", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			got = append(got, m.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func TestSealedMeetingLinksAreFoundForRewrap(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	m := newMeeting(t, "church-a", now, meeting.Target{Platform: zoom.ID, Status: meeting.TargetPending, UpdatedAt: now})
	repo := f.Store.Meetings(registry.OfKind(platform.KindMeeting)...)
	if err := repo.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	tg := meeting.Target{Platform: zoom.ID, Status: meeting.TargetReady, ExternalID: "1", UpdatedAt: now, SealedHost: []byte("env")}
	if err := repo.SetTarget(ctx, m.Tenant, m.ID, tg, meeting.TargetPending, true); err != nil {
		t.Fatal(err)
	}
	envs, _, err := f.Store.Envelopes().ListEnvelopes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 1 || envs[0].Ref.Attr != "hostLink_zoom" || envs[0].Ref.SK != "MEET#"+m.ID ||
		!reflect.DeepEqual(envs[0].Context, meeting.LinkContext("church-a", zoom.ID, m.ID, meeting.LinkHost)) {
		t.Fatalf("envelopes %+v", envs)
	}
}

// A list shows the join links but no host link, so it reads no host link:
// what it returns is what Get returns but the sealed host links.
func TestMeetingListReadsEverythingButTheSealedHostLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now().UTC()
	repo, m := pendingMeeting(t, now, func(m *meeting.Meeting) {
		m.CancelledAt, m.SeriesID = now.Add(time.Minute).Truncate(time.Second), "mtgs_series"
		m.Revision, m.ChangingUntil = 2, now.Add(2*time.Minute)
	},
		zoom.ID, jitsi.ID)
	for _, tg := range []meeting.Target{
		{Platform: zoom.ID, Status: meeting.TargetReady, ExternalID: "89012345671", JoinURL: "https://zoom.example/j/1",
			Extra: map[string]string{"uuid": "u-1"}, Note: "a note", UpdatedAt: now, SealedHost: []byte("sealed-host-envelope"), Revision: 2,
			LastError: &meeting.LastError{Code: "transient", Message: "once failed", At: now}},
		{Platform: jitsi.ID, Status: meeting.TargetReady, ExternalID: "room-1", UpdatedAt: now,
			SealedJoin: []byte("sealed-join-envelope"), SealedHost: []byte("sealed-jaas-host")},
	} {
		if err := repo.SetTarget(ctx, m.Tenant, m.ID, tg, meeting.TargetPending, false); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err := repo.List(ctx, "church-a", "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	full, err := repo.Get(ctx, "church-a", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	everyFieldSet(t, *full, "Status") // the service works the status out; it is not stored
	for i := range full.Targets {
		if len(full.Targets[i].SealedHost) == 0 {
			t.Fatalf("the fixture's %s target has no host link", full.Targets[i].Platform)
		}
		full.Targets[i].SealedHost = nil
	}
	for _, tg := range list[0].Targets {
		if len(tg.SealedHost) > 0 {
			t.Errorf("%s: the list read the sealed host link %q", tg.Platform, tg.SealedHost)
		}
	}
	if string(list[0].Targets[1].SealedJoin) != "sealed-join-envelope" {
		t.Errorf("the list did not read the sealed join link it shows: %q", list[0].Targets[1].SealedJoin)
	}
	if !reflect.DeepEqual(list[0], full) {
		t.Errorf("list gave\n%+v\nGet gave (host links aside)\n%+v", *list[0], *full)
	}
}
