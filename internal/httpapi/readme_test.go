package httpapi_test

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// keyRecorder is a ConnectionService that keeps the credentials a
// connect request reached it with.
type keyRecorder struct {
	httpapi.ConnectionService
	got map[string]string
}

func (k *keyRecorder) ConnectWithKey(_ context.Context, _ connection.Identity, p string, in map[string]string) (*connection.Connection, error) {
	k.got = in
	return &connection.Connection{Platform: platform.ID(p), Status: connection.StatusConnected}, nil
}

// The README's connect bodies are what POST /connections/{platform} takes:
// a copy-paste of each reaches the service with fields the platform takes.
func TestReadmeConnectBodiesAreWhatTheRouteTakes(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("`POST /connections/([a-z-]+)` with ((?:`[^`]*`(?: \\([^)]*\\))?(?: or )?)+)").FindAllStringSubmatch(string(readme), -1)
	if len(rows) < 4 {
		t.Fatalf("the README documents %d key connections, want render, railway, vercel and jitsi", len(rows))
	}
	for _, row := range rows {
		p := row[1]
		for _, body := range regexp.MustCompile("`([^`]*)`").FindAllStringSubmatch(row[2], -1) {
			rec := &keyRecorder{}
			api := httpapi.New(httpapi.Config{Function: httpapi.FnConnections}, httpapi.Services{Connections: rec})
			resp, err := api.Handle(context.Background(), apitest.Event("POST", "/connections/"+url.PathEscape(p), apitest.As("t", "u"), apitest.Body(body[1])))
			if err != nil || resp.StatusCode != 201 || rec.got == nil {
				t.Errorf("README body for %s %s: status %d, %s", p, body[1], resp.StatusCode, resp.Body)
				continue
			}
			for k := range rec.got {
				if !slices.Contains(connection.KeyFields(platform.ID(p)), k) {
					t.Errorf("README body for %s names credential %q; %s takes %v", p, k, p, connection.KeyFields(platform.ID(p)))
				}
			}
		}
	}
}
