package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/livestream"
)

// seriesChanger records the change PATCH /series/{id} hands the service.
type seriesChanger struct {
	httpapi.LivestreamService
	got []livestream.SeriesChange
}

func (c *seriesChanger) ChangeSeries(_ context.Context, _, id string, ch livestream.SeriesChange) (*livestream.Series, error) {
	c.got = append(c.got, ch)
	return &livestream.Series{ID: id, Status: livestream.SeriesActive, CreatedAt: made, Definition: livestream.Definition{From: made, FirstStart: made}}, nil
}

func (c *seriesChanger) NextOccurrences(context.Context, *livestream.Series, int) ([]livestream.Occurrence, error) {
	return nil, nil
}

// PATCH /series/{id} reads its body into the change; a body it cannot read
// is a problem and reaches no service.
func TestChangingASeriesReadsTheBodyOrAnswersAProblem(t *testing.T) {
	t.Parallel()
	svc := &seriesChanger{}
	api := httpapi.New(httpapi.Config{}, httpapi.Services{Livestreams: svc})
	const path = "/series/01JABCDEFGHJKMNPQRSTVWXYZ0"
	patch := func(body string) (int, string) {
		resp, _ := api.Handle(context.Background(), apitest.Event("PATCH", path, apitest.As("t", "u"), apitest.Body(body)))
		var problem struct{ Code string }
		_ = json.Unmarshal([]byte(resp.Body), &problem)
		return resp.StatusCode, problem.Code
	}
	for _, c := range []struct{ name, body, code string }{
		{"from no time", `{"from":"Sunday","title":"x"}`, "invalid_body"},
		{"a start no time", `{"from":"2027-03-14T00:00:00Z","scheduledStart":"11:00"}`, "invalid_body"},
		{"an empty targets list", `{"from":"2027-03-14T00:00:00Z","targets":[]}`, "invalid_body"},
		{"an unknown field", `{"from":"2027-03-14T00:00:00Z","colour":"red"}`, "invalid_body"},
	} {
		if status, code := patch(c.body); status != 400 || code != c.code {
			t.Errorf("%s: %d %q, want 400 %s", c.name, status, code, c.code)
		}
	}
	if len(svc.got) != 0 {
		t.Fatalf("a bad body reached the service: %+v", svc.got)
	}
	status, _ := patch(`{"from":"2027-03-14T00:00:00-06:00","title":"Worship","scheduledStart":"2027-03-14T11:00:00-05:00",
		"scheduledEnd":"2027-03-14T12:30:00-05:00","targets":[{"platform":"youtube"}],"recurrence":{"rule":"FREQ=WEEKLY;BYDAY=SU","timeZone":"America/Chicago"}}`)
	if status != 200 || len(svc.got) != 1 {
		t.Fatalf("%d, %d changes", status, len(svc.got))
	}
	ch := svc.got[0]
	if !ch.From.Equal(time.Date(2027, 3, 14, 6, 0, 0, 0, time.UTC)) || *ch.Title != "Worship" || ch.Description != nil ||
		!ch.ScheduledStart.Equal(time.Date(2027, 3, 14, 16, 0, 0, 0, time.UTC)) || ch.ScheduledEnd.Sub(*ch.ScheduledStart) != 90*time.Minute ||
		len(ch.Targets) != 1 || ch.Targets[0].Platform != "youtube" || ch.Recurrence.TimeZone != "America/Chicago" {
		t.Fatalf("the change read: %+v", ch)
	}
}
