package livestream_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
	"github.com/switchboard-dev/switchboard/internal/platform/restream"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
)

// ingestOf is the ingest route's answer for one target.
func (e *env) ingestOf(id string, p platform.ID) livestream.Ingest {
	e.t.Helper()
	list, err := e.svc.Ingest(context.Background(), tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, in := range list {
		if in.Platform == p {
			return in
		}
	}
	e.t.Fatalf("no %s ingest", p)
	return livestream.Ingest{}
}

// Two Sundays: the same YouTube ingest URL and key, one reusable stream
// bound to two broadcasts, and each ingest says it is stable; Restream's
// is stable too; Facebook's key is its live video's own.
func TestTheYouTubeKeyIsTheSameEveryWeek(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID, restream.ID, facebook.ID)
	first := e.create(e.input("youtube", "restream", "facebook"))
	next := e.input("youtube", "restream", "facebook")
	next.ScheduledStart = next.ScheduledStart.Add(7 * 24 * time.Hour)
	next.ScheduledEnd = next.ScheduledEnd.Add(7 * 24 * time.Hour)
	second := e.create(next)

	a, b := e.ingestOf(first.ID, youtube.ID), e.ingestOf(second.ID, youtube.ID)
	if a.StreamKey == "" || a.StreamKey != b.StreamKey || a.IngestURL != b.IngestURL || !a.Stable || !b.Stable {
		t.Fatalf("YouTube ingests differ or are not stable: %v %v, %v %v", a.IngestURL, a.Stable, b.IngestURL, b.Stable)
	}
	if n := e.yt.Calls(youtubefake.OpStreamInsert); n != 1 {
		t.Fatalf("%d streams created at YouTube, want one kept stream", n)
	}
	for _, r := range e.yt.Requests() {
		if r.Op == youtubefake.OpStreamInsert && !bytesContain(r.Body, `"isReusable":true`) {
			t.Fatalf("the kept stream was not created reusable: %s", r.Body)
		}
	}
	ytA, ytB := target(t, first, youtube.ID), target(t, second, youtube.ID)
	bA, _ := e.yt.Broadcast(ytA.ExternalID)
	bB, _ := e.yt.Broadcast(ytB.ExternalID)
	if bA.BoundStreamID == "" || bA.BoundStreamID != bB.BoundStreamID {
		t.Fatalf("the broadcasts are bound to %q and %q, want the same stream", bA.BoundStreamID, bB.BoundStreamID)
	}
	if r := e.ingestOf(first.ID, restream.ID); !r.Stable {
		t.Errorf("Restream's default key is not reported stable")
	}
	// Facebook grants the Page's persistent stream key: the same both
	// weeks, stable, with its note; a Page refused one keeps each video's
	// own key, not stable, and says why.
	day := e.input("youtube", "restream", "facebook")
	day.ScheduledStart, day.ScheduledEnd = day.ScheduledStart.Add(24*time.Hour), day.ScheduledEnd.Add(24*time.Hour)
	monday := e.create(day)
	fa, fb2 := e.ingestOf(first.ID, facebook.ID), e.ingestOf(monday.ID, facebook.ID)
	if !fa.Stable || fa.StreamKey == "" || fa.StreamKey != fb2.StreamKey || fa.StreamKey != e.fb.PersistentKey("") || fa.StableNote == "" {
		t.Errorf("Facebook's persistent key: stable %v, same %v, note %q", fa.Stable, fa.StreamKey == fb2.StreamKey, fa.StableNote)
	}
	e.fb.DenyPersistentKey("")
	day.ScheduledStart, day.ScheduledEnd = day.ScheduledStart.Add(24*time.Hour), day.ScheduledEnd.Add(24*time.Hour)
	refused := e.create(day)
	if f := e.ingestOf(refused.ID, facebook.ID); f.Stable || f.StreamKey == "" || f.StreamKey == fa.StreamKey ||
		!strings.Contains(f.StableNote, "changes with the next livestream") {
		t.Errorf("a Page refused a persistent key: stable %v, note %q", f.Stable, f.StableNote)
	}

	// The first Sunday goes live and ends; the kept stream stays, and the
	// second Sunday goes live on it.
	e.yt.PushAll()
	e.at(first.ScheduledStart)
	e.run()
	e.at(first.ScheduledEnd)
	e.run()
	if _, ok := e.yt.Stream(bA.BoundStreamID); !ok {
		t.Fatal("the kept stream was deleted after the first broadcast")
	}
	e.at(second.ScheduledStart)
	e.run()
	if got := target(t, e.get(second.ID), youtube.ID); got.Status != livestream.TargetLive {
		t.Fatalf("the second Sunday on the kept stream: %+v %+v", got, got.LastError)
	}
}

