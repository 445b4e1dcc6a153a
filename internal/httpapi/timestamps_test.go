package httpapi_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// odd is a time with a fraction of a second, as stored times have.
var odd = time.Date(2026, 5, 3, 10, 0, 0, 123456789, time.FixedZone("CDT", -5*3600))

type oddConn struct{ httpapi.ConnectionService }

func (oddConn) View(context.Context, string, string) (*connection.Connection, error) {
	return &connection.Connection{Platform: "youtube", ConnectedAt: odd, UpdatedAt: odd.Add(time.Millisecond), ExpiresAt: odd.Add(time.Hour),
		LastError: &connection.LastError{Code: "x", Message: "y", At: odd}}, nil
}

type oddLive struct{ httpapi.LivestreamService }

func (oddLive) Get(context.Context, string, string) (*livestream.Livestream, error) {
	return &livestream.Livestream{ID: "ls_1", ScheduledStart: odd, StartedAt: odd.Add(time.Second / 2)}, nil
}

type oddMeet struct{ httpapi.MeetingService }

func (oddMeet) Get(context.Context, string, string) (*meeting.Meeting, error) {
	return &meeting.Meeting{ID: "mt_1", Start: odd, CreatedAt: odd, CancelledAt: odd.Add(time.Microsecond)}, nil
}

type oddDeploy struct{ httpapi.DeploymentService }

func (oddDeploy) Get(context.Context, string, string) (*deploy.Deployment, error) {
	return &deploy.Deployment{ID: "dp_1", CreatedAt: odd, UpdatedAt: odd.Add(time.Millisecond)}, nil
}

func (oddDeploy) Logs(context.Context, string, string, string) (deploy.LogPage, error) {
	return deploy.LogPage{Lines: []deploy.LogLine{{At: odd, Type: "stdout", Text: "a"}, {At: odd.Add(time.Millisecond), Type: "stdout", Text: "b"}}, Cursor: "c"}, nil
}

func (oddDeploy) Limits(context.Context, deploy.Identity) (ratelimit.Decision, error) {
	return ratelimit.Decision{Limit: 10, Remaining: 9, ResetAt: odd}, nil
}

// Every time in every answer has one form: RFC 3339, UTC, whole seconds.
func TestEveryAnswerWritesTimesToTheSecondInUTC(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{}, httpapi.Services{
		Connections: oddConn{}, Livestreams: oddLive{}, Meetings: oddMeet{}, Deployments: oddDeploy{},
	})
	one := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	for _, path := range []string{"/connections/youtube", "/livestreams/ls_1", "/meetings/mt_1", "/deployments/dp_1", "/deployments/dp_1/logs", "/deployments/limits"} {
		resp, _ := api.Handle(context.Background(), apitest.Event("GET", path, apitest.As("t", "u")))
		var body any
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Body)
		}
		times := 0
		walkStrings(body, func(s string) {
			if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
				times++
				if !one.MatchString(s) {
					t.Errorf("GET %s writes the time %q; want 2026-05-03T15:00:00Z's form", path, s)
				}
			}
		})
		if times == 0 {
			t.Errorf("GET %s has no time to check: %s", path, resp.Body)
		}
	}
}

func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	case map[string]any:
		for _, e := range x {
			walkStrings(e, f)
		}
	}
}
