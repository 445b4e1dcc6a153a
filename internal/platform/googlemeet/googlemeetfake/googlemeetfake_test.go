package googlemeetfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
)

func TestRequestsWithoutBearerGetEachServicesUnauthenticatedAnswer(t *testing.T) {
	t.Parallel()
	f := googlemeetfake.New()
	defer f.Close()
	cases := []struct{ method, url, want string }{
		{"POST", f.MeetURL() + "/spaces", `"status":"UNAUTHENTICATED"`},
		{"GET", f.CalendarURL() + "/calendars/primary/events/abcde", `"reason":"authError"`},
		{"GET", f.UserinfoURL(), `"error":"invalid_request"`},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, c.url, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s %s: %d %s", c.method, c.url, resp.StatusCode, raw)
		}
	}
}
