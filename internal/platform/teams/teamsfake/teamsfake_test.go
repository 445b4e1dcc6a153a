package teamsfake_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
)

func TestRequestWithoutBearerGetsGraphsInvalidTokenAnswer(t *testing.T) {
	t.Parallel()
	f := teamsfake.New()
	defer f.Close()
	resp, err := http.Get(f.APIURL() + "/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 401 || body.Error.Code != "InvalidAuthenticationToken" || body.Error.Message == "" {
		t.Fatalf("%d %+v", resp.StatusCode, body)
	}
}
