package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/instagram"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func sampleLivestream(tenant, id string, start time.Time) *livestream.Livestream {
	start = start.UTC().Truncate(time.Second)
	return &livestream.Livestream{
		Tenant: tenant, ID: id, Title: "Sunday service", Description: "Live from Grace Church",
		ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), Status: livestream.StatusScheduled,
		CreatedAt: start.Add(-time.Hour), UpdatedAt: start.Add(-time.Hour), CreatedBy: "user-1",
		DueAt: start, CheckedAt: start.Add(-10 * time.Minute), SeriesID: "01JABCDEFGHJKMNPQRSTVWXYZS",
		Targets: []livestream.Target{
			{Platform: youtube.ID, Privacy: "unlisted", Status: livestream.TargetReady, ExternalID: "b1",
				WatchURL: "https://www.youtube.com/watch?v=b1", IngestURL: "rtmp://a.rtmp.youtube.com/live2",
				Extra: map[string]string{"keptStreamId": "s1"}, UpdatedAt: start.Add(-time.Hour), StableKey: true,
				PlatformUpdate: &livestream.PlatformUpdate{Status: livestream.UpdateFailed, Code: "invalid_request",
					Message: "update broadcast: The scheduled start time must be in the future.", At: start.Add(-20 * time.Minute)},
				Checks: []livestream.Check{{Name: "encoder", Status: livestream.CheckWarn, Message: "the encoder is not pushing", At: start.Add(-10 * time.Minute)}}},
			{Platform: facebook.ID, Status: livestream.TargetFailed, Step: livestream.StepProvision, Attempts: 2,
				NextAttemptAt: start.Add(-50 * time.Minute), UpdatedAt: start.Add(-time.Hour),
				LastError: &livestream.LastError{Code: "transient", Message: "create live video: unavailable", At: start.Add(-time.Hour)}},
			{Platform: instagram.ID, Status: livestream.TargetReady, UserIngest: true, IngestURL: "rtmps://live-upload.instagram.com:443/rtmp/"},
		},
		SealedKeys: map[platform.ID][]byte{youtube.ID: {1, 2, 3}, instagram.ID: {4, 5}},
	}
}

func TestALivestreamRoundTripsWithItsSealedKeysBoundToItsTarget(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Livestreams()
	ctx := context.Background()
	ls := sampleLivestream("church-1", "01JABCDEFGHJKMNPQRSTVWXYZ0", time.Now().Add(time.Hour))
	if err := repo.Create(ctx, ls); err != nil {
		t.Fatal(err)
	}
	if err := repo.Create(ctx, ls); !livestream.IsConflict(err) {
		t.Fatalf("a second create of the same id: %v", err)
	}
	got, err := repo.Get(ctx, "church-1", ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ls) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, ls)
	}
	raw, err := f.Store.Get(ctx, store.TenantPK("church-1"), "LIVE#"+ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, ec, ok := store.GetSealed(raw, "streamKey_youtube")
	want := vault.Context("church-1", "youtube", vault.PurposeStreamKey, ls.ID+"/youtube")
	if !ok || !reflect.DeepEqual(ec, want) {
		t.Fatalf("the sealed key's context is %v, want %v", ec, want)
	}
	if store.GetS(raw, "type") != "livestream" || !slices.Contains(store.DuePartitions("DUE#LIVE")[:store.DueShards], store.DuePartition{Index: store.IndexDue, PK: store.GetS(raw, store.AttrDuePK)}) ||
		store.GetS(raw, store.AttrDueSK) != ls.DueAt.UTC().Format("2006-01-02T15:04Z")+"#church-1#"+ls.ID {
		t.Fatalf("keys: %v %v", store.GetS(raw, store.AttrDuePK), store.GetS(raw, store.AttrDueSK))
	}
	if _, err := repo.Get(ctx, "church-2", ls.ID); !store.IsNotFound(err) {
		t.Fatalf("another tenant read it: %v", err)
	}
}

