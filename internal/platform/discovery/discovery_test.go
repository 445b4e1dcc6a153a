package discovery_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/discovery"
)

var (
	docsMu sync.Mutex
	docs   = map[string]*discovery.Doc{}
)

// load reads a vendor description from shared/specs once per test binary;
// a missing file fails the test.
func load(t *testing.T, name string) *discovery.Doc {
	t.Helper()
	docsMu.Lock()
	defer docsMu.Unlock()
	if d, ok := docs[name]; ok {
		return d
	}
	p, err := discovery.SpecPath(name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := discovery.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	docs[name] = d
	return d
}

func TestFindPicksTheMethodByVerbAndMostSpecificTemplate(t *testing.T) {
	t.Parallel()
	yt := load(t, "youtube-v3-discovery.json")
	meet := load(t, "meet-v2-discovery.json")
	cal := load(t, "calendar-v3-discovery.json")
	cases := []struct {
		doc    *discovery.Doc
		method string
		url    string
		want   string
		vars   map[string]string
	}{
		{yt, "POST", "http://127.0.0.1:1/youtube/v3/liveBroadcasts?part=snippet", "youtube.liveBroadcasts.insert", nil},
		{yt, "POST", "http://127.0.0.1:1/youtube/v3/liveBroadcasts/bind?id=a&part=id", "youtube.liveBroadcasts.bind", nil},
		{yt, "GET", "https://www.googleapis.com/youtube/v3/liveBroadcasts?part=status&id=x", "youtube.liveBroadcasts.list", nil},
		{yt, "DELETE", "https://youtube.googleapis.com/youtube/v3/liveStreams?id=x", "youtube.liveStreams.delete", nil},
		{meet, "POST", "https://meet.googleapis.com/v2/spaces", "meet.spaces.create", nil},
		{meet, "GET", "https://meet.googleapis.com/v2/spaces/abc-def", "meet.spaces.get", map[string]string{"spacesId": "abc-def"}},
		{meet, "POST", "https://meet.googleapis.com/v2/spaces/abc:endActiveConference", "meet.spaces.endActiveConference", map[string]string{"spacesId": "abc"}},
		{cal, "POST", "https://www.googleapis.com/calendar/v3/calendars/primary/events?conferenceDataVersion=1", "calendar.events.insert", map[string]string{"calendarId": "primary"}},
		{cal, "POST", "https://www.googleapis.com/calendar/v3/calendars/primary/events/import", "calendar.events.import", nil},
		{cal, "DELETE", "https://www.googleapis.com/calendar/v3/calendars/a%40b.example/events/e1", "calendar.events.delete", map[string]string{"calendarId": "a@b.example", "eventId": "e1"}},
	}
	for _, c := range cases {
		m, vars, err := c.doc.Find(c.method, c.url)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.url, err)
			continue
		}
		if m.ID != c.want {
			t.Errorf("%s %s: found %s, want %s", c.method, c.url, m.ID, c.want)
		}
		for k, v := range c.vars {
			if vars[k] != v {
				t.Errorf("%s %s: var %s=%q, want %q", c.method, c.url, k, vars[k], v)
			}
		}
	}
}

func TestCheckAcceptsValidRequests(t *testing.T) {
	t.Parallel()
	yt := load(t, "youtube-v3-discovery.json")
	cal := load(t, "calendar-v3-discovery.json")
	ok := []struct {
		doc         *discovery.Doc
		method, url string
		body        string
	}{
		{yt, "POST", "/youtube/v3/liveBroadcasts?part=snippet%2Cstatus%2CcontentDetails",
			`{"snippet":{"title":"Sunday","scheduledStartTime":"2030-01-01T10:00:00Z"},"status":{"privacyStatus":"public","selfDeclaredMadeForKids":false},"contentDetails":{"enableAutoStart":false,"enableAutoStop":true,"monitorStream":{"enableMonitorStream":false}}}`},
		{yt, "POST", "/youtube/v3/liveStreams?part=snippet,cdn,status",
			`{"snippet":{"title":"Sunday"},"cdn":{"ingestionType":"rtmp","resolution":"variable","frameRate":"variable"}}`},
		{yt, "POST", "/youtube/v3/liveBroadcasts/transition?broadcastStatus=live&id=b1&part=status", ""},
		{yt, "GET", "/youtube/v3/channels?part=snippet&mine=true&fields=items(id)&prettyPrint=false", ""},
		{cal, "POST", "/calendar/v3/calendars/primary/events?conferenceDataVersion=1",
			`{"summary":"x","start":{"dateTime":"2030-01-01T10:00:00+01:00"},"end":{"dateTime":"2030-01-01T11:00:00+01:00"},"conferenceData":{"createRequest":{"requestId":"r1","conferenceSolutionKey":{"type":"hangoutsMeet"}}},"attendees":[{"email":"a@b.example"}]}`},
	}
	for _, c := range ok {
		if err := c.doc.Check(c.method, "http://127.0.0.1:9"+c.url, []byte(c.body)); err != nil {
			t.Errorf("%s %s: %v", c.method, c.url, err)
		}
	}
}

