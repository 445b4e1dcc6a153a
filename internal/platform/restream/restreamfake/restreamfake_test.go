package restreamfake_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform/restream/restreamfake"
)

func post(t *testing.T, f *restreamfake.Server, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v2/user/events/new", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Restream takes scheduledFor as an ISO 8601 string and refuses unix
// seconds (developers.restream.io/events/event-create).
func TestEventCreateTakesScheduledForOnlyAsAnISO8601String(t *testing.T) {
	t.Parallel()
	f := restreamfake.New()
	t.Cleanup(f.Close)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	cases := []struct {
		name, scheduledFor string
		want               int
	}{
		{"iso 8601", `"` + at.Format(time.RFC3339) + `"`, http.StatusCreated},
		{"unix seconds", "1899999999", http.StatusBadRequest},
		{"not a date", `"next sunday"`, http.StatusBadRequest},
		{"in the past", `"2020-05-10T15:00:00Z"`, http.StatusBadRequest},
	}
	for _, tc := range cases {
		status, out := post(t, f, `{"streamType":"encoder","title":"Sunday","scheduledFor":`+tc.scheduledFor+`}`)
		if status != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, status, out, tc.want)
		}
		if status == http.StatusCreated {
			if n, _ := out["scheduledFor"].(float64); int64(n) != at.Unix() {
				t.Errorf("%s: scheduledFor %v", tc.name, out["scheduledFor"])
			}
		} else if e, _ := out["error"].(map[string]any); e["name"] != "bad_request" {
			t.Errorf("%s: error %v", tc.name, out)
		}
	}
}

// An event made through the API has no destinations, so its own key
// reaches no channel; the user's default key reaches the enabled ones
// (developers.restream.io/events/event-create, /private-api/stream-key).
func TestAnAPIEventsKeyReachesNothingAndTheDefaultKeyReachesTheEnabledChannels(t *testing.T) {
	t.Parallel()
	f := restreamfake.New()
	t.Cleanup(f.Close)
	status, out := post(t, f, `{"streamType":"encoder","title":"Sunday"}`)
	if status != http.StatusCreated {
		t.Fatalf("%d %v", status, out)
	}
	if d, _ := out["destinations"].([]any); len(d) != 0 {
		t.Errorf("a created event has destinations %v", d)
	}
	ev, ok := f.Event(out["id"].(string))
	if !ok {
		t.Fatal("no event")
	}
	if got := f.Reaches(ev.StreamKey); len(got) != 0 {
		t.Errorf("the event's key reaches %+v", got)
	}
	f.Push(ev.StreamKey, true)
	if live := f.Live(); len(live) != 0 {
		t.Errorf("pushing to the event's key is live on %+v", live)
	}
	f.SetChannels([]restreamfake.Channel{{ID: 7, Platform: "youtube", Enabled: true}, {ID: 8, Platform: "facebook", Enabled: false}})
	got := f.Reaches(f.UserStreamKey())
	if len(got) != 1 || got[0].ID != 7 {
		t.Errorf("the default key reaches %+v, want only the enabled channel", got)
	}
	f.Push(f.UserStreamKey(), true)
	if live := f.Live(); len(live) != 1 || live[0].ID != 7 {
		t.Errorf("live on %+v", live)
	}
}
