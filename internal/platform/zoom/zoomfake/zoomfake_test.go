package zoomfake_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

func TestRequestWithoutBearerGetsZoomsInvalidTokenAnswer(t *testing.T) {
	t.Parallel()
	f := zoomfake.New()
	defer f.Close()
	resp, err := http.Get(f.APIURL() + "/users/me")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 401 || body.Code != 124 || body.Message != "Invalid access token." {
		t.Fatalf("%d %+v", resp.StatusCode, body)
	}
	if f.Calls(zoomfake.OpUsersMe) != 1 || len(f.Requests()) != 1 {
		t.Error("the call was not counted and logged")
	}
}

// Zoom answers a token without the endpoint's granular scope with HTTP 400
// and code 4711 (PLATFORMS.md Zoom "(corrected) Missing scope").
func TestATokenWithoutTheEndpointsScopeGetsZooms4711(t *testing.T) {
	t.Parallel()
	f := zoomfake.New()
	defer f.Close()
	f.SetTokenScopes("t1", "meeting:write:meeting")
	req, _ := http.NewRequest(http.MethodGet, f.APIURL()+"/users/me", nil)
	req.Header.Set("Authorization", "Bearer t1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body.Code != 4711 ||
		body.Message != "Invalid access token, does not contain scopes:[user:read:user, user:read:user:admin]." {
		t.Fatalf("%d %+v", resp.StatusCode, body)
	}
}
