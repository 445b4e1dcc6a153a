package meeting

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
)

func TestStatusFollowsTheTargetsAndThePlannedEnd(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	before, after := start.Add(-time.Hour), start.Add(2*time.Hour)
	targets := func(ss ...TargetStatus) []Target {
		var out []Target
		for _, s := range ss {
			out = append(out, Target{Status: s})
		}
		return out
	}
	for _, c := range []struct {
		name      string
		targets   []Target
		cancelled bool
		at        time.Time
		want      Status
	}{
		{"one ready target schedules it", targets(TargetReady, TargetFailed), false, before, StatusScheduled},
		{"a ready target after the planned end has ended", targets(TargetFailed, TargetReady), false, after, StatusEnded},
		{"the planned end itself is ended", targets(TargetReady), false, start.Add(time.Hour), StatusEnded},
		{"pending and failed targets are pending", targets(TargetFailed, TargetPending), false, before, StatusPending},
		{"a ready target wins over a pending one", targets(TargetPending, TargetReady), false, before, StatusScheduled},
		{"every target failed is failed", targets(TargetFailed, TargetFailed), false, before, StatusFailed},
		{"failed stays failed after the end", targets(TargetFailed), false, after, StatusFailed},
		{"cancelled wins over everything", targets(TargetReady), true, before, StatusCancelled},
		{"cancelled after the end is still cancelled", targets(TargetReady), true, after, StatusCancelled},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &Meeting{Start: start, Duration: time.Hour, Targets: c.targets}
			if c.cancelled {
				m.CancelledAt = before
			}
			if got := m.StatusAt(c.at); got != c.want {
				t.Fatalf("StatusAt = %s, want %s", got, c.want)
			}
		})
	}
}

func TestIDsSortByCreationTimeAndAreRecognised(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 50 {
		id, err := NewID(base.Add(time.Duration(i) * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if !ValidID(id) {
			t.Fatalf("NewID made %q, which ValidID refuses", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids made a millisecond apart do not sort by time: %v", ids)
	}
	a, _ := NewID(base)
	b, _ := NewID(base)
	if a == b {
		t.Fatalf("two ids in the same millisecond are equal: %s", a)
	}
	for _, bad := range []string{"", "mtg_", "m-1", strings.ToUpper(a), a + "0", a[:len(a)-1], "mtg_" + strings.Repeat("w", 26), "MEET#" + a} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestValidateRefusesBadRequestsNamingTheField(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	good := func() CreateInput {
		return CreateInput{Title: "Elders", StartTime: "2026-03-01T10:00:00-06:00", DurationMinutes: 60,
			TimeZone: str("America/Chicago"), Platforms: []string{"zoom", "jitsi"}}
	}
	for _, c := range []struct {
		name   string
		change func(*CreateInput)
		field  string
	}{
		{"an empty title", func(in *CreateInput) { in.Title = "  " }, "title"},
		{"a title of 201 characters", func(in *CreateInput) { in.Title = strings.Repeat("é", 201) }, "title"},
		{"a title with a line break", func(in *CreateInput) { in.Title = "a\nb" }, "title"},
		{"no start time", func(in *CreateInput) { in.StartTime = "" }, "startTime"},
		{"a start time without an offset", func(in *CreateInput) { in.StartTime = "2026-03-01T10:00:00" }, "startTime"},
		{"a start time that is not a time", func(in *CreateInput) { in.StartTime = "tomorrow" }, "startTime"},
		{"a start more than the grace in the past", func(in *CreateInput) { in.StartTime = "2026-03-01T11:54:59Z" }, "startTime"},
		{"the zero time", func(in *CreateInput) { in.StartTime = "0001-01-01T00:00:00Z" }, "startTime"},
		{"a start more than a year ahead", func(in *CreateInput) { in.StartTime = "2206-03-01T10:00:00Z" }, "startTime"},
		{"a duration of zero", func(in *CreateInput) { in.DurationMinutes = 0 }, "durationMinutes"},
		{"a duration over a day", func(in *CreateInput) { in.DurationMinutes = 1441 }, "durationMinutes"},
		{"an unknown time zone", func(in *CreateInput) { in.TimeZone = str("Mars/Olympus") }, "timezone"},
		{"the server's Local zone", func(in *CreateInput) { in.TimeZone = str("Local") }, "timezone"},
		{"an empty time zone", func(in *CreateInput) { in.TimeZone = str("") }, "timezone"},
		{"no targets", func(in *CreateInput) { in.Platforms = nil }, "targets"},
		{"five targets", func(in *CreateInput) {
			in.Platforms = []string{"zoom", "jitsi", "google-meet", "microsoft-teams", "zoom"}
		}, "targets"},
		{"an unknown platform", func(in *CreateInput) { in.Platforms = []string{"zoom", "skype"} }, "targets[1].platform"},
		{"a livestream platform", func(in *CreateInput) { in.Platforms = []string{"youtube"} }, "targets[0].platform"},
		{"a platform twice", func(in *CreateInput) { in.Platforms = []string{"jitsi", "zoom", "jitsi"} }, "targets[2].platform"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.change(&in)
			_, err := validate(in, now)
			e, ok := apperr.As(err)
			// A platform's refusals have the codes every route gives them.
			code := map[string]string{"an unknown platform": "unknown_platform", "a livestream platform": "wrong_platform_kind"}[c.name]
			if code == "" {
				code = "invalid_meeting"
			}
			if !ok || e.Kind != apperr.Invalid || string(e.Code) != code || e.Fields["field"] != c.field || e.Detail == "" {
				t.Fatalf("got %v (fields %v), want %s naming %s", err, e, code, c.field)
			}
		})
	}

	t.Run("a good request is normalised", func(t *testing.T) {
		in := good()
		in.Title = "  Elders  "
		sp, err := validate(in, now)
		if err != nil {
			t.Fatal(err)
		}
		if sp.title != "Elders" || !sp.start.Equal(time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)) || sp.start.Location() != time.UTC ||
			sp.duration != time.Hour || sp.timeZone != "America/Chicago" ||
			len(sp.platforms) != 2 || sp.platforms[0] != zoom.ID || sp.platforms[1] != jitsi.ID {
			t.Fatalf("normalised to %+v", sp)
		}
	})
	t.Run("no time zone is UTC, and a start within the grace is accepted", func(t *testing.T) {
		in := good()
		in.TimeZone, in.StartTime = nil, "2026-03-01T11:56:00Z"
		sp, err := validate(in, now)
		if err != nil || sp.timeZone != "UTC" {
			t.Fatalf("%+v %v", sp, err)
		}
	})
}
