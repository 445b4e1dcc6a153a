package eventfile_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/eventfile"
)

func bodyTimes(t *testing.T, raw []byte) map[string]time.Time {
	t.Helper()
	var ev struct{ Body string }
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
		return nil
	}
	out := map[string]time.Time{}
	for k, v := range body {
		if s, ok := v.(string); ok {
			if tm, err := time.Parse(time.RFC3339, s); err == nil {
				out[k] = tm
			}
		}
	}
	return out
}

func TestAStaleBodyMovesAheadByWholeDaysKeepingItsDurations(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 6, 10, 15, 30, 0, 0, time.UTC)
	raw := []byte(`{"version":"2.0","rawPath":"/livestreams","body":"{\"title\":\"x\",\"scheduledStart\":\"2026-11-29T10:00:00Z\",\"scheduledEnd\":\"2026-11-29T11:30:00-06:00\",\"n\":12345678901234567890}"}`)
	out, err := eventfile.Refresh(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	got := bodyTimes(t, out)
	start, end := got["scheduledStart"], got["scheduledEnd"]
	if start.Before(now.Add(eventfile.Lead)) || start.After(now.Add(eventfile.Lead+24*time.Hour)) {
		t.Fatalf("scheduledStart %s, want within a day after %s", start, now.Add(eventfile.Lead))
	}
	if end.Sub(start) != 7*time.Hour+30*time.Minute || start.Hour() != 10 {
		t.Fatalf("the schedule changed shape: %s – %s", start, end)
	}
	var ev struct{ Body string }
	_ = json.Unmarshal(out, &ev)
	var body map[string]json.RawMessage
	_ = json.Unmarshal([]byte(ev.Body), &body)
	if string(body["n"]) != "12345678901234567890" || string(body["scheduledEnd"])[20:26] != "-06:00" {
		t.Fatalf("numbers or offsets were rewritten: %s", ev.Body)
	}
	// A body far enough ahead, and an event without a body, stay as they are.
	if again, _ := eventfile.Refresh(out, now); string(again) != string(out) {
		t.Fatal("a fresh body was moved again")
	}
	sched := []byte(`{"detail-type":"Scheduled Event","time":"2026-11-29T10:00:00Z"}`)
	if same, _ := eventfile.Refresh(sched, now); string(same) != string(sched) {
		t.Fatal("an event without a body was changed")
	}
}

// TestNoSampleEventIsStaleWhenRead holds every events/*.json, read as make
// invoke, make bench and the fuzz targets read it, to times that lie ahead
// (not refused as past) and within the year the services accept, whatever
// today's date.
func TestNoSampleEventIsStaleWhenRead(t *testing.T) {
	t.Parallel()
	files, err := eventfile.Samples()
	if err != nil {
		t.Fatal(err)
	}
	timed := 0
	for _, now := range []time.Time{time.Now(), time.Now().AddDate(3, 0, 0), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} {
		for _, f := range files {
			raw, err := eventfile.Read(f, now)
			if err != nil {
				t.Fatal(err)
			}
			for k, tm := range bodyTimes(t, raw) {
				timed++
				if tm.Before(now.Add(eventfile.Lead)) || tm.After(now.AddDate(0, 11, 0)) {
					t.Errorf("%s at %s: %s is %s, want between a week and eleven months ahead", filepath.Base(f), now.Format(time.DateOnly), k, tm)
				}
			}
		}
	}
	if timed == 0 {
		t.Fatal("no sample event has a time to check")
	}
}