func TestCheckRejectsWhatTheDescriptionDoesNotHave(t *testing.T) {
	t.Parallel()
	yt := load(t, "youtube-v3-discovery.json")
	cal := load(t, "calendar-v3-discovery.json")
	bad := []struct {
		name        string
		doc         *discovery.Doc
		method, url string
		body        string
		want        string
	}{
		{"unknown path", yt, "POST", "/youtube/v3/liveBroadcasts/start?id=x&part=id", "", "no such method"},
		{"wrong verb", yt, "PATCH", "/youtube/v3/liveBroadcasts?part=id", "", "no such method"},
		{"outside the base path", cal, "GET", "/calendar/v2/colors", "", "not under the API's base path"},
		{"missing required query", yt, "POST", "/youtube/v3/liveBroadcasts/transition?id=b1&part=status", "", "required query parameter broadcastStatus"},
		{"undeclared query", yt, "GET", "/youtube/v3/liveBroadcasts?part=status&id=x&idempotencyKey=1", "", "idempotencyKey is not declared"},
		{"enum in query", yt, "POST", "/youtube/v3/liveBroadcasts/transition?broadcastStatus=started&id=b1&part=status", "", `"started" is not one of`},
		{"boolean in query", yt, "GET", "/youtube/v3/channels?part=snippet&mine=yes", "", "not a boolean"},
		{"unknown top-level body field", yt, "POST", "/youtube/v3/liveBroadcasts?part=snippet", `{"snippet":{"title":"x"},"schedule":{}}`, `"schedule" is not in schema LiveBroadcast`},
		{"unknown nested body field", yt, "POST", "/youtube/v3/liveBroadcasts?part=snippet", `{"snippet":{"title":"x","startTime":"2030-01-01T00:00:00Z"}}`, `snippet.startTime`},
		{"wrong body type", yt, "POST", "/youtube/v3/liveBroadcasts?part=status", `{"status":{"selfDeclaredMadeForKids":"no"}}`, "want a boolean"},
		{"enum in body", yt, "POST", "/youtube/v3/liveStreams?part=cdn", `{"cdn":{"ingestionType":"srt","resolution":"variable","frameRate":"variable"}}`, `"srt" is not one of`},
		{"field required for the method", yt, "POST", "/youtube/v3/liveStreams?part=cdn", `{"cdn":{"resolution":"variable","frameRate":"variable"}}`, "cdn.ingestionType: required field is missing"},
		{"date-time format", yt, "POST", "/youtube/v3/liveBroadcasts?part=snippet", `{"snippet":{"scheduledStartTime":"tomorrow"}}`, "RFC 3339"},
		{"body on a method without one", yt, "POST", "/youtube/v3/liveBroadcasts/bind?id=a&part=id", `{"streamId":"s"}`, "takes no body"},
		{"array items", cal, "POST", "/calendar/v3/calendars/primary/events", `{"attendees":[{"mail":"a@b.example"}]}`, `attendees[0].mail`},
	}
	for _, c := range bad {
		err := c.doc.Check(c.method, "http://127.0.0.1:9"+c.url, []byte(c.body))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestParseRejectsWhatIsNotADiscoveryDocument(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{`, `{"openapi":"3.0.0"}`, `{"rootUrl":"https://x.example/","resources":{}}`} {
		if _, err := discovery.Parse([]byte(raw)); err == nil {
			t.Errorf("%s: parsed", raw)
		}
	}
}

func TestSpecPathFailsLoudlyForAMissingFile(t *testing.T) {
	t.Parallel()
	_, err := discovery.SpecPath("no-such-description.json")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckResponseHoldsAnswersToTheResponseSchema(t *testing.T) {
	t.Parallel()
	yt := load(t, "youtube-v3-discovery.json")
	const list = "http://127.0.0.1:9/youtube/v3/liveBroadcasts?part=status&id=x"
	good := `{"kind":"youtube#liveBroadcastListResponse","items":[{"id":"x","status":{"lifeCycleStatus":"ready","privacyStatus":"public"}}],"pageInfo":{"totalResults":1}}`
	if err := yt.CheckResponse("GET", list, []byte(good)); err != nil {
		t.Errorf("valid answer refused: %v", err)
	}
	for body, want := range map[string]string{
		`{"items":[{"id":"x","status":{"lifeCycleStatus":"started"}}]}`: `"started" is not one of`,
		`{"items":[{"id":"x","state":"ready"}]}`:                        `items[0].state`,
		`{"items":{"id":"x"}}`:                                          "want an array",
	} {
		err := yt.CheckResponse("GET", list, []byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", body, err, want)
		}
	}
	if err := yt.CheckResponse("DELETE", "http://127.0.0.1:9/youtube/v3/liveBroadcasts?id=x", nil); err != nil {
		t.Errorf("empty answer to delete: %v", err)
	}
}
