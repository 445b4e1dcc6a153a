package zoomfake_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
)

type zoomError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// usersMe asks GET /users/me with the bearer token ("" for none).
func usersMe(t *testing.T, f *zoomfake.Server, bearer string) (int, zoomError) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.APIURL()+"/users/me", nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body zoomError
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestRequestWithoutBearerGetsZoomsInvalidTokenAnswer(t *testing.T) {
	t.Parallel()
	f := zoomfake.New()
	defer f.Close()
	status, body := usersMe(t, f, "")
	if status != 401 || body.Code != 124 || body.Message != "Invalid access token." {
		t.Fatalf("%d %+v", status, body)
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
	status, body := usersMe(t, f, "t1")
	if status != 400 || body.Code != 4711 ||
		body.Message != "Invalid access token, does not contain scopes:[user:read:user, user:read:user:admin]." {
		t.Fatalf("%d %+v", status, body)
	}
	if status, _ := usersMe(t, f, "t2"); status != 200 {
		t.Fatalf("a token with the app's default scopes: %d", status)
	}
}