func TestSaveHoldsToTheVersionAndTheClaim(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Livestreams()
	ctx := context.Background()
	now := time.Now().UTC()
	ls := sampleLivestream("church-1", "01JABCDEFGHJKMNPQRSTVWXYZ1", now.Add(time.Hour))
	if err := repo.Create(ctx, ls); err != nil {
		t.Fatal(err)
	}
	stale := *ls

	// A claim: the version read, no live claim.
	ls.Status, ls.ClaimOwner, ls.ClaimUntil = livestream.StatusStarting, "run-a", now.Add(2*time.Minute)
	if err := repo.Save(ctx, ls, livestream.Guard{Version: 1, Now: now}); err != nil || ls.Version != 2 {
		t.Fatalf("claim: %v, version %d", err, ls.Version)
	}
	stale.Title = "lost update"
	if err := repo.Save(ctx, &stale, livestream.Guard{Version: 1, Now: now}); !livestream.IsConflict(err) {
		t.Fatalf("a write of a stale version: %v", err)
	}
	again := *ls
	again.ClaimOwner = "run-b"
	if err := repo.Save(ctx, &again, livestream.Guard{Version: 2, Now: now}); !livestream.IsConflict(err) {
		t.Fatalf("a second claim while the first is live: %v", err)
	}
	// The owner writes targets; nobody else does.
	tg := ls.Targets[0]
	tg.Status = livestream.TargetLive
	if err := repo.SaveTarget(ctx, "church-1", ls.ID, 0, &tg, []byte{9, 9}, "run-b"); !livestream.IsConflict(err) {
		t.Fatalf("a target write without the claim: %v", err)
	}
	if err := repo.SaveTarget(ctx, "church-1", ls.ID, 0, &tg, []byte{9, 9}, "run-a"); err != nil {
		t.Fatal(err)
	}
	got, _ := repo.Get(ctx, "church-1", ls.ID)
	if got.Targets[0].Status != livestream.TargetLive || string(got.SealedKeys[youtube.ID]) != "\x09\x09" || got.Targets[1].Attempts != 2 {
		t.Fatalf("after the target write %+v %v", got.Targets, got.SealedKeys)
	}
	// A dead claim can be taken over.
	later := now.Add(3 * time.Minute)
	again = *got
	again.ClaimOwner, again.ClaimUntil = "run-c", later.Add(2*time.Minute)
	if err := repo.Save(ctx, &again, livestream.Guard{Version: got.Version, Now: later}); err != nil {
		t.Fatalf("taking a dead claim over: %v", err)
	}
	// Releasing drops the claim, the due entry and absent attributes.
	again.ClaimOwner, again.ClaimUntil, again.DueAt, again.Description = "", time.Time{}, time.Time{}, ""
	if err := repo.Save(ctx, &again, livestream.Guard{Owner: "run-c"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := f.Store.Get(ctx, store.TenantPK("church-1"), "LIVE#"+ls.ID)
	for _, a := range []string{"claimOwner", "claimUntil", "description", store.AttrDuePK, store.AttrDueSK, store.AttrGSI1PK, store.AttrGSI1SK} {
		if _, ok := raw[a]; ok {
			t.Errorf("%s is still stored", a)
		}
	}
	if _, _, ok := store.GetSealed(raw, "streamKey_youtube"); !ok {
		t.Error("a save dropped a sealed key")
	}
}

func TestDueListsWhatIsDueByTheMinuteOfTheRun(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Livestreams()
	ctx := context.Background()
	at := time.Date(2030, 5, 5, 10, 0, 30, 0, time.UTC)
	for i, due := range []time.Time{at.Add(-time.Hour), at, at.Add(59 * time.Second), at.Add(90 * time.Second)} {
		ls := sampleLivestream("t"+strings.Repeat("#", i), "01JABCDEFGHJKMNPQRSTVWXYZ"+string(rune('A'+i)), due)
		ls.DueAt = due
		if err := repo.Create(ctx, ls); err != nil {
			t.Fatal(err)
		}
	}
	nothing := sampleLivestream("t", "01JABCDEFGHJKMNPQRSTVWXYZZ", at)
	nothing.DueAt = time.Time{}
	if err := repo.Create(ctx, nothing); err != nil {
		t.Fatal(err)
	}
	refs, next, err := repo.Due(ctx, at.Truncate(time.Minute), "", 10) // a run at 10:00:00
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	var ids []string
	for _, r := range refs {
		ids = append(ids, r.Tenant+"/"+r.ID[len(r.ID)-1:])
	}
	// Due at 09:00:30 and 10:00:30 (the run's minute), not at 10:01:29 or 10:02:00.
	if strings.Join(ids, ",") != "t/A,t#/B" {
		t.Fatalf("due at 10:00: %v", ids)
	}
	refs, _, _ = repo.Due(ctx, at.Add(time.Minute), "", 1)
	if len(refs) != 1 {
		t.Fatalf("a page of 1: %v", refs)
	}
}

// A list shows no stream keys, so it does not read them: what it returns
// is what Get returns but the sealed keys.
func TestLivestreamListReadsEverythingButTheSealedStreamKeys(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	repo := f.Store.Livestreams()
	ctx := context.Background()
	ls := sampleLivestream("church-1", "01JABCDEFGHJKMNPQRSTVWXYZ0", time.Now().Add(time.Hour))
	ls.StartedAt, ls.EndedAt = ls.ScheduledStart, ls.ScheduledEnd
	ls.ClaimOwner, ls.ClaimUntil = "scheduler-1", ls.ScheduledStart
	if err := repo.Create(ctx, ls); err != nil {
		t.Fatal(err)
	}
	list, _, err := repo.List(ctx, "church-1", nil, "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	full, err := repo.Get(ctx, "church-1", ls.ID)
	if err != nil || len(full.SealedKeys) == 0 {
		t.Fatalf("get: %+v %v", full, err)
	}
	everyFieldSet(t, *full)
	if len(list[0].SealedKeys) > 0 {
		t.Errorf("the list read the sealed stream keys: %v", list[0].SealedKeys)
	}
	full.SealedKeys = nil
	if !reflect.DeepEqual(list[0], full) {
		t.Errorf("list gave\n%+v\nGet gave (keys aside)\n%+v", *list[0], *full)
	}
}