// A kept stream deleted at YouTube (by the user in YouTube Studio) is
// replaced once, at the next set-up: that livestream gets a new key, which
// the next ones share again.
func TestAKeptStreamDeletedAtYouTubeIsReplacedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	first := e.create(e.input("youtube"))
	old := e.ingestOf(first.ID, youtube.ID)
	b, _ := e.yt.Broadcast(target(t, first, youtube.ID).ExternalID)
	if err := e.svc.Cancel(context.Background(), tenant, first.ID); err != nil {
		t.Fatal(err)
	}
	deleteStream(t, e, b.BoundStreamID)

	// The third a day later: at the same time it would need a key of its own.
	later := e.input("youtube")
	later.ScheduledStart, later.ScheduledEnd = later.ScheduledStart.Add(24*time.Hour), later.ScheduledEnd.Add(24*time.Hour)
	second, third := e.create(e.input("youtube")), e.create(later)
	k2, k3 := e.ingestOf(second.ID, youtube.ID), e.ingestOf(third.ID, youtube.ID)
	if got := target(t, second, youtube.ID); got.Status != livestream.TargetReady {
		t.Fatalf("after the kept stream was deleted: %+v %+v", got, got.LastError)
	}
	if k2.StreamKey == old.StreamKey || k2.StreamKey != k3.StreamKey || !k2.Stable {
		t.Fatalf("keys: old %t, second = third %t, stable %t", k2.StreamKey == old.StreamKey, k2.StreamKey == k3.StreamKey, k2.Stable)
	}
}

// Two livestreams on one YouTube channel at the same time cannot share the
// kept stream (one encoder's picture): the second gets its own key, says
// why, and is not stable; one at another time shares the kept key again.
func TestAnOverlappingLivestreamGetsItsOwnKeyAndSaysWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(tenant, youtube.ID)
	first := e.create(e.input("youtube"))
	overlapping := e.input("youtube")
	overlapping.ScheduledStart = first.ScheduledStart.Add(30 * time.Minute)
	overlapping.ScheduledEnd = overlapping.ScheduledStart.Add(time.Hour)
	second := e.create(overlapping)
	afterwards := e.input("youtube")
	afterwards.ScheduledStart = first.ScheduledEnd
	afterwards.ScheduledEnd = afterwards.ScheduledStart.Add(time.Hour)
	third := e.create(afterwards)

	k1, k2, k3 := e.ingestOf(first.ID, youtube.ID), e.ingestOf(second.ID, youtube.ID), e.ingestOf(third.ID, youtube.ID)
	if !k1.Stable || k2.Stable || k2.StreamKey == k1.StreamKey || !strings.Contains(k2.StableNote, first.ID) {
		t.Fatalf("the overlapping one: stable %t, same key %t, note %q", k2.Stable, k2.StreamKey == k1.StreamKey, k2.StableNote)
	}
	if !k3.Stable || k3.StreamKey != k1.StreamKey {
		t.Fatalf("the one after the first ends: stable %t, same key %t", k3.Stable, k3.StreamKey == k1.StreamKey)
	}
	if err := e.svc.Cancel(context.Background(), tenant, first.ID); err != nil {
		t.Fatal(err)
	}
	// With the first cancelled, one at its time shares the kept key again
	// (the overlapping one has a key of its own).
	atFirst := e.input("youtube")
	atFirst.ScheduledStart, atFirst.ScheduledEnd = first.ScheduledStart, first.ScheduledEnd
	again := e.create(atFirst)
	if k := e.ingestOf(again.ID, youtube.ID); !k.Stable || k.StreamKey != k1.StreamKey {
		t.Fatalf("after the cancel: stable %t, same key %t", k.Stable, k.StreamKey == k1.StreamKey)
	}
}

func bytesContain(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// deleteStream deletes a stream at the YouTube fake, as the user would in
// YouTube Studio.
func deleteStream(t *testing.T, e *env, id string) {
	t.Helper()
	c := youtube.New(&http.Client{Timeout: 5 * time.Second}, e.yt.URL)
	if err := c.DropIngest(context.Background(), e.token(tenant, youtube.ID), id); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.yt.Stream(id); ok {
		t.Fatal("the stream is still there")
	}
}
