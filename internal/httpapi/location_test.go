package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/deploy"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

var made = time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)

// makers answer every create with something made, as the services do.
type liveMaker struct{ httpapi.LivestreamService }

func (liveMaker) Create(context.Context, string, string, livestream.CreateInput) (*livestream.Livestream, error) {
	return &livestream.Livestream{ID: "ls_1", Title: "x", ScheduledStart: made}, nil
}

type meetMaker struct{ httpapi.MeetingService }

func (meetMaker) Create(context.Context, string, string, meeting.CreateInput) (*meeting.Meeting, error) {
	return &meeting.Meeting{ID: "mt_1", Title: "x", Start: made, CreatedAt: made}, nil
}

type deployMaker struct{ httpapi.DeploymentService }

func (deployMaker) Create(context.Context, deploy.Identity, deploy.Request) (*deploy.Deployment, ratelimit.Decision, error) {
	return &deploy.Deployment{ID: "dp_1", CreatedAt: made}, ratelimit.Decision{Allowed: true, Limit: 10, Remaining: 9}, nil
}

func (deployMaker) Rollback(context.Context, deploy.Identity, string) (*deploy.Deployment, ratelimit.Decision, error) {
	return &deploy.Deployment{ID: "dp_2", CreatedAt: made, RollbackOf: "dp_1"}, ratelimit.Decision{Allowed: true, Limit: 10, Remaining: 8}, nil
}

// Every answer that made something (201, or 202 while it is being made)
// says where to read it.
func TestEveryCreateAnswersWithItsLocation(t *testing.T) {
	t.Parallel()
	api := httpapi.New(httpapi.Config{}, httpapi.Services{
		Connections: &keyRecorder{}, Livestreams: liveMaker{}, Meetings: meetMaker{}, Deployments: deployMaker{},
	})
	cases := []struct {
		method, path, body string
		status             int
		location           string
	}{
		{"POST", "/connections/render", `{"credentials":{"apiKey":"k"}}`, 201, "/connections/render"},
		{"POST", "/livestreams", `{"title":"x","scheduledStart":"2026-05-03T10:00:00Z","targets":[{"platform":"youtube"}]}`, 201, "/livestreams/ls_1"},
		{"POST", "/meetings", `{"title":"x","startTime":"2026-05-03T10:00:00Z","durationMinutes":30,"targets":[{"platform":"zoom"}]}`, 201, "/meetings/mt_1"},
		{"POST", "/deployments", `{"platform":"render","projectName":"site","image":"nginx:1"}`, 202, "/deployments/dp_1"},
		{"POST", "/deployments/dp_1/rollback", "", 202, "/deployments/dp_2"},
	}
	for _, c := range cases {
		opts := []apitest.Option{apitest.As("t", "u")}
		if c.body != "" {
			opts = append(opts, apitest.Body(c.body))
		}
		resp, _ := api.Handle(context.Background(), apitest.Event(c.method, c.path, opts...))
		if resp.StatusCode != c.status || resp.Headers["Location"] != c.location {
			t.Errorf("%s %s: %d Location %q, want %d %q (%s)", c.method, c.path, resp.StatusCode, resp.Headers["Location"], c.status, c.location, resp.Body)
		}
	}
}
