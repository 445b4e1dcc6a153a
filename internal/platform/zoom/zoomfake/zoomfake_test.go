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
